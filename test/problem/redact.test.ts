import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  DIGITS_MASK,
  holdsDigitRun,
  maskDigitRuns,
  quoted,
  shownArn,
  upstreamText,
} from "../../lib/problem/index.ts";

const PID = "17058510068";
const inScript = (digits: string, zero: number): string =>
  [...digits].map((d) => String.fromCodePoint(zero + Number(d))).join("");
const b64 = (text: string): string => Buffer.from(text).toString("base64url");

describe("masking caller text", () => {
  it("masks a run of 11 or more digits of any script, mixed scripts and invisible characters included", () => {
    for (const zero of [0x30, 0xff10, 0x0660, 0x06f0, 0x0966, 0x0e50, 0x1d7ce]) {
      expect(maskDigitRuns(`a${inScript(PID, zero)}b`)).toBe(`a${DIGITS_MASK}b`);
    }
    const mixed = `${inScript(PID.slice(0, 5), 0xff10)}\u200b${inScript(PID.slice(5), 0x0660)}`;
    expect(maskDigitRuns(mixed)).toBe(DIGITS_MASK);
    expect(maskDigitRuns(`${PID}9`)).toBe(DIGITS_MASK);
  });

  it("leaves 10 digits, and digits a space or a letter splits, as they are", () => {
    expect(maskDigitRuns("1705851006")).toBe("1705851006");
    expect(maskDigitRuns("17058 510068")).toBe("17058 510068");
    expect(holdsDigitRun("1705851006x8")).toBe(false);
  });

  it("finds a run that is percent-encoded, and then quotes nothing of the value", () => {
    const encoded = [...PID].map((d) => `%3${d}`).join("");
    expect(holdsDigitRun(`https://x.no/${encoded}`)).toBe(true);
    expect(holdsDigitRun(`%EF%BC%91${inScript(PID.slice(1), 0xff10)}`)).toBe(true);
    expect(quoted(`x${encoded}`, 100)).toBe(JSON.stringify(DIGITS_MASK));
    expect(quoted("x".repeat(200), 100)).toBe(JSON.stringify("x".repeat(100)));
  });

  it("masks a caller-chosen name in an ARN, never its 12-digit account", () => {
    expect(shownArn(`arn:aws:sts::111122223333:federated-user/${PID}`)).toBe(
      "arn:aws:sts::111122223333:federated-user/[pid]",
    );
    expect(shownArn("arn:aws:iam::111122223333:role/payroll-svc")).toBe(
      "arn:aws:iam::111122223333:role/payroll-svc",
    );
    expect(shownArn(`not-an-arn-${PID}`)).toBe("not-an-arn-[pid]");
    // Five fields are no ARN: all of it is masked, the "account" too.
    expect(shownArn("arn:aws:iam::111122223333")).toBe("arn:aws:iam::[pid]");
    // A resource part with its own colons is masked as a whole.
    expect(shownArn(`arn:aws:iam::111122223333:role:${PID}:x`)).toBe(
      "arn:aws:iam::111122223333:role:[pid]:x",
    );
  });

  it("property: ASCII text is masked and tested as the Unicode-wide pattern would", () => {
    const ascii = fc.array(
      fc.oneof(fc.stringMatching(/^[0-9]{9,13}$/), fc.constantFrom("a", " ", "%", ":", "\u0000", "\u007f")),
      { maxLength: 8 },
    );
    fc.assert(
      fc.property(ascii, (chars) => {
        const text = chars.join("");
        expect(maskDigitRuns(text)).toBe(text.replace(/\p{N}(?:\p{Cf}*\p{N}){10,}/gu, DIGITS_MASK));
        expect(holdsDigitRun(text)).toBe(/\p{N}(?:\p{Cf}*\p{N}){10}/u.test(text));
      }),
    );
  });

  it("property: no masked text holds a run of 11 digits, and text without one is unchanged", () => {
    const digit = fc
      .integer({ min: 0, max: 9 })
      .chain((d) =>
        fc.constantFrom(0x30, 0xff10, 0x0660, 0x1d7ce).map((zero) => String.fromCodePoint(zero + d)),
      );
    const piece = fc.oneof(
      fc.string(),
      fc.array(digit, { minLength: 1, maxLength: 14 }).map((ds) => ds.join("")),
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 6 }), (pieces) => {
        const text = pieces.join("");
        const masked = maskDigitRuns(text);
        expect(holdsDigitRun(masked.replaceAll(DIGITS_MASK, " "))).toBe(false);
        if (!holdsDigitRun(text)) expect(masked).toBe(text);
      }),
    );
  });
});

describe("upstream text", () => {
  it("removes a quoted grant and an encoded claim, masks digits, keeps Digdir's code and plain words", () => {
    const grant = `${b64('{"alg":"RS256"}')}.${b64(`{"pid":"${PID}"}`)}.${b64("s".repeat(40))}`;
    expect(
      upstreamText(
        `MP-124 invalid_altinn_customer_configuration: grant ${grant} pid ${PID} claims ${b64(PID)}`,
        500,
      ),
    ).toBe("MP-124 invalid_altinn_customer_configuration: grant [removed] pid [pid] claims [removed]");
    expect(upstreamText(`MP-303${b64(`{"pid":"${PID}"}`)}`, 500)).toBe("MP-303[removed]");
    expect(upstreamText("Scope nav:aareg/v1/arbeidsforhold is not on client", 500)).toBe(
      "Scope nav:aareg/v1/arbeidsforhold is not on client",
    );
  });

  it("decodes percent-encoding and drops invisible characters before it looks", () => {
    expect(upstreamText(`pid=${[...PID].map((d) => `%3${d}`).join("")}`, 500)).toBe("pid=[pid]");
    expect(upstreamText(`${PID.slice(0, 4)}\u200b${PID.slice(4)}\nnext`, 500)).toBe("[pid] next");
    expect(upstreamText("x".repeat(600), 500)).toHaveLength(500);
  });

  it("property: an upstream text never relays a base64url or base64 encoding of a pid", () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.nat(2), (before, after, shift) => {
        const encoded = Buffer.from(`${"x".repeat(shift)}${PID}`).toString(
          shift === 1 ? "base64" : "base64url",
        );
        const relayed = upstreamText(`${before} ${encoded} ${after}`, 5000);
        expect(relayed).not.toContain(encoded.slice(Math.ceil((shift * 4) / 3)));
        expect(relayed).not.toContain(PID);
      }),
    );
  });
});
