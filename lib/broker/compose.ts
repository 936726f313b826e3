// The composition root: every part of the broker built from Config at cold start, or handed in ready by a test.
import { AltinnExchange } from "../altinn/exchange.ts";
import { AuditTrail } from "../audit/index.ts";
import { RefusalMemory, TokenCache } from "../cache/index.ts";
import { ConfigError } from "../config/config-error.ts";
import type { Config } from "../config/index.ts";
import { administrationGrants, loadPolicy, type Policy } from "../policy/index.ts";
import type { UpstreamRejected } from "../problem/index.ts";
import { loadPidPseudonymizer, type PidPseudonymizer } from "../pseudonym/pseudonym-key.ts";
import { repeatingParser } from "../request/index.ts";
import type { SignerDeps } from "../signer/index.ts";
import { type Alarm, timerAlarm } from "../upstream/deadline.ts";
import type { UpstreamDeps } from "../upstream/retry.ts";
import type { Broker } from "./call.ts";
import { BrokerClients, type ClientParts } from "./clients.ts";
import { PrincipalBudgets } from "./grant-budget.ts";
import type { BrokerParts } from "./parts.ts";
import { PidPseudonyms } from "./pid-pseudonyms.ts";
import { TokenPipeline } from "./pipeline.ts";
import type { Minted } from "./token-record.ts";

/**
 * The world a broker meets besides Config: clocks, transport, where records go, SDK clients. Production passes
 * its audit trail (functions/default-broker.ts) and takes the defaults of the rest.
 */
export interface BrokerDeps {
  /** fetch, wall clock, jti and retry timing for the upstream clients. */
  upstream?: Omit<UpstreamDeps, "monotonic" | "onClockSkew">;
  monotonic?: () => number;
  alarm?: Alarm;
  /** Where audit records and diagnostics go: the container's one trail. */
  audit?: AuditTrail;
  /** SDK clients and clock for the signers the broker creates (their warnings go to the audit trail's logger). */
  signerDeps?: Omit<SignerDeps, "log">;
}

/** Parts a test hands in ready-made: each one given is used instead of the one Config names. */
export interface PrebuiltParts extends ClientParts {
  /** The pid pseudonym key named by PID_PSEUDONYM_KEY. */
  readonly pseudonymizer: PidPseudonymizer;
}

/** Builds every part from Config (policy validated, every client's key loaded), then the broker over them. */
export async function createBroker(
  config: Config,
  deps: BrokerDeps = {},
  prebuilt: Partial<PrebuiltParts> = {},
): Promise<Broker> {
  return new TokenPipeline(await brokerParts(config, deps, prebuilt));
}

async function brokerParts(
  config: Config,
  deps: BrokerDeps,
  prebuilt: Partial<PrebuiltParts>,
): Promise<BrokerParts> {
  const monotonic = deps.monotonic ?? (() => performance.now());
  const audit = deps.audit ?? new AuditTrail();
  const upstream: UpstreamDeps = { ...deps.upstream, monotonic };
  const [policy, clients, pseudonymizer] = await Promise.all([
    loadPolicy(
      config.policy,
      config.clients.map((client) => client.name),
    ),
    BrokerClients.load(
      config,
      {
        signerDeps: { ...deps.signerDeps, log: ({ event, ...failure }) => audit.warn(event, failure) },
        upstream: { ...upstream, onClockSkew: (skewMs) => audit.clockSkew(skewMs) },
      },
      prebuilt,
    ),
    prebuilt.pseudonymizer ??
      (config.pidPseudonymKey === undefined ? undefined : loadPidPseudonymizer(config.pidPseudonymKey)),
  ]);
  checkPolicy(policy, pseudonymizer, audit);
  const { maxEntries, refreshAheadSeconds, refusalSeconds } = config.cache;
  return {
    parseRequest: repeatingParser({ environment: config.maskinporten.env }),
    clients,
    policy,
    pseudonyms: new PidPseudonyms(pseudonymizer, { maxEntries, monotonic }),
    cache: new TokenCache<Minted>({
      maxEntries,
      refreshAheadSeconds,
      monotonic,
      // Already audited as token_refreshed by the refresh itself; the served token stays valid.
      onRefreshError: () => undefined,
    }),
    refusals: new RefusalMemory<UpstreamRejected>({ seconds: refusalSeconds, maxEntries, monotonic }),
    budgets: new PrincipalBudgets({ perMinute: config.grantsPerPrincipalPerMinute, monotonic }),
    exchange: new AltinnExchange(
      { url: config.altinn.exchangeUrl, timeoutMs: config.upstreamTimeoutMs },
      upstream,
    ),
    audit,
    monotonic,
    alarm: deps.alarm ?? timerAlarm,
  };
}

/**
 * Once per cold start: a security reviewer should see every rule that hands out the client's own administration,
 * and a rule that allows pid (or a consent, whose `from` may be a pid) needs the key its pseudonym is made with.
 */
function checkPolicy(policy: Policy, pseudonymizer: PidPseudonymizer | undefined, audit: AuditTrail): void {
  const administration = administrationGrants(policy);
  if (administration.length > 0) audit.warn("policy_grants_administration_scopes", { rules: administration });
  const pidRule = policy.rules.findIndex((rule) => rule.pid || rule.consent);
  if (pidRule >= 0 && pseudonymizer === undefined) {
    const allows = policy.rules[pidRule]?.pid === true ? "pid" : "consent";
    throw new ConfigError(
      `PID_PSEUDONYM_KEY: required because policy rules[${pidRule}] allows ${allows} (audit records carry the pseudonym of a pid)`,
    );
  }
}
