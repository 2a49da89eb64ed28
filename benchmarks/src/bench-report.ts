import type { MemoryBandwidth } from './memory-bandwidth';
import type { PeakMemoryMethod } from './peak-memory';
import type { SampleSummary } from './summarize-samples';

/** Identifier of the report format; bumped only on incompatible changes (fields may be added). */
export const BENCH_SCHEMA = 'pref-bench/1' as const;

export type BenchMode = 'small' | 'full' | 'custom';
export type WorkloadKind = 'logits' | 'objective' | 'align' | 'linear';

/** Every workload, in the order a run measures them. */
export const WORKLOAD_KINDS: readonly WorkloadKind[] = ['logits', 'objective', 'align', 'linear'];
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
  /** `small` / `medium` / `large` (logits), the objective id, `simpo-step` (align), or `linear-small` / ... (linear). */
  readonly case: string;
  readonly backend: string;
  /** `ok`: checked against the float64 reference, then timed. `failed`: wrong result or an error (not timed). */
  readonly status: CellStatus;
  readonly reason?: string;
  /** Logits `[N, T, V]`, token log-probs `[N, T]`, the align batch shape, or `[B, T, H, V]` (linear). */
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
  /** Logits workload only: new buffers per steady-state call (after warm-up, over the timed calls). */
  readonly allocations?: CellAllocations;
  /**
   * Logits workload only: `in-place` when the gradients came back in the caller-owned buffers
   * passed as `valueAndGrad`'s `gradients` option; `returned` when core allocated them (an
   * older core ignores or rejects the option).
   */
  readonly gradientOutput?: 'in-place' | 'returned';
  /** Linear workload only: which oracle checked it, the chunk sizes, and the matmul + logits path beside it. */
  readonly linear?: CellLinear;
  readonly notes?: readonly string[];
}

/** Which float64 oracle a linear cell was checked against. */
export type LinearOracleKind = 'pure-ts' | 'wasm';

/**
 * The linear workload's extra facts. `oracle`: `pure-ts` (the reference backend's float64
 * TypeScript rows, `kernels: 'js'`) or `wasm` (the float64 reference backend with its WebAssembly
 * kernels, itself tested against the pure-TS oracle), chosen by the shape's size.
 */
export interface CellLinear {
  readonly oracle: LinearOracleKind;
  /** Multiply-adds of one forward, `B·T·H·V`. */
  readonly multiplyAdds: number;
  /** Vocabulary rows per chunk of the fused kernels, where the backend's choice is known. */
  readonly chunkSize?: { readonly forward: number; readonly backward: number };
  /** Peak RSS increase of the first (checked, cold) run of the fused path. */
  readonly firstRunPeakRssDeltaBytes?: number;
  /** The "matmul + logits path" measurement on the same backend. */
  readonly baseline: LinearBaseline;
  /** Fused median over the baseline's median (the target is ≤ 1.3), when both were timed. */
  readonly ratio?: number;
}

/**
 * Logits `= hidden·Wᵀ` with a matmul, then the logits-path loss + gradient, then `dHidden = dZ·W`
 * and `dW = dZᵀ·hidden`: checked against the same oracle, then timed. `n/a` where the backend
 * offers no matmul the suite can call; `skipped` with the reason (memory, predicted time).
 */
export interface LinearBaseline {
  readonly status: 'ok' | 'failed' | 'skipped' | 'n/a';
  readonly reason?: string;
  /** How it was computed, e.g. `@pref/cpu-kernels matmul + token kernels`. */
  readonly method?: string;
  readonly check?: CorrectnessCheck;
  readonly timing?: CellTiming;
  /** Largest peak RSS increase over its timed runs, and of its first (cold) run. */
  readonly peakRssDeltaBytes?: number;
  readonly firstRunPeakRssDeltaBytes?: number;
  readonly notes?: readonly string[];
}

/**
 * Buffers a steady-state call leaves behind. `process`: the growth of
 * `process.memoryUsage().arrayBuffers` and `.external` across each timed call (a full garbage
 * collection before the call, the result still referenced after it), median over the calls:
 * the bytes of buffers created during the call and alive when it returns, i.e. a lower bound
 * on new bytes per call (a collection inside the call can hide a short-lived buffer).
 * `backend`: the backend's own cumulative `stats()` counters of buffers ≥ 1 MiB, differenced
 * over the same calls, when it has them; otherwise null.
 */
export interface CellAllocations {
  /** Steady-state calls measured (the timed runs). */
  readonly calls: number;
  /** Median over the calls of max(0, Δarray buffers, Δexternal). */
  readonly bytesPerCall: number;
  readonly arrayBuffersBytesPerCall: number;
  readonly externalBytesPerCall: number;
  readonly backend: { readonly largeBufferAllocationsPerCall: number | null; readonly largeBufferBytesPerCall: number | null } | null;
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
  /** Peak RSS increase of the first (checked, cold) run, when it was measured. */
  readonly firstRunPeakRssDeltaBytes?: number;
}

export interface CellBandwidth {
  readonly bytes: number;
  readonly bytesPerSecond: number;
  /** `bytesPerSecond / machine.bandwidth.boundBytesPerSecond`. */
  readonly fraction: number;
  /** Median time over the C-style bound `cStyleBoundMs` (the target is ≤ 3). */
  readonly boundRatio: number;
  /**
   * The C-style bound: milliseconds to read the logits twice and write the gradient once
   * (`bytes`) at the all-core bound `machine.bandwidth.boundBytesPerSecond`. Absent from
   * reports made before the threaded probe (their bound was single-thread).
   */
  readonly cStyleBoundMs?: number;
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
  /** Shapes of the linear (hidden-state) workload; absent from older reports. */
  readonly linearShapes?: readonly { readonly name: string; readonly shape: readonly [number, number, number, number] }[];
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
