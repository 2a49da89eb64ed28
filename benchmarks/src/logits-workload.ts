import {
  IGNORE_INDEX,
  type AnyObjective,
  type BackendTensor,
  type Batch,
  type PrefBackend,
  type ValueAndGradOptions,
  type ValueAndGradResult,
} from '@pref/core';
import type { ValueAndGradFn } from './bench-backends';
import { seededFloats, seededUniform } from './seeded-values';

export type LogitsShape = readonly [rows: number, steps: number, vocab: number];

/** The logits shapes of the issue: small `[8,128,4096]`, medium `[8,256,32000]`, large `[16,512,32000]`. */
export const LOGITS_SHAPES: Readonly<Record<'small' | 'medium' | 'large', LogitsShape>> = {
  small: [8, 128, 4096],
  medium: [8, 256, 32000],
  large: [16, 512, 32000],
};

/**
 * SimPO on the logits path: the `N` rows of `[N, T, V]` logits are split into `N/2` chosen and
 * `N/2` rejected completions (`chosenLogits`, `rejectedLogits`, each `[N/2, T, V]`), with labels
 * that ignore (−100) a few trailing positions of most rows. Loss and gradient with respect to
 * all `N·T·V` logits, so the byte count is the whole tensor: read twice (log-sum-exp, then the
 * gradient), gradient written once.
 */
export interface LogitsWorkload {
  readonly shape: LogitsShape;
  /** All logits, float32-exact values in [−4, 4), rows `[0, N/2)` chosen and `[N/2, N)` rejected. */
  readonly logits: Float32Array;
  readonly chosenLabels: Int32Array;
  readonly rejectedLabels: Int32Array;
}

export function logitsElementCount(shape: LogitsShape): number {
  return shape[0] * shape[1] * shape[2];
}

/** Bytes the fused loss+gradient must move: read the logits twice and write the gradient once. */
export function logitsTrafficBytes(shape: LogitsShape, precision: 32 | 64): number {
  return 3 * logitsElementCount(shape) * (precision / 8);
}

function labelsFor(rows: number, steps: number, vocab: number, seed: number): Int32Array {
  const next = seededUniform(seed);
  const labels = new Int32Array(rows * steps);
  for (let r = 0; r < rows; r++) {
    const ignored = (r * 13) % Math.max(1, Math.floor(steps / 4));
    for (let t = 0; t < steps; t++) labels[r * steps + t] = t >= steps - ignored ? IGNORE_INDEX : Math.floor(next() * vocab);
  }
  return labels;
}

/** Deterministic data for `shape` (`N` even, at least 2). */
export function createLogitsWorkload(shape: LogitsShape, seed = 1): LogitsWorkload {
  const [rows, steps, vocab] = shape;
  if (!(rows >= 2 && rows % 2 === 0) || !(steps >= 1) || !(vocab >= 2)) {
    throw new RangeError(`logits shape must be [N, T, V] with N even ≥ 2, T ≥ 1, V ≥ 2; got [${shape.join(', ')}]`);
  }
  const half = rows / 2;
  return {
    shape,
    logits: seededFloats(rows * steps * vocab, seed, -4, 4),
    chosenLabels: labelsFor(half, steps, vocab, seed + 1),
    rejectedLabels: labelsFor(half, steps, vocab, seed + 2),
  };
}

/** A batch for `valueAndGrad` plus the tensors to release after the cell. */
export interface PlacedBatch {
  readonly batch: Batch;
  /** `device`: the logits were uploaded to the backend first (timing excludes the upload); `host`: passed as host arrays. */
  readonly inputPath: 'device' | 'host';
  readonly release: () => void;
}

/**
 * Places the logits on `backend` when it can adopt a tensor of its own (reference, WebGPU) or a
 * tfjs tensor (tfjs), so the timed call measures the loss and gradient, not the upload; else
 * (onnxruntime, which builds its graph from host data) passes host arrays.
 */
export function placeLogitsBatch(workload: LogitsWorkload, backend: PrefBackend): PlacedBatch {
  const [rows, steps, vocab] = workload.shape;
  const half = rows / 2;
  const size = half * steps * vocab;
  const chosen = workload.logits.subarray(0, size);
  const rejected = workload.logits.subarray(size);
  const sideShape = [half, steps, vocab];
  const labels = {
    chosenLabels: { data: workload.chosenLabels, shape: [half, steps] },
    rejectedLabels: { data: workload.rejectedLabels, shape: [half, steps] },
  };
  const resident = residentPair(backend, chosen, rejected, sideShape);
  if (resident) {
    return {
      batch: { chosenLogits: resident.values[0], rejectedLogits: resident.values[1], ...labels },
      inputPath: 'device',
      release: resident.release,
    };
  }
  return {
    batch: { chosenLogits: { data: chosen, shape: sideShape }, rejectedLogits: { data: rejected, shape: sideShape }, ...labels },
    inputPath: 'host',
    release: () => {},
  };
}

interface TfjsLike {
  readonly tf?: { tensor?: (data: Float32Array, shape: number[], dtype: 'float32') => { dispose(): void } };
}

function residentPair(
  backend: PrefBackend,
  a: Float32Array,
  b: Float32Array,
  shape: number[],
): { values: unknown[]; release: () => void } | null {
  if (!backend.adopt) return null;
  const own = [backend.fromHost(a, shape), backend.fromHost(b, shape)];
  if (own.every((t) => backend.adopt!(t) === t)) {
    return { values: own, release: () => own.forEach((t: BackendTensor) => backend.dispose(t)) };
  }
  own.forEach((t) => backend.dispose(t));
  const tf = (backend as unknown as TfjsLike).tf;
  if (typeof tf?.tensor === 'function') {
    const native = [tf.tensor(a, shape, 'float32'), tf.tensor(b, shape, 'float32')];
    if (native.every((t) => backend.adopt!(t) !== undefined)) return { values: native, release: () => native.forEach((t) => t.dispose()) };
    native.forEach((t) => t.dispose());
  }
  return null;
}

/** Caller-owned gradient buffers for the two logits inputs, of the backend's precision. */
export interface LogitsGradientBuffers {
  readonly chosenLogits: Float32Array | Float64Array;
  readonly rejectedLogits: Float32Array | Float64Array;
}

export function logitsGradientBuffers(shape: LogitsShape, precision: 32 | 64, backend?: PrefBackend): LogitsGradientBuffers {
  const side = [shape[0] / 2, shape[1], shape[2]];
  const size = side[0] * side[1] * side[2];
  // Memory the backend computes on (the reference backend's arena) when it offers it: the kernel writes there.
  const make = () => (backend?.allocate ? backend.allocate(side) : precision === 32 ? new Float32Array(size) : new Float64Array(size));
  return { chosenLogits: make(), rejectedLogits: make() };
}

/** How a logits call returns its gradients: into the caller's buffers, or in arrays core allocated. */
export type GradientOutput = 'in-place' | 'returned';

export interface LogitsCall {
  /** One loss+gradient call. The first call decides the gradient output (below); later calls keep it. */
  readonly run: () => Promise<ValueAndGradResult>;
  /** `null` before the first call returned. */
  readonly gradientOutput: () => GradientOutput | null;
  /** Why the gradients were returned rather than written in place, once known. */
  readonly note: () => string | null;
}

/**
 * The logits workload's call, using caller-owned gradient buffers where core supports them:
 * the first call passes `gradients: { chosenLogits, rejectedLogits }` (buffers of the
 * backend's precision) to `valueAndGrad`; when the result's gradients are those very arrays
 * the output is `in-place` and every later call reuses them. When core returns other arrays
 * (a core without the option ignores it) or rejects the option, the buffers are dropped and
 * every call (the first one again, if it threw) runs without the option: `returned`.
 */
export function logitsCall(
  valueAndGrad: ValueAndGradFn,
  objective: AnyObjective,
  batch: Batch,
  backend: PrefBackend,
  shape: LogitsShape,
  precision: 32 | 64,
): LogitsCall {
  let mode: GradientOutput | null = null;
  let note: string | null = null;
  let buffers: LogitsGradientBuffers | null = logitsGradientBuffers(shape, precision, backend);
  const plain: ValueAndGradOptions = { backend };
  const withBuffers = (): ValueAndGradOptions => ({ backend, gradients: { ...buffers! } });
  const run = async (): Promise<ValueAndGradResult> => {
    if (mode === 'returned') return valueAndGrad(objective, batch, {}, plain);
    if (mode === 'in-place') return valueAndGrad(objective, batch, {}, withBuffers());
    let result: ValueAndGradResult;
    try {
      result = await valueAndGrad(objective, batch, {}, withBuffers());
    } catch (error) {
      buffers = null;
      mode = 'returned';
      result = await valueAndGrad(objective, batch, {}, plain);
      note = `valueAndGrad rejected the gradients option (${String((error as Error).message ?? error).split('\n')[0]}): gradients returned`;
      return result;
    }
    const own = buffers!;
    const inPlace = result.grads.chosenLogits?.data === own.chosenLogits && result.grads.rejectedLogits?.data === own.rejectedLogits;
    mode = inPlace ? 'in-place' : 'returned';
    if (!inPlace) {
      buffers = null;
      note = 'valueAndGrad returned its own gradient arrays (this core has no gradients option, or not for this backend)';
    }
    return result;
  };
  return { run, gradientOutput: () => mode, note: () => note };
}
