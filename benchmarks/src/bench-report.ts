import type { MemoryBandwidth } from './memory-bandwidth';
import type { PeakMemoryMethod } from './peak-memory';
import type { SampleSummary } from './summarize-samples';

/** Identifier of the report format; bumped only on incompatible changes (fields may be added). */
export const BENCH_SCHEMA = 'pref-bench/1' as const;

export type BenchMode = 'small' | 'full' | 'custom';
export type WorkloadKind = 'logits' | 'objective' | 'align';
export type CellStatus = 'ok' | 'failed' | 'skipped';

/** One backend the run tried to start. */
export interface BenchBackendEntry {
  /** Benchmark id, e.g. `reference-f32`, `tfjs-wasm`. */
  readonly id: string;
  /** The config given to core's `createBackend`, as JSON. */
  readonly config: Readonly<Record<string, unknown>>;
  readonly status: 'started' | 'skipped';
  /** `backend.name` once started (e.g. `tfjs:wasm`). */
  readonly name?: string;
  readonly precision?: 32 | 64;
  /** Why it did not start. */
  readonly reason?: string;
}

/** The result of one workload case on one backend. */
export interface BenchCell {
  readonly workload: WorkloadKind;
  /** `small` / `medium` / `large` (logits), the objective id, or `step` (align). */
  readonly case: string;
  readonly backend: string;
  /** `ok`: checked against the float64 reference, then timed. `failed`: wrong result or an error (not timed). */
  readonly status: CellStatus;
  readonly reason?: string;
  /** Logits `[N, T, V]`, token log-probs `[N, T]`, or the align batch shape. */
  readonly shape: readonly number[];
  readonly precision: 32 | 64 | null;
  /** Where the differentiable input lived when timed: on the backend (uploaded before timing) or on the host. */
  readonly inputPath?: 'device' | 'host';
  /** Agreement with the reference float64 backend, checked before timing. */
  readonly check?: CorrectnessCheck;
  readonly timing?: CellTiming;
  readonly memory?: CellMemory;
  /** Logits workload only: bytes moved (read logits twice, write the gradient once) against the bandwidth probe. */
  readonly bandwidth?: CellBandwidth;
  readonly notes?: readonly string[];
}

export interface CorrectnessCheck {
  readonly passed: boolean;
  /** Largest error relative to the tolerance's scale, over the loss and every gradient (≤ 1 passes). */
  readonly worstRatio: number;
  /** Where the worst error was, e.g. `grads.chosenLogits[1234]`. */
  readonly worstAt: string;
  readonly relativeTolerance: number;
}

export interface CellTiming extends SampleSummary {
  readonly unit: 'ms';
  /** Every timed run, in order. */
  readonly samples: readonly number[];
  /** Untimed runs before the samples (the correctness check is one more). */
  readonly warmup: number;
}

export interface CellMemory {
  /** Largest peak-RSS increase over the timed runs. */
  readonly peakRssDeltaBytes: number;
  readonly method: PeakMemoryMethod;
  /** Peak device bytes of one run, where the backend can say (tfjs `tf.profile`); else null. */
  readonly devicePeakBytes: number | null;
  /** Size of the gradient the call returns (logits workload), for comparison. */
  readonly gradientBytes?: number;
}

export interface CellBandwidth {
  readonly bytes: number;
  readonly bytesPerSecond: number;
  /** `bytesPerSecond / machine.bandwidth.boundBytesPerSecond`. */
  readonly fraction: number;
  /** Median time over the bandwidth-bound time (the target is ≤ 3). */
  readonly boundRatio: number;
}

export interface BenchMachine {
  readonly platform: string;
  readonly arch: string;
  readonly cpuModel: string;
  readonly cpus: number;
  readonly totalMemoryBytes: number;
  readonly node: string;
  /** 1, 5 and 15 minute load averages when the run started (other work on the machine skews timings). */
  readonly loadAverage?: readonly number[];
}

export interface BenchSettings {
  readonly repeats: number;
  readonly warmup: number;
  readonly objectiveRepeats: number;
  readonly cellBudgetSeconds: number;
  readonly logitsShapes: readonly { readonly name: string; readonly shape: readonly [number, number, number] }[];
  readonly objectiveShape: readonly [number, number];
  readonly workloads: readonly WorkloadKind[];
}

/** The JSON file `pref bench` writes (`bench.json`). */
export interface BenchReport {
  readonly schema: typeof BENCH_SCHEMA;
  readonly createdAt: string;
  readonly mode: BenchMode;
  /** The command line that produced it. */
  readonly command: string;
  readonly machine: BenchMachine;
  /** The bandwidth probe, or null when it was not run. */
  readonly bandwidth: MemoryBandwidth | null;
  readonly settings: BenchSettings;
  readonly backends: readonly BenchBackendEntry[];
  readonly results: readonly BenchCell[];
  readonly totalSeconds: number;
}
