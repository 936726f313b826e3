// What a benchmark reports: figures with their budgets, latency statistics, and the table and JSON they end up in.

export type Comparison = "<" | "<=" | ">=" | "=";

export interface Figure {
  /** Which measurement, e.g. "cache-hit /token (handler)". */
  scenario: string;
  /** What was measured, e.g. "p99 latency". */
  metric: string;
  value: number;
  unit: string;
  /** Absent for figures that are context, not a promise. */
  budget?: { op: Comparison; limit: number };
  note?: string;
}

export interface CheckedFigure extends Figure {
  pass: boolean | null;
}

export function check(figure: Figure): CheckedFigure {
  const { budget, value } = figure;
  if (budget === undefined) return { ...figure, pass: null };
  const pass =
    budget.op === "<"
      ? value < budget.limit
      : budget.op === "<="
        ? value <= budget.limit
        : budget.op === ">="
          ? value >= budget.limit
          : value === budget.limit;
  return { ...figure, pass };
}

/** Nearest-rank percentile of samples (any order). */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] ?? Number.NaN;
}

export function median(samples: readonly number[]): number {
  return percentile(samples, 50);
}

export interface LatencyRun {
  p50Ms: number;
  p99Ms: number;
  perSecond: number;
  /** How the requests were made, on the throughput row. */
  note: string;
  p99Budget?: Figure["budget"];
}

/** The p50 and p99 latency and the throughput of one scenario's requests. */
export function latencyFigures(scenario: string, run: LatencyRun): Figure[] {
  return [
    { scenario, metric: "p50 latency", value: run.p50Ms, unit: "ms" },
    {
      scenario,
      metric: "p99 latency",
      value: run.p99Ms,
      unit: "ms",
      ...(run.p99Budget === undefined ? {} : { budget: run.p99Budget }),
    },
    { scenario, metric: "throughput", value: run.perSecond, unit: "req/s", note: run.note },
  ];
}

/** Rounds to a few significant digits so the table and JSON stay readable. */
export function round(value: number): number {
  if (!Number.isFinite(value) || value === 0) return value;
  const digits = Math.max(0, 3 - Math.floor(Math.log10(Math.abs(value))));
  return Number(value.toFixed(Math.min(digits, 4)));
}

const formatBudget = (figure: Figure) =>
  figure.budget === undefined ? "" : `${figure.budget.op} ${figure.budget.limit} ${figure.unit}`;

/** A fixed-width text table: scenario, metric, value, budget, result. */
export function formatTable(figures: readonly CheckedFigure[]): string {
  const rows = figures.map((f) => [
    f.scenario,
    f.metric,
    `${round(f.value)} ${f.unit}`,
    formatBudget(f),
    f.pass === null ? "info" : f.pass ? "PASS" : "FAIL",
  ]);
  const header = ["scenario", "metric", "value", "budget", "result"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd();
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}
