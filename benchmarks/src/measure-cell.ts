import type { CellAllocations, CellMemory, CellTiming, CorrectnessCheck } from './bench-report';
import { collectGarbage } from './collect-garbage';
import { compareWithOracle, describeMismatch, type CheckedResult } from './compare-with-oracle';
import { measurePeakMemory, type PeakMemoryMethod } from './peak-memory';
import { median, summarizeSamples } from './summarize-samples';

export interface CellPlan {
  /** Untimed runs after the checked one (dropped for runs over a second: the checked run already warmed up). */
  readonly warmup: number;
  readonly repeats: number;
  /** Wall-clock budget of the cell: the repeats are cut to fit it (at least one timed run). */
  readonly budgetSeconds: number;
}

export interface MeasuredCell {
  readonly status: 'ok' | 'failed';
  readonly reason?: string;
  readonly check?: CorrectnessCheck;
  readonly timing?: CellTiming;
  readonly memory?: CellMemory;
  /** New buffers per timed call, when `measureAllocations` was asked for. */
  readonly allocations?: CellAllocations;
  /** Seconds of the checked run (a cold run: an upper estimate of one run). */
  readonly firstRunSeconds: number;
  readonly notes: readonly string[];
}

export interface MeasureCellOptions {
  /** One loss+gradient call. */
  readonly run: () => Promise<CheckedResult>;
  /** The float64 reference result on the same inputs. */
  readonly oracle: CheckedResult;
  readonly precision: 32 | 64;
  readonly plan: CellPlan;
  /** Peak device bytes of one call, where the backend can say. */
  readonly devicePeakBytes?: ((run: () => Promise<unknown>) => Promise<number>) | null;
  /** Record the new buffers of each timed call (see `CellAllocations`). */
  readonly measureAllocations?: boolean;
  /** The backend's cumulative large-buffer counters, where it has them (`backendStatsReader`). */
  readonly backendStats?: (() => BackendBufferStats) | null;
  /** Also record the peak RSS increase of the checked (first, cold) run. */
  readonly firstRunMemory?: boolean;
}

/** What a backend's optional `stats()` returns: cumulative counters of the buffers ≥ 1 MiB it created. */
export interface BackendBufferStats {
  readonly largeBufferAllocations?: number;
  readonly largeBufferBytes?: number;
}

/** A reader of `backend.stats()` when the backend has one, else null. */
export function backendStatsReader(backend: object): (() => BackendBufferStats) | null {
  const stats = (backend as { stats?: unknown }).stats;
  if (typeof stats !== 'function') return null;
  return () => {
    const value = (stats as () => unknown).call(backend);
    return typeof value === 'object' && value !== null ? (value as BackendBufferStats) : {};
  };
}

const counter = (value: unknown) => (typeof value === 'number' && Number.isFinite(value) ? value : null);

/**
 * Allocations per call from the per-call memory readings: the median growth of array buffers
 * and external memory (each clamped at 0, the larger of the two per call), and the backend's
 * counters differenced over all calls (null where a counter is missing).
 */
export function allocationsFrom(
  readings: readonly {
    readonly before: { arrayBuffers: number; external: number };
    readonly after: { arrayBuffers: number; external: number };
  }[],
  stats: { readonly before: BackendBufferStats; readonly after: BackendBufferStats } | null,
): CellAllocations {
  const calls = readings.length;
  const arrayBuffers = readings.map((r) => Math.max(0, r.after.arrayBuffers - r.before.arrayBuffers));
  const external = readings.map((r) => Math.max(0, r.after.external - r.before.external));
  const perCall = (before: unknown, after: unknown) => {
    const a = counter(before);
    const b = counter(after);
    return a === null || b === null || calls === 0 ? null : (b - a) / calls;
  };
  return {
    calls,
    bytesPerCall: calls ? median(arrayBuffers.map((v, i) => Math.max(v, external[i]))) : 0,
    arrayBuffersBytesPerCall: calls ? median(arrayBuffers) : 0,
    externalBytesPerCall: calls ? median(external) : 0,
    backend: stats
      ? {
          largeBufferAllocationsPerCall: perCall(stats.before.largeBufferAllocations, stats.after.largeBufferAllocations),
          largeBufferBytesPerCall: perCall(stats.before.largeBufferBytes, stats.after.largeBufferBytes),
        }
      : null,
  };
}

const seconds = (start: number) => (performance.now() - start) / 1000;

/**
 * `process.memoryUsage()` once the garbage of earlier calls is really gone: V8 frees the
 * backing stores of collected array buffers concurrently, after the collection returns, so a
 * reading right after one collection can still count the previous call's gradient. A second
 * collection, then waiting (1 ms at a time, at most 20 times) until two readings agree.
 */
async function settledMemoryUsage(): Promise<NodeJS.MemoryUsage> {
  collectGarbage();
  let reading = process.memoryUsage();
  for (let i = 0; i < 20; i++) {
    await new Promise((resolve) => setTimeout(resolve, 1));
    const next = process.memoryUsage();
    const stable = next.arrayBuffers === reading.arrayBuffers && next.external === reading.external;
    reading = next;
    if (stable) break;
  }
  return reading;
}

/**
 * Checks one call against the float64 oracle, then (only if it matches) times it: warm-up,
 * then repeated runs, each after a garbage collection and with its peak RSS increase recorded.
 * An error or a mismatch makes the cell `failed`, untimed.
 */
export async function measureCell(options: MeasureCellOptions): Promise<MeasuredCell> {
  const { run, plan } = options;
  collectGarbage();
  const checkStart = performance.now();
  let result: CheckedResult;
  let firstRunPeak: number | undefined;
  try {
    if (options.firstRunMemory) {
      const measured = await measurePeakMemory(run);
      result = measured.result;
      firstRunPeak = measured.peakRssDeltaBytes;
    } else result = await run();
  } catch (error) {
    return {
      status: 'failed',
      reason: `error: ${String((error as Error).message ?? error).split('\n')[0]}`,
      firstRunSeconds: seconds(checkStart),
      notes: [],
    };
  }
  const firstRunSeconds = seconds(checkStart);
  const check = compareWithOracle(result, options.oracle, options.precision);
  if (!check.passed) return { status: 'failed', reason: describeMismatch(check), check, firstRunSeconds, notes: [] };

  const notes: string[] = [];
  let perRun = firstRunSeconds;
  const warmup = perRun < 1 ? plan.warmup : 0;
  for (let i = 0; i < warmup; i++) {
    const start = performance.now();
    await run();
    perRun = seconds(start);
  }
  const remaining = plan.budgetSeconds - firstRunSeconds - warmup * perRun;
  const repeats = Math.max(1, Math.min(plan.repeats, Math.floor(remaining / Math.max(perRun, 1e-6))));
  if (repeats < plan.repeats) notes.push(`repeats cut from ${plan.repeats} to ${repeats} to fit the ${plan.budgetSeconds} s cell budget`);
  const samples: number[] = [];
  let peakRssDeltaBytes = 0;
  let method: PeakMemoryMethod = 'vmhwm';
  const readings: { before: NodeJS.MemoryUsage; after: NodeJS.MemoryUsage }[] = [];
  const stats = options.measureAllocations ? (options.backendStats ?? null) : null;
  const statsBefore = stats?.() ?? null;
  for (let i = 0; i < repeats; i++) {
    collectGarbage();
    const before = options.measureAllocations ? await settledMemoryUsage() : null;
    const measured = await measurePeakMemory(async () => {
      const start = performance.now();
      const value = await run();
      return { milliseconds: performance.now() - start, value };
    });
    // `measured` (and so the result's buffers) is still referenced here: they count.
    if (before) readings.push({ before, after: process.memoryUsage() });
    samples.push(measured.result.milliseconds);
    peakRssDeltaBytes = Math.max(peakRssDeltaBytes, measured.peakRssDeltaBytes);
    method = measured.method;
  }
  const allocations = options.measureAllocations
    ? allocationsFrom(readings, stats && statsBefore ? { before: statsBefore, after: stats() } : null)
    : undefined;
  let devicePeakBytes: number | null = null;
  if (options.devicePeakBytes && perRun * 2 < plan.budgetSeconds) {
    collectGarbage();
    devicePeakBytes = await options.devicePeakBytes(run);
  }
  const timing: CellTiming = { unit: 'ms', samples, warmup, ...summarizeSamples(samples) };
  return {
    status: 'ok',
    check,
    timing,
    memory: { peakRssDeltaBytes, method, devicePeakBytes, ...(firstRunPeak !== undefined && { firstRunPeakRssDeltaBytes: firstRunPeak }) },
    firstRunSeconds,
    notes,
    ...(allocations && { allocations }),
  };
}
