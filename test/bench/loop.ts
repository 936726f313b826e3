// A bounded measuring loop: runs an async operation up to `count` times or until `maxMs`, timing each run.

export interface LoopResult {
  /** Milliseconds per run. */
  samples: number[];
  elapsedMs: number;
  perSecond: number;
}

export async function timedLoop(
  operation: () => Promise<void>,
  limits: { count: number; maxMs: number },
): Promise<LoopResult> {
  const samples: number[] = [];
  const started = performance.now();
  const deadline = started + limits.maxMs;
  for (let i = 0; i < limits.count; i++) {
    const t = performance.now();
    await operation();
    const end = performance.now();
    samples.push(end - t);
    if (end > deadline) break;
  }
  const elapsedMs = performance.now() - started;
  return { samples, elapsedMs, perSecond: (samples.length / elapsedMs) * 1000 };
}
