// Property, through the token handler: whatever request body and session name a caller sends with a pid in it, in
// any digit script or encoding, and whatever Maskinporten quotes back, no answer, header or log line holds the pid.

import type { APIGatewayProxyEvent } from "aws-lambda";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CallerIdentity } from "../../dev/api-gateway-event.ts";
import {
  ACCOUNT,
  type ControlledBroker,
  roleCaller,
  startPidBroker,
  tokenEvent,
} from "../support/broker-fixture.ts";
import { captureOutput } from "../support/output.ts";
import { pidOf } from "../support/pid.ts";

const POLICY = {
  rules: [
    { principal: `arn:aws:iam::${ACCOUNT}:role/payroll-*`, scopes: ["skatteetaten:*", "bench:*"] },
    {
      principal: `arn:aws:iam::${ACCOUNT}:role/person-svc`,
      scopes: ["skatteetaten:inntektsmottak"],
      pid: true,
    },
    {
      principal: `arn:aws:iam::${ACCOUNT}:role/bank-svc`,
      scopes: ["skatteetaten:inntektsmottak"],
      consent: true,
    },
  ],
};

/** The zero of each digit script the pids are written in: ASCII, fullwidth, Arabic-Indic (two), Devanagari, Bengali, Thai, mathematical bold and monospace. */
const ZEROS = [0x30, 0xff10, 0x0660, 0x06f0, 0x0966, 0x09e6, 0x0e50, 0x1d7ce, 0x1d7f6];

/** Every digit of a script in ZEROS as its ASCII digit: how a reader reads the number. */
function asciiDigits(text: string): string {
  return text.replace(/\p{Nd}/gu, (digit) => {
    const point = digit.codePointAt(0) ?? 0;
    const zero = ZEROS.find((z) => point >= z && point < z + 10);
    return zero === undefined ? digit : String(point - zero);
  });
}

/** Every way `text` can be read back: as written (digits to ASCII, invisible characters and percent-encoding undone), and every base64 run decoded. */
function readings(text: string): string[] {
  const plain = asciiDigits(
    text.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) =>
      Buffer.from(run.replaceAll("%", ""), "hex").toString("utf8"),
    ),
  ).replace(/\p{Cf}/gu, "");
  const decoded = [...plain.matchAll(/[A-Za-z0-9_+/-]{4,}/g)].flatMap(([run]) =>
    [0, 1, 2, 3].map((offset) =>
      Buffer.from(run.slice(offset).replace(/\+/g, "-").replace(/\//g, "_"), "base64url").toString("latin1"),
    ),
  );
  return [plain, ...decoded];
}

const holdsPid = (text: string, pid: string): boolean =>
  readings(text).some((reading) => reading.includes(pid));

/** An 11-digit number: a valid pid or D-number, or any 11 digits (a mistyped pid is still personal data). */
const pidArb = fc.oneof(
  fc
    .tuple(
      fc.integer({ min: 1, max: 28 }),
      fc.integer({ min: 1, max: 12 }),
      fc.nat(99),
      fc.nat(999),
      fc.boolean(),
    )
    .map(([day, month, year, individual, d]) => pidOf(day + (d ? 40 : 0), month, year, individual))
    .filter((pid): pid is string => pid !== undefined),
  fc.stringMatching(/^\d{11}$/),
);

interface Writing {
  /** One script for all digits, or a script per digit. */
  zeros: number[];
  /** A zero-width space or joiner after some digits. */
  invisible: boolean[];
}

const writingArb: fc.Arbitrary<Writing> = fc.record({
  zeros: fc.oneof(
    fc.constantFrom(...ZEROS).map((zero) => Array(11).fill(zero) as number[]),
    fc.array(fc.constantFrom(...ZEROS), { minLength: 11, maxLength: 11 }),
  ),
  invisible: fc.oneof(
    fc.constant(Array(11).fill(false) as boolean[]),
    fc.array(fc.boolean(), { minLength: 11, maxLength: 11 }),
  ),
});

function written(pid: string, writing: Writing): string {
  return [...pid]
    .map(
      (d, i) =>
        `${String.fromCodePoint((writing.zeros[i] ?? 0x30) + Number(d))}${writing.invisible[i] ? "\u200b" : ""}`,
    )
    .join("");
}

const PLACES = [
  "scope-token",
  "scope-quoted",
  "resource-path",
  "resource-percent",
  "resource-query",
  "field-name",
  "field-value",
  "client",
  "consumer_org",
  "systemuser_org",
  "min_ttl",
  "exchange",
  "pid",
  "external_ref",
  "onbehalfof",
  "consent-id",
  "consent-from",
  "malformed",
] as const;
/** The places a rule allows with a pid in them: its own caller. */
const CALLER: Partial<Record<Place, string>> = {
  pid: "person-svc",
  "consent-id": "bank-svc",
  "consent-from": "bank-svc",
};
type Place = (typeof PLACES)[number];

/** A request body with the pid (written as `text`) in `place`, as raw JSON text. */
function bodyWith(place: Place, text: string, pid: string): string {
  const base = { scope: "skatteetaten:inntektsmottak" };
  const percent = [...new TextEncoder().encode(text)]
    .map((b) => `%${b.toString(16).padStart(2, "0")}`)
    .join("");
  const bodies: Record<Place, unknown> = {
    "scope-token": { scope: `skatteetaten:mva skatteetaten:${text}` },
    "scope-quoted": { scope: `skatteetaten:"${text}` },
    "resource-path": { ...base, resource: `https://api.example.no/people/${text}` },
    "resource-percent": {
      ...base,
      resource: [`https://api.example.no/`, `https://api.example.no/p/${percent}`],
    },
    "resource-query": { ...base, resource: `https://api.example.no/?id=${text}` },
    "field-name": { ...base, [text]: 1 },
    "field-value": { ...base, note: text },
    client: { ...base, client: text },
    consumer_org: { ...base, consumer_org: text },
    systemuser_org: { ...base, systemuser_org: text },
    min_ttl: { ...base, min_ttl: text },
    exchange: { ...base, exchange: text },
    pid: { ...base, pid: text === pid ? pid : text },
    external_ref: { ...base, systemuser_org: "974760673", systemuser_external_ref: `ref-${text}` },
    onbehalfof: { ...base, onbehalfof: text },
    // A UUID whose last group holds the pid, and a consent from the person.
    "consent-id": { ...base, consent: { id: `77ed8698-e619-4066-9eb4-${text}0`, from: "991825827" } },
    "consent-from": { ...base, consent: { id: "77ed8698-e619-4066-9eb4-5c1eb3f165a1", from: text } },
    malformed: `{"scope":"${text}`,
  };
  const body = bodies[place];
  return typeof body === "string" ? body : JSON.stringify(body);
}

/** JSON text with every non-ASCII UTF-16 unit written as a `\u` escape (surrogate pairs as two), as some clients send it. */
const escaped = (json: string): string =>
  json.replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);

const b64 = (text: string): string => Buffer.from(text).toString("base64url");

const QUOTES = ["plain", "grant", "claims", "base64", "form", "hex"] as const;

/** An upstream error_description that quotes the pid back (written as `text`) in the way `how` says. */
function quotedBack(how: (typeof QUOTES)[number], pid: string, text: string): string {
  const grant = `${b64('{"alg":"RS256","kid":"k1"}')}.${b64(JSON.stringify({ scope: "bench:x", pid }))}.${b64("sig".repeat(20))}`;
  const quotes = {
    plain: `MP-301 authorization_details invalid for ${text}`,
    grant: `MP-124 Invalid assertion '${grant}'`,
    claims: `MP-011 claims ${b64(`{"pid":"${pid}"}`)} refused`,
    base64: `pid ${Buffer.from(pid).toString("base64")} unknown`,
    form: `body assertion=${encodeURIComponent(grant)}&pid=${encodeURIComponent(text)}`,
    hex: `ref ${Buffer.from(pid).toString("hex")}`,
  };
  return quotes[how];
}

let fixture: ControlledBroker;
let run = 0;

beforeAll(async () => {
  fixture = await startPidBroker(POLICY);
});
afterAll(() => fixture.close());

/** The answer (headers, and the body without the token, which may carry the pid for a pid request) and every line logged. */
async function everythingTold(event: APIGatewayProxyEvent): Promise<string[]> {
  const output = captureOutput();
  try {
    const response = await fixture.call(event);
    const { access_token: _token, ...body } = JSON.parse(response.body) as Record<string, unknown>;
    return [JSON.stringify(response.headers), JSON.stringify(body), ...output.lines];
  } finally {
    output.restore();
  }
}

describe("no pid is echoed", () => {
  it("for random request bodies, session names and upstream quotes holding a pid in any script or encoding, no answer, header or log line holds it", async () => {
    await fc.assert(
      fc.asyncProperty(
        pidArb,
        writingArb,
        fc.constantFrom(...PLACES),
        fc.boolean(),
        fc.constantFrom("plain", "session", "federated"),
        fc.constantFrom(...QUOTES),
        async (pid, writing, place, escapeJson, caller, quote) => {
          const text = written(pid, writing);
          const role = CALLER[place] ?? "payroll-svc";
          const identity: CallerIdentity =
            caller === "plain"
              ? roleCaller(role)
              : caller === "session"
                ? roleCaller(role, `run-${text}`)
                : { ...roleCaller(role), userArn: `arn:aws:sts::${ACCOUNT}:federated-user/${text}` };
          const raw = bodyWith(place, text, pid);
          const told = await everythingTold(
            tokenEvent(undefined, { raw: escapeJson ? escaped(raw) : raw, identity }),
          );
          // Then a valid request (its own scope, so nothing cached answers it) that Maskinporten refuses, quoting
          // the pid back.
          fixture.emulator.injectFault({
            type: "status",
            status: 400,
            body: JSON.stringify({
              error: "invalid_request",
              error_description: quotedBack(quote, pid, text),
            }),
          });
          run++;
          const refused = await everythingTold(tokenEvent({ scope: `bench:property-${run}` }));
          expect(refused[1]).toContain('"upstream_error":"invalid_request"');
          told.push(...refused);
          for (const line of told) expect(holdsPid(line, pid), line).toBe(false);
        },
      ),
      { numRuns: 80 },
    );
    // The oracle reads what the broker would leak: a pid in each of those forms is found.
    const pid = "17058510068";
    for (const form of [
      pid,
      written(pid, { zeros: Array(11).fill(0xff10), invisible: Array(11).fill(true) }),
      b64(`{"pid":"${pid}"}`),
      `%3${[...pid].join("%3")}`,
    ]) {
      expect(holdsPid(`x ${form} y`, pid), form).toBe(true);
    }
  });
});
