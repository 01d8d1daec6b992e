/** Executor statistics: counters and run/wait time percentiles over the most recent tasks. */

/** Percentiles of a duration, in milliseconds. */
export interface DurationSummary {
  readonly count: number;
  readonly mean: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
}

/** A snapshot of an executor, from `executor.stats()`. */
export interface ExecutorStats {
  /** Workers alive (starting, idle or busy). */
  readonly workers: number;
  /** Workers running at least one task. */
  readonly busy: number;
  /** Tasks waiting for a worker. */
  readonly queued: number;
  /** Tasks sent to workers and not settled. */
  readonly running: number;
  readonly completed: number;
  readonly failed: number;
  readonly cancelled: number;
  /** Time from being sent to a worker to the result (the last 1,024 tasks). */
  readonly runTime: DurationSummary;
  /** Time from submit to being sent to a worker (the last 1,024 tasks). */
  readonly waitTime: DurationSummary;
}

const WINDOW = 1024;

/** A fixed window of recent samples. */
export class Samples {
  readonly #values = new Float64Array(WINDOW);
  #count = 0;

  add(value: number): void {
    this.#values[this.#count++ % WINDOW] = value;
  }

  summary(): DurationSummary {
    const n = Math.min(this.#count, WINDOW);
    if (n === 0) return { count: 0, mean: 0, p50: 0, p90: 0, p99: 0, max: 0 };
    const sorted = this.#values.slice(0, n).sort();
    const at = (q: number) => sorted[Math.min(n - 1, Math.floor(q * n))]!;
    let sum = 0;
    for (const v of sorted) sum += v;
    return { count: this.#count, mean: sum / n, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: sorted[n - 1]! };
  }
}
