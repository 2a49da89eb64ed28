import type { CellMemory, CellTiming, CorrectnessCheck } from './bench-report';
import { collectGarbage } from './collect-garbage';
import { compareWithOracle, describeMismatch, type CheckedResult } from './compare-with-oracle';
import { measurePeakMemory, type PeakMemoryMethod } from './peak-memory';
import { summarizeSamples } from './summarize-samples';

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
}

const seconds = (start: number) => (performance.now() - start) / 1000;

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
  try {
    result = await run();
  } catch (error) {
    return { status: 'failed', reason: `error: ${String((error as Error).message ?? error).split('\n')[0]}`, firstRunSeconds: seconds(checkStart), notes: [] };
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
  for (let i = 0; i < repeats; i++) {
    collectGarbage();
    const measured = await measurePeakMemory(async () => {
      const start = performance.now();
      await run();
      return performance.now() - start;
    });
    samples.push(measured.result);
    peakRssDeltaBytes = Math.max(peakRssDeltaBytes, measured.peakRssDeltaBytes);
    method = measured.method;
  }
  let devicePeakBytes: number | null = null;
  if (options.devicePeakBytes && perRun * 2 < plan.budgetSeconds) {
    collectGarbage();
    devicePeakBytes = await options.devicePeakBytes(run);
  }
  const timing: CellTiming = { unit: 'ms', samples, warmup, ...summarizeSamples(samples) };
  return { status: 'ok', check, timing, memory: { peakRssDeltaBytes, method, devicePeakBytes }, firstRunSeconds, notes };
}
