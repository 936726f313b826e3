// Cache isolation, proven through the token handler: two requests share a token exactly when their canonical
// requests are equal, and every token's claims (as the emulator issued them) fit the request it was given for.
import fc from "fast-check";
import { decodeJwt, type JWTPayload } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuditTrail } from "../../lib/audit/index.ts";
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

/** externalRefs of the system users each organisation in ORGS has besides the one without (found by its org number). */
const EXTERNAL_REFS = ["avd-1", "avd-2"];
const ONBEHALFOFS = ["kunde-1", "kunde-2"];
/** Who may give a consent: two people and an organisation. */
const CONSENT_FROM = [PID_A, PID_B, "974760681"];
/**
 * A consent is given to one organisation: the client's own, or a consumer_org that delegated to it. The id a request
 * names is the one given by `from` to the request's consumer, in one of two variants.
 */
const consentId = (variant: number, from: string, to: string) =>
  `00000000-0000-4000-8000-${String(variant)}${String(CONSENT_FROM.indexOf(from))}${to.padStart(10, "0")}`;
const systemUserId = (ref: string | undefined) => `su-${ref ?? "own"}`;
type Details = { type: string; [claim: string]: unknown }[] | undefined;
const detailsOf = (claims: JWTPayload, type: string) =>
  (claims.authorization_details as Details)?.filter((d) => d.type === type) ?? [];

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
    values: fc.option(fc.constantFrom(...ORGS), { nil: undefined, freq: 1 }),
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
    fits: (claims, value) =>
      expect(detailsOf(claims, "urn:altinn:systemuser").map((d) => d.systemuser_org)).toEqual(
        value === undefined ? [] : [party(String(value))],
      ),
  },
  {
    name: "systemuser_external_ref",
    values: fc.option(fc.constantFrom(...EXTERNAL_REFS), { nil: undefined }),
    canonical: (value) => value ?? null,
    // Maskinporten's token never carries the externalRef: the system user it found tells them apart.
    fits: (claims, value) => {
      const users = detailsOf(claims, "urn:altinn:systemuser");
      if (users.length > 0)
        expect(users.map((d) => d.systemuser_id)).toEqual([[systemUserId(value as string)]]);
      else expect(value).toBeUndefined();
    },
  },
  {
    name: "consent",
    // A variant and who gave it; the id is settled with the body's consumer_org (bodies).
    values: fc.option(fc.record({ variant: fc.constantFrom(0, 1), from: fc.constantFrom(...CONSENT_FROM) }), {
      nil: undefined,
      freq: 1,
    }),
    canonical: (value) => (value === undefined ? null : value),
    fits: (claims, value) => {
      const consent = value as { id: string; from: string } | undefined;
      const urn = (from: string) =>
        `urn:altinn:${from.length === 11 ? "person" : "organization"}:identifier-no:${from}`;
      expect(detailsOf(claims, "urn:altinn:consent").map((d) => [d.id, d.from])).toEqual(
        consent === undefined ? [] : [[consent.id, urn(consent.from)]],
      );
    },
  },
  {
    name: "onbehalfof",
    values: fc.option(fc.constantFrom(...ONBEHALFOFS), { nil: undefined, freq: 1 }),
    canonical: (value) => value ?? null,
    // The token carries no trace of it: the grant the emulator issued it for does.
    fits: (claims, value) =>
      expect(fixture.emulator.grantBehind(String(claims.jti))?.iss_onbehalfof).toBe(value),
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
    values: fc.option(fc.constantFrom(PID_A, PID_B), { nil: undefined, freq: 1 }),
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

/** Fields a request carries at most one of: one of each pair is dropped, as a coin decides. */
const EXCLUSIVE = [
  ["consumer_org", "systemuser_org"],
  ["consumer_org", "onbehalfof"],
  ["consent", "systemuser_org"],
  ["consent", "pid"],
] as const;

/** One value (or none) per field, and a coin per exclusive pair. */
type Draw = { values: unknown[]; coins: boolean[] };
const draws: fc.Arbitrary<Draw> = fc.record({
  values: fc.tuple(...FIELDS.map((field) => field.values)),
  coins: fc.array(fc.boolean(), { minLength: EXCLUSIVE.length, maxLength: EXCLUSIVE.length }),
});

/** The body of a draw, without the combinations the broker refuses (a 400, not a token). */
function bodyOf({ values, coins }: Draw): Body {
  const body: Body = {};
  FIELDS.forEach((field, i) => {
    if (values[i] !== undefined) body[field.name] = values[i];
  });
  EXCLUSIVE.forEach(([a, b], i) => {
    if (body[a] !== undefined && body[b] !== undefined) delete body[coins[i] === true ? a : b];
  });
  if (body.systemuser_org === undefined) delete body.systemuser_external_ref;
  if (body.consent !== undefined) {
    const { variant, from } = body.consent as { variant: number; from: string };
    body.consent = { id: consentId(variant, from, String(body.consumer_org ?? CLIENT_ORG)), from };
  }
  return body;
}

/** A draw with field `index` taken from `other`: a request that differs from the first in one field at most. */
const neighbour = (draw: Draw, other: Draw, index: number): Draw => ({
  values: draw.values.map((value, i) => (i === index ? other.values[i] : value)),
  coins: draw.coins,
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

/** Every combination of a list of alternatives, each combination merged into one object. */
const combinations = (...choices: Record<string, unknown>[][]): Record<string, unknown>[] =>
  choices.reduce<Record<string, unknown>[]>(
    (rules, alternatives) => rules.flatMap((rule) => alternatives.map((choice) => ({ ...rule, ...choice }))),
    [{}],
  );

/** A rule per combination of optional fields: lists are requirements, so each combination needs its own. */
const POLICY = {
  rules: combinations(
    [{}, { resources: ["*"] }],
    [
      {},
      { consumer_orgs: ["*"] },
      { systemuser_orgs: ["*"] },
      { systemuser_orgs: ["*"], systemuser_external_refs: ["*"] },
    ],
    [{}, { pid: true }, { consent: true }],
    [{}, { onbehalfofs: ["*"] }],
    [{}, { exchanges: ["altinn"] }],
  ).map((fields) => ({
    principal: `arn:aws:iam::${ACCOUNT}:role/isolation-svc`,
    scopes: ["iso:*"],
    ...fields,
    clients: ["*"],
  })),
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
      systemUsers: ORGS.flatMap((orgNumber) =>
        [undefined, ...EXTERNAL_REFS].map((externalRef) => ({
          orgNumber,
          id: systemUserId(externalRef),
          ...(externalRef === undefined ? {} : { externalRef }),
        })),
      ),
      consents: [0, 1].flatMap((variant) =>
        CONSENT_FROM.flatMap((from) =>
          [CLIENT_ORG, ...ORGS].map((to) => ({
            id: consentId(variant, from, to),
            from,
            to,
            scopes: SCOPES,
            validTo: "2099-01-01T00:00:00Z",
            resource: "isolation",
          })),
        ),
      ),
      onbehalfof: ONBEHALFOFS,
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
      { monotonic: () => 1_000_000, audit: new AuditTrail({ write: () => undefined }) },
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
      fc.asyncProperty(
        draws,
        draws,
        fc.nat(FIELDS.length - 1),
        fc.nat(2),
        async (first, second, field, kind) => {
          // A third of the pairs are one request written two ways, a third differ in one field at most, a third in
          // any: equal requests are tried as often as unequal ones, and each field alone tells two requests apart.
          const a = bodyOf(first);
          const near = bodyOf(neighbour(first, second, field));
          const b = [rewritten(a), near, near, bodyOf(second)][kind] as Body;
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
        },
      ),
      { numRuns: 150 },
    );
    // Every distinct canonical request got its own token, and no token served two of them.
    expect(new Set(tokenOf.values()).size).toBe(tokenOf.size);
    expect(tokenOf.size).toBeGreaterThan(10);
  });
});
