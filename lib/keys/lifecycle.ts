// One client's key lifecycle: status, renew, rotate and retire, each a read of the set, a pure change, a post.
import { setTimeout as delay } from "node:timers/promises";
import { UpstreamRejected } from "../problem/index.ts";
import type { PublicJwk, Signer } from "../signer/signer.ts";
import { postable, type RegisteredJwk, type SelfServiceApi } from "./admin-api.ts";
import { KeySetRefusal, SelfServiceError } from "./errors.ts";
import { renewed, withAdded, without } from "./key-set.ts";
import { type KeyStatus, keyStatus, refusedStatus, refusesOwnKey } from "./status.ts";

/** A configured Maskinporten client, as the key lifecycle needs it. */
export interface ManagedClient {
  /** The broker's name for it ("default" for the single-client variables). */
  name: string;
  clientId: string;
}

export interface KeyLifecycleOptions {
  /** A signing key with fewer days left is reported. */
  warnDays: number;
  /** The admin token is the client's own (signed with the key being watched). */
  selfAdministered: boolean;
}

export interface KeyLifecycleDeps {
  /** Wall clock, epoch ms. */
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export interface Renewal {
  kid: string;
  before: KeyStatus;
  after: KeyStatus;
}

export interface Rotation {
  kid: string;
  /** False when exactly that key was registered already (nothing posted). */
  added: boolean;
  status: KeyStatus;
}

export interface WaitOptions {
  /** How long to wait until GET shows the new key; default 120 s. */
  timeoutMs?: number;
  /** Between two reads; default 5 s. */
  intervalMs?: number;
}

export class KeyLifecycle {
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    readonly client: ManagedClient,
    private readonly api: SelfServiceApi,
    private readonly signer: Signer,
    private readonly options: KeyLifecycleOptions,
    deps: KeyLifecycleDeps = {},
  ) {
    this.now = deps.now ?? Date.now;
    this.sleep = deps.sleep ?? ((ms) => delay(ms));
  }

  /** The registered keys and whether the one the broker signs with is there with `warnDays` left. */
  async status(): Promise<KeyStatus> {
    let set: RegisteredJwk[];
    try {
      set = await this.api.getJwks(this.client.clientId);
    } catch (error) {
      // The client's own grant refused for its key (MP-120/121) answers the question, even though the set is unread.
      if (!(this.options.selfAdministered && error instanceof UpstreamRejected && refusesOwnKey(error)))
        throw error;
      const { header } = await this.signer.current();
      return refusedStatus(
        this.client.clientId,
        "kid" in header ? header.kid : undefined,
        error.upstreamErrorDescription,
      );
    }
    return this.statusOf(set);
  }

  /** Posts the set again with `kid` (default: the signing key) renewed for a year; every other key unchanged. */
  async renew(kid?: string): Promise<Renewal> {
    const set = await this.api.getJwks(this.client.clientId);
    const before = await this.statusOf(set);
    const target = kid ?? (await this.signingKid());
    if (kid === undefined && !before.registered) {
      throw new KeySetRefusal(
        `${before.reason}; register it with: npm run keys -- rotate --to <its SIGNING_KEY> --kid ${target}`,
      );
    }
    const answer = await this.api.postJwks(this.client.clientId, renewed(set, target));
    return { kid: target, before, after: await this.statusOf(answer) };
  }

  /** Registers `jwk` beside the registered keys (never past 5) and waits until a read of the set shows it. */
  async rotate(publicJwk: PublicJwk, wait: WaitOptions = {}): Promise<Rotation> {
    const jwk = postable(publicJwk);
    const set = await this.api.getJwks(this.client.clientId);
    const addition = withAdded(set, jwk);
    if (addition.kind === "present") return { kid: jwk.kid, added: false, status: await this.statusOf(set) };
    await this.api.postJwks(this.client.clientId, addition.keys);
    return { kid: jwk.kid, added: true, status: await this.statusOf(await this.visible(jwk.kid, wait)) };
  }

  /** Removes `kid` from the set, never the key the broker signs with (DELETE when it was the last one). */
  async retire(kid: string): Promise<KeyStatus> {
    const set = await this.api.getJwks(this.client.clientId);
    const rest = without(set, kid, await this.signingKid());
    if (rest.length > 0) return this.statusOf(await this.api.postJwks(this.client.clientId, rest));
    await this.api.deleteJwks(this.client.clientId);
    return this.statusOf([]);
  }

  private async signingKid(): Promise<string> {
    const { header } = await this.signer.current();
    if ("kid" in header) return header.kid;
    throw new KeySetRefusal("the broker signs with a certificate (x5c), not a registered key");
  }

  private async statusOf(registered: readonly RegisteredJwk[]): Promise<KeyStatus> {
    const { header, jwk } = await this.signer.current();
    return keyStatus({
      clientId: this.client.clientId,
      signing: { kid: "kid" in header ? header.kid : undefined, jwk },
      registered,
      now: this.now(),
      warnDays: this.options.warnDays,
    });
  }

  /** Reads the set until it shows `kid`. */
  private async visible(kid: string, wait: WaitOptions): Promise<RegisteredJwk[]> {
    const timeoutMs = wait.timeoutMs ?? 120_000;
    const intervalMs = wait.intervalMs ?? 5000;
    const deadline = this.now() + timeoutMs;
    for (;;) {
      const set = await this.api.getJwks(this.client.clientId);
      if (set.some((k) => k.kid === kid)) return set;
      if (this.now() + intervalMs > deadline) {
        throw new SelfServiceError(
          "admin_unavailable",
          `key ${kid} was posted but the set does not show it after ${Math.round(timeoutMs / 1000)} s; check with npm run keys -- status`,
        );
      }
      await this.sleep(intervalMs);
    }
  }
}
