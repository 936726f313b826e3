// Posts a change of a client's key set safely: the API has no conditional write, so read twice, post, then check.
import { ADMIN_SCOPES } from "../policy/admin-scope.ts";
import type { RegisteredJwk, SelfServiceApi } from "./admin-api.ts";
import { KeySetChanged, SelfServiceError } from "./errors.ts";

/** Tries of a change whose set changed between the read it was planned on and the read just before posting. */
export const CHANGE_TRIES = 3;
/** Between two tries: long enough for the other writer's post to land. */
const RETRY_MS = 1000;

export interface WaitOptions {
  /** How long to wait until a read shows the change; default 120 s. */
  timeoutMs?: number;
  /** Between two reads; default 5 s. */
  intervalMs?: number;
}

export interface SetChangeClock {
  /** Wall clock, epoch ms. */
  now(): number;
  sleep(ms: number): Promise<void>;
}

/** The set to post for the set as read (may refuse with KeySetRefusal); undefined when there is nothing to post. */
export type SetPlan = (set: readonly RegisteredJwk[]) => Promise<RegisteredJwk[] | undefined>;

export interface SetChangeResult {
  /** The set the posted change was planned on. */
  before: RegisteredJwk[];
  /** A read of the set that shows the change (the set as read when nothing was posted). */
  after: RegisteredJwk[];
  posted: boolean;
}

const kidsOf = (set: readonly RegisteredJwk[]) => new Set(set.map((key) => key.kid));
const sameSet = (a: readonly RegisteredJwk[], b: readonly RegisteredJwk[]) =>
  JSON.stringify(a) === JSON.stringify(b);

/**
 * Plans on a read of the set and posts only if a second read, just before the post, still shows the same set (else
 * plans again on the new one). A writer that posts between that read and the post (one round trip) can still be
 * overwritten; the check after the post catches the other way round: a key this change kept that is gone.
 */
export async function changeKeySet(
  api: SelfServiceApi,
  clientId: string,
  plan: SetPlan,
  clock: SetChangeClock,
  wait: WaitOptions = {},
): Promise<SetChangeResult> {
  for (let tried = 1; ; tried++) {
    const set = await api.getJwks(clientId);
    const next = await plan(set);
    if (next === undefined) return { before: set, after: set, posted: false };
    // Minted now, so the write token's round trips do not widen the window between the second read and the post.
    await api.authorize(ADMIN_SCOPES.write);
    if (sameSet(set, await api.getJwks(clientId))) {
      if (next.length > 0) await api.postJwks(clientId, next);
      else await api.deleteJwks(clientId);
      return { before: set, after: await settled(api, clientId, set, next, clock, wait), posted: true };
    }
    if (tried === CHANGE_TRIES) {
      throw new KeySetChanged(
        `the registered keys changed ${CHANGE_TRIES} times while this change was about to post them (someone else is changing them); nothing posted: check with npm run keys -- status`,
      );
    }
    await clock.sleep(RETRY_MS);
  }
}

/** Reads the set until it shows the posted change (the API's reads may lag its writes); refuses a kept key gone. */
async function settled(
  api: SelfServiceApi,
  clientId: string,
  before: readonly RegisteredJwk[],
  posted: readonly RegisteredJwk[],
  clock: SetChangeClock,
  wait: WaitOptions,
): Promise<RegisteredJwk[]> {
  const was = kidsOf(before);
  const now = kidsOf(posted);
  const kept = [...now].filter((kid) => was.has(kid));
  const added = [...now].filter((kid) => !was.has(kid));
  const removed = [...was].filter((kid) => !now.has(kid));
  const timeoutMs = wait.timeoutMs ?? 120_000;
  const intervalMs = wait.intervalMs ?? 5000;
  const deadline = clock.now() + timeoutMs;
  for (;;) {
    const set = await api.getJwks(clientId);
    const kids = kidsOf(set);
    const gone = kept.filter((kid) => !kids.has(kid));
    if (gone.length > 0) {
      throw new KeySetChanged(
        `key ${gone.join(", ")} was removed by another change just after this one posted the set; check with npm run keys -- status and register it again if it is still in use`,
      );
    }
    if (added.every((kid) => kids.has(kid)) && !removed.some((kid) => kids.has(kid))) return set;
    if (clock.now() + intervalMs > deadline) {
      throw new SelfServiceError(
        "admin_unavailable",
        `the set was posted but does not show the change after ${Math.round(timeoutMs / 1000)} s; check with npm run keys -- status`,
      );
    }
    await clock.sleep(intervalMs);
  }
}
