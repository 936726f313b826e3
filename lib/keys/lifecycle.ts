// One client's key lifecycle: status, renew, rotate and retire, each a read of the set, a pure change, a post.
import { setTimeout as delay } from "node:timers/promises";
import { UpstreamRejected } from "../problem/index.ts";
import type { PublicJwk, Signer } from "../signer/signer.ts";
import { postable, type RegisteredJwk, type SelfServiceApi } from "./admin-api.ts";
import { KeySetRefusal } from "./errors.ts";
import { renewed, withAdded, without } from "./key-set.ts";
import { changeKeySet, type SetPlan, type WaitOptions } from "./set-change.ts";
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
  now?: (() => number) | undefined;
  sleep?: ((ms: number) => Promise<void>) | undefined;
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
    const target = kid ?? (await this.signingKid());
    const change = await this.change(async (set) => {
      const before = await this.statusOf(set);
      if (kid === undefined && !before.registered) {
        throw new KeySetRefusal(
          `${before.reason}; register it with: npm run keys -- rotate --to <its SIGNING_KEY> --kid ${target}`,
        );
      }
      return renewed(set, target);
    });
    return {
      kid: target,
      before: await this.statusOf(change.before),
      after: await this.statusOf(change.after),
    };
  }

  /** Registers `jwk` beside the registered keys (never past 5) and waits until a read of the set shows it. */
  async rotate(publicJwk: PublicJwk, wait: WaitOptions = {}): Promise<Rotation> {
    const jwk = postable(publicJwk);
    const change = await this.change(async (set) => {
      const addition = withAdded(set, jwk);
      return addition.kind === "present" ? undefined : addition.keys;
    }, wait);
    return { kid: jwk.kid, added: change.posted, status: await this.statusOf(change.after) };
  }

  /** Removes `kid` from the set, never the key the broker signs with (DELETE when it was the last one). */
  async retire(kid: string): Promise<KeyStatus> {
    const change = await this.change(async (set) => without(set, kid, await this.signingKid()));
    return this.statusOf(change.after);
  }

  private change(plan: SetPlan, wait: WaitOptions = {}) {
    return changeKeySet(this.api, this.client.clientId, plan, { now: this.now, sleep: this.sleep }, wait);
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
}
