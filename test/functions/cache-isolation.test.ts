// Cache isolation, proven through the token handler: two requests share a token exactly when their canonical
// requests are equal, and every token's claims (as the emulator issued them) fit the request it was given for.
import fc from "fast-check";
import { decodeJwt, type JWTPayload } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isOrgNumber } from "../../lib/request/index.ts";
import { FileSigner } from "../../lib/signer/file.ts";
import {
  ACCOUNT,
  type BrokerFixture,
  fixtureHandler,
  invoke,
  roleCaller,
  startBrokerFixture,
} from "../support/broker-fixture.ts";
import { PID_A, PID_B } from "../support/pid.ts";
import { keyDirectory, keyFileText, newKey } from "../support/signer.ts";

const SCOPES = ["iso:a", "iso:b", "iso:c", "iso:d"];
const RESOURCES = ["https://a.example/api", "https://b.example/api", "https://c.example/v1?x=1"];
/** Valid organisation numbers other than the broker client's own. */
const ORGS = Array.from({ length: 200 }, (_, i) => String(310_000_000 + i))
  .filter(isOrgNumber)
  .slice(0, 3);
const CLIENT_ORG = "974760673";
const caller = roleCaller("isolation-svc");
/** The configured clients' names and Maskinporten client ids. */
const CLIENT_IDS: Readonly<Record<string, string>> = { default: "broker-client", second: "broker-client-2" };

/**
 * One request field: its values (undefined = left out), its canonical form, and what the issued token must say
 * about it. A new request field is one more entry here; the generator, the comparison and the claim check
 * follow from the list.
 */
interface Field {
  name: string;
  values: fc.Arbitrary<unknown>;
  canonical(value: unknown): unknown;
  /** Checks a Maskinporten token's claims. */
  fits(claims: JWTPayload, value: unknown): void;
  /** Checks an Altinn token's claims, where Altinn's token carries the field at all. */
  fitsAltinn?(claims: JWTPayload, value: unknown): void;
}

const sortedSet = (values: readonly string[]) => [...new Set(values)].sort();
const party = (org: string) => ({ authority: "iso6523-actorid-upis", ID: `0192:${org}` });

const FIELDS: readonly Field[] = [
  {
    name: "scope",
    // A scope set, sent in any order with repeats.
    values: fc
      .uniqueArray(fc.constantFrom(...SCOPES), { minLength: 1, maxLength: SCOPES.length })
      .chain((set) => fc.shuffledSubarray([...set, ...set], { minLength: set.length }).map((s) => [set, s]))
      .map(([set, sent]) => [...new Set([...(sent ?? []), ...(set ?? [])])].join(" ")),
    canonical: (value) => sortedSet(String(value).split(" ")),
    fits: (claims, value) =>
      expect(sortedSet(String(claims.scope).split(" "))).toEqual(sortedSet(String(value).split(" "))),
    fitsAltinn: (claims, value) =>
      expect(sortedSet(String(claims.scope).split(" "))).toEqual(sortedSet(String(value).split(" "))),
  },
  {
    name: "resource",
    values: fc.option(
      fc.oneof(
        fc.constantFrom(...RESOURCES),
        fc.array(fc.constantFrom(...RESOURCES), { minLength: 1, maxLength: 4 }),
      ),
      { nil: undefined },
    ),
    canonical: (value) => (value === undefined ? null : sortedSet([value as string | string[]].flat())),
    fits: (claims, value) => {
      if (value === undefined) expect(claims.aud).toBeUndefined();
      else
        expect(sortedSet([claims.aud as string | string[]].flat())).toEqual(
          sortedSet([value as string].flat()),
        );
    },
  },
  {
    name: "consumer_org",
    values: fc.option(fc.constantFrom(...ORGS), { nil: undefined }),
    canonical: (value) => value ?? null,
    fits: (claims, value) => {
      expect(claims.consumer).toEqual(party(value === undefined ? CLIENT_ORG : String(value)));
      if (value === undefined) expect(claims.supplier).toBeUndefined();
      else expect(claims.supplier).toEqual(party(CLIENT_ORG));
    },
    fitsAltinn: (claims, value) =>
      expect(claims["urn:altinn:orgNumber"]).toBe(value === undefined ? CLIENT_ORG : String(value)),
  },
  {
    name: "systemuser_org",
    values: fc.option(fc.constantFrom(...ORGS), { nil: undefined }),
    canonical: (value) => value ?? null,
    fits: (claims, value) => {
      const details = claims.authorization_details as { systemuser_org: unknown }[] | undefined;
      if (value === undefined) expect(details).toBeUndefined();
      else expect(details?.map((d) => d.systemuser_org)).toEqual([party(String(value))]);
    },
  },
  {
    name: "client",
    // Two clients are configured, each with its own client id and key: a request names one of them.
    values: fc.constantFrom(...Object.keys(CLIENT_IDS)),
    canonical: (value) => value,
    fits: (claims, value) => expect(claims.client_id).toBe(CLIENT_IDS[String(value)]),
    fitsAltinn: (claims, value) => expect(claims.client_id).toBe(CLIENT_IDS[String(value)]),
  },
  {
    name: "pid",
    values: fc.option(fc.constantFrom(PID_A, PID_B), { nil: undefined }),
    canonical: (value) => value ?? null,
    fits: (claims, value) => expect(claims.pid).toBe(value),
  },
  {
    name: "exchange",
    values: fc.option(fc.constant("altinn"), { nil: undefined }),
    canonical: (value) => value ?? null,
    // A Maskinporten token is issued by Maskinporten (the emulator), an exchanged one by Altinn.
    fits: (claims) => expect(claims.iss).toBe(fixture.emulator.issuer),
    fitsAltinn: (claims) => expect(String(claims.iss)).toMatch(/altinn/),
  },
];

type Body = Record<string, unknown>;

/** A body from every field; consumer_org and systemuser_org exclude each other, so one of them is dropped. */
const bodies: fc.Arbitrary<Body> = fc
  .tuple(...FIELDS.map((field) => field.values), fc.boolean())
  .map((values) => {
    const body: Body = {};
    FIELDS.forEach((field, i) => {
      if (values[i] !== undefined) body[field.name] = values[i];
    });
    if (body.consumer_org !== undefined && body.systemuser_org !== undefined) {
      delete body[values.at(-1) === true ? "consumer_org" : "systemuser_org"];
    }
    return body;
  });

const canonical = (body: Body): string =>
  JSON.stringify(FIELDS.map((field) => field.canonical(body[field.name])));

/** The same request written differently: resources reversed with one repeated (still at most 5), scopes reversed. */
function rewritten(body: Body): Body {
  const again: Body = { ...body, scope: String(body.scope).split(" ").reverse().join(" ") };
  if (Array.isArray(body.resource))
    again.resource = [...body.resource].reverse().concat(body.resource.slice(0, 1));
  return again;
}

/** A rule per combination of optional fields: lists are requirements, so each combination needs its own. */
const POLICY = {
  rules: [{}, { resources: ["*"] }].flatMap((resources) =>
    [{}, { consumer_orgs: ["*"] }, { systemuser_orgs: ["*"] }].flatMap((orgs) =>
      [{}, { pid: true }].flatMap((pid) =>
        [{}, { exchanges: ["altinn"] }].map((exchanges) => ({
          principal: `arn:aws:iam::${ACCOUNT}:role/isolation-svc`,
          scopes: ["iso:*"],
          ...resources,
          ...orgs,
          ...pid,
          ...exchanges,
          clients: ["*"],
        })),
      ),
    ),
  ),
};

let fixture: BrokerFixture;
let keys: Awaited<ReturnType<typeof keyDirectory>>;
let pseudonymKey: string;
/** CLIENTS: the fixture's client ("default") and a second one with a key of its own. */
let clients: string;
beforeAll(async () => {
  keys = await keyDirectory();
  pseudonymKey = await keys.write(
    "pid-pseudonym.key",
    "e3b98a4da31a127d4bde6e43033f66ba274cab0eb7eb1c70ec41402bf6273dd8",
  );
  fixture = await startBrokerFixture();
  const secondKey = await keys.write("second.pem", keyFileText(newKey(), "pem"));
  const signers = {
    default: fixture.signer,
    second: await FileSigner.load(secondKey, { alg: "RS256", kid: "second-key" }),
  };
  for (const [name, signer] of Object.entries(signers)) {
    fixture.emulator.registerClient({
      clientId: CLIENT_IDS[name] ?? "",
      orgNumber: CLIENT_ORG,
      jwks: [(await signer.current()).jwk],
      scopes: SCOPES,
      delegations: ORGS.map((consumerOrg) => ({ consumerOrg, scopes: SCOPES })),
      systemUsers: ORGS.map((orgNumber) => ({ orgNumber })),
    });
  }
  clients = JSON.stringify({
    clients: [
      {
        name: "default",
        client_id: CLIENT_IDS.default,
        signing_key: fixture.env.SIGNING_KEY,
        kid: fixture.env.SIGNING_KID,
      },
      { name: "second", client_id: CLIENT_IDS.second, signing_key: `file:${secondKey}`, kid: "second-key" },
    ],
  });
});
afterAll(async () => {
  await fixture.close();
  await keys.remove();
});

describe("cache isolation", () => {
  it("two requests get the same token if and only if their canonical requests are equal, and every token fits its own request, under concurrency", async () => {
    // A clock that stands still: no token ages out or is refreshed while the property runs.
    const handler = fixtureHandler(
      fixture,
      {
        POLICY: JSON.stringify(POLICY),
        PID_PSEUDONYM_KEY: `file:${pseudonymKey}`,
        CLIENTS: clients,
        MASKINPORTEN_CLIENT_ID: "",
        SIGNING_KEY: "",
        SIGNING_KID: "",
      },
      { monotonic: () => 1_000_000, sinks: { write: () => undefined } },
    );
    const tokenOf = new Map<string, string>();
    const requestOf = new Map<string, string>();
    const send = async (body: Body): Promise<string> => {
      const answer = await invoke(handler, body, { identity: caller });
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
      const token = String(answer.body.access_token);
      const claims = decodeJwt(token);
      for (const field of FIELDS) {
        if (body.exchange === undefined) field.fits(claims, body[field.name]);
        else field.fitsAltinn?.(claims, body[field.name]);
      }
      return token;
    };
    await fc.assert(
      fc.asyncProperty(bodies, bodies, fc.boolean(), async (a, other, same) => {
        // Half the pairs are one request written two ways, so equal requests are tried as often as unequal ones.
        const b = same ? rewritten(a) : other;
        const [ta, tb, ta2, tb2] = await Promise.all([send(a), send(b), send(rewritten(a)), send(b)]);
        expect(ta2).toBe(ta);
        expect(tb2).toBe(tb);
        expect(ta === tb).toBe(canonical(a) === canonical(b));
        for (const [body, token] of [
          [a, ta],
          [b, tb],
        ] as const) {
          expect(tokenOf.get(canonical(body)) ?? token).toBe(token);
          expect(requestOf.get(token) ?? canonical(body)).toBe(canonical(body));
          tokenOf.set(canonical(body), token);
          requestOf.set(token, canonical(body));
        }
      }),
      { numRuns: 60 },
    );
    // Every distinct canonical request got its own token, and no token served two of them.
    expect(new Set(tokenOf.values()).size).toBe(tokenOf.size);
    expect(tokenOf.size).toBeGreaterThan(10);
  });
});
