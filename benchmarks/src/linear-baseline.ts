import type { Batch, PrefBackend } from '@pref/core';
import { simpo } from '@pref/simpo';
import type { ImportModule, ValueAndGradFn } from './bench-backends';
import type { CheckedResult } from './compare-with-oracle';
import type { LinearShape } from './linear-workload';

/**
 * The "matmul + logits path" on one backend: logits `z = hidden·Wᵀ` with the backend's matmul,
 * the logits-path loss + gradient (SimPO, the same objective as the fused cell), then
 * `dHidden = dZ·W` and `dW = dZᵀ·hidden`. `run` returns the loss and the same gradients as the
 * fused path (`chosenHidden`, `rejectedHidden`, `lmHead.weight`), so it is checked against the
 * same oracle. Inputs are placed before timing; `dispose` frees what it holds.
 */
export interface LinearBaselineRunner {
  readonly method: string;
  readonly notes: readonly string[];
  readonly run: () => Promise<CheckedResult>;
  readonly dispose: () => void;
}

/** Why a backend has no baseline (`n/a`), or the way to build one. */
export type LinearBaselinePlan =
  | { readonly kind: 'n/a'; readonly reason: string }
  | { readonly kind: 'cpu-kernels' | 'tfjs'; readonly bytes: number; readonly limitBytes?: number };

/** Largest WebAssembly (wasm32) memory: the cpu kernels' arena cannot grow past it. */
export const WASM_MEMORY_LIMIT_BYTES = 4 * 2 ** 30;

/**
 * How the baseline runs on a backend, with the memory it needs beyond the inputs: the reference
 * backend with WebAssembly kernels through `@pref/cpu-kernels` (logits `z` and `dZ` `[R, V]`, `Wᵀ`
 * and `dW` `[V, H]`, `dHidden` `[R, H]`, all in one arena, limited to 4 GiB); tfjs through
 * `tf.matMul` (the logits, the gradient core returns, that gradient uploaded again, and the logits
 * path's own working copy: `4·R·V` floats); any other backend has no matmul the suite can call.
 */
export function linearBaselinePlan(
  backend: Pick<PrefBackend, 'name'> & { readonly kernelName?: string; readonly tf?: unknown },
  shape: LinearShape,
  precision: 32 | 64,
): LinearBaselinePlan {
  const [rows, steps, hidden, vocab] = shape;
  const r = rows * steps;
  const bytes = precision / 8;
  if (backend.name.startsWith('reference')) {
    if (backend.kernelName !== 'wasm') return { kind: 'n/a', reason: 'the pure-TS reference path has no matmul kernel' };
    return {
      kind: 'cpu-kernels',
      bytes: (2 * r * vocab + 2 * vocab * hidden + 2 * r * hidden + 4 * r) * bytes,
      limitBytes: WASM_MEMORY_LIMIT_BYTES,
    };
  }
  if (backend.name.startsWith('tfjs') && typeof (backend.tf as { matMul?: unknown } | undefined)?.matMul === 'function') {
    return { kind: 'tfjs', bytes: 4 * r * vocab * 4 + 2 * vocab * hidden * 4 };
  }
  if (backend.name.startsWith('onnxruntime'))
    return {
      kind: 'n/a',
      reason: 'onnxruntime builds one graph per valueAndGrad call from host arrays; the suite has no separate matmul on it',
    };
  if (backend.name.startsWith('webgpu')) return { kind: 'n/a', reason: 'the webgpu adapter exposes no matmul the suite can call' };
  return { kind: 'n/a', reason: `no matmul the suite can call on ${backend.name}` };
}

interface Halves {
  readonly half: number;
  readonly steps: number;
  readonly hidden: number;
  readonly vocab: number;
  readonly chosenHidden: Float32Array;
  readonly rejectedHidden: Float32Array;
  readonly chosenLabels: Int32Array;
  readonly rejectedLabels: Int32Array;
  readonly weight: Float32Array;
}

function halvesOf(batch: Batch, shape: LinearShape): Halves {
  const b = batch as unknown as Record<string, { data: Float32Array | Int32Array }> & { lmHead: { weight: { data: Float32Array } } };
  const [rows, steps, hidden, vocab] = shape;
  return {
    half: rows / 2,
    steps,
    hidden,
    vocab,
    chosenHidden: b.chosenHidden.data as Float32Array,
    rejectedHidden: b.rejectedHidden.data as Float32Array,
    chosenLabels: b.chosenLabels.data as Int32Array,
    rejectedLabels: b.rejectedLabels.data as Int32Array,
    weight: b.lmHead.weight.data,
  };
}

/** SimPO on the token log-probs (all tokens counted): the loss and d loss / d logps, through core on `backend`. */
async function objectiveOnLogps(valueAndGrad: ValueAndGradFn, backend: PrefBackend, logps: Float32Array | Float64Array, h: Halves) {
  const n = h.half * h.steps;
  const shape = [h.half, h.steps];
  const mask = new Float32Array(n).fill(1);
  const slice = (start: number) => logps.slice(start, start + n);
  const input: Batch = {
    chosenLogps: { data: slice(0), shape },
    chosenMask: { data: mask, shape },
    rejectedLogps: { data: slice(n), shape },
    rejectedMask: { data: mask, shape },
  };
  const result = await valueAndGrad(simpo, input, {}, { backend });
  const g = result.grads as Record<string, { data: ArrayLike<number> }>;
  return { loss: result.loss, chosen: g.chosenLogps.data, rejected: g.rejectedLogps.data };
}

/* Structural types of the parts of @pref/cpu-kernels the baseline uses (loaded by name, no build-time dependency). */
interface FloatBlockLike {
  readonly view: Float32Array | Float64Array;
  free(): void;
}
interface IntBlockLike {
  readonly view: Int32Array;
  free(): void;
}
interface CpuKernelsLike {
  readonly arena: { allocate(kind: 'float', length: number): FloatBlockLike; allocate(kind: 'int32', length: number): IntBlockLike };
  matmul(args: Record<string, unknown>): void;
  tokenForward(args: Record<string, unknown>): unknown;
  tokenBackward(args: Record<string, unknown>): void;
  linearChunkSize(
    pass: 'forward' | 'backward',
    rows: number,
    hiddenSize: number,
    vocab: number,
    options?: { scratchBytes?: number },
  ): number;
  dispose(): void;
}
interface CpuKernelsModule {
  createCpuKernels(options: { precision: 32 | 64; threads?: number }): CpuKernelsLike;
}

/** The reference backend's default scratch budget of the fused kernels (`linearScratchBytes`). */
export const REFERENCE_LINEAR_SCRATCH_BYTES = 16 << 20;

/**
 * The chunk sizes the reference backend's fused kernels pick for one sequence (`B/2·T` rows; core
 * calls the primitive once per sequence) with its default 16 MiB scratch budget, from
 * `@pref/cpu-kernels`' own `linearChunkSize`.
 */
export async function referenceChunkSizes(importModule: ImportModule, shape: LinearShape, precision: 32 | 64) {
  const { createCpuKernels } = (await importModule('@pref/cpu-kernels')) as CpuKernelsModule;
  const k = createCpuKernels({ precision, threads: 1 });
  try {
    const [rows, steps, hidden, vocab] = shape;
    const r = (rows / 2) * steps;
    const options = { scratchBytes: REFERENCE_LINEAR_SCRATCH_BYTES };
    return {
      forward: k.linearChunkSize('forward', r, hidden, vocab, options),
      backward: k.linearChunkSize('backward', r, hidden, vocab, options),
    };
  } finally {
    k.dispose();
  }
}

/**
 * The baseline on the reference backend: `createCpuKernels({ precision })` (its own arena and
 * threads, the same kernels the backend runs), every tensor an arena block. `Wᵀ` is packed once,
 * untimed (the matmul takes `B` row-major `[K, N]`). Timed: `z = h·Wᵀ` (one matmul over all `B·T`
 * rows), `tokenForward` with the softmax stashed in `dZ`, SimPO on the log-probs through core on
 * the backend, `tokenBackward` in place, `dH = dZ·W`, `dW = dZᵀ·h`.
 */
async function cpuKernelsBaseline(
  importModule: ImportModule,
  valueAndGrad: ValueAndGradFn,
  backend: PrefBackend,
  h: Halves,
  precision: 32 | 64,
): Promise<LinearBaselineRunner> {
  const { createCpuKernels } = (await importModule('@pref/cpu-kernels')) as CpuKernelsModule;
  const k = createCpuKernels({ precision });
  const A = k.arena;
  const R = 2 * h.half * h.steps;
  const n = R / 2;
  const H = h.hidden;
  const V = h.vocab;
  const blocks: (FloatBlockLike | IntBlockLike)[] = [];
  const float = (length: number) => {
    const b = A.allocate('float', length);
    blocks.push(b);
    return b;
  };
  try {
    const hidden = float(R * H);
    hidden.view.set(h.chosenHidden, 0);
    hidden.view.set(h.rejectedHidden, n * H);
    const weight = float(V * H);
    weight.view.set(h.weight);
    const wt = float(H * V);
    {
      const w = weight.view;
      const t = wt.view;
      for (let v = 0; v < V; v++) for (let j = 0; j < H; j++) t[j * V + v] = w[v * H + j];
    }
    const labels = A.allocate('int32', R);
    blocks.push(labels);
    labels.view.set(h.chosenLabels, 0);
    labels.view.set(h.rejectedLabels, n);
    const z = float(R * V);
    const dz = float(R * V);
    const lse = float(R);
    const logps = float(R);
    const u = float(R);
    const gH = float(R * H);
    const gW = float(V * H);
    const run = async (): Promise<CheckedResult> => {
      k.matmul({ a: hidden, b: wt, c: z, m: R, n: V, k: H, aRowStride: H, aColStride: 1 });
      k.tokenForward({ logits: z, labels, vocab: V, lse, logps, probs: dz });
      const objective = await objectiveOnLogps(valueAndGrad, backend, logps.view, h);
      u.view.set(objective.chosen, 0);
      u.view.set(objective.rejected, n);
      k.tokenBackward({ labels, vocab: V, lse, gradLogps: u, probs: dz, grad: dz });
      k.matmul({ a: dz, b: weight, c: gH, m: R, n: H, k: V, aRowStride: V, aColStride: 1 });
      k.matmul({ a: dz, b: hidden, c: gW, m: V, n: H, k: R, aRowStride: 1, aColStride: V });
      const dH = gH.view;
      return {
        loss: objective.loss,
        grads: {
          chosenHidden: { data: dH.subarray(0, n * H), shape: [h.half, h.steps, H] },
          rejectedHidden: { data: dH.subarray(n * H), shape: [h.half, h.steps, H] },
          'lmHead.weight': { data: gW.view, shape: [V, H] },
        },
      } as unknown as CheckedResult;
    };
    return {
      method: '@pref/cpu-kernels matmul + token kernels (softmax stashed in dZ)',
      notes: ['matmul + logits: Wᵀ packed once before timing; inputs in the kernels’ arena; SimPO on the log-probs through core'],
      run,
      dispose: () => {
        blocks.forEach((b) => b.free());
        k.dispose();
      },
    };
  } catch (error) {
    blocks.forEach((b) => b.free());
    k.dispose();
    throw error;
  }
}

/* The parts of tfjs the baseline uses. */
interface TfTensorLike {
  dispose(): void;
  data(): Promise<Float32Array>;
}
interface TfLike {
  tensor2d(data: Float32Array, shape: [number, number]): TfTensorLike;
  matMul(a: TfTensorLike, b: TfTensorLike, transposeA?: boolean, transposeB?: boolean): TfTensorLike;
  add(a: TfTensorLike, b: TfTensorLike): TfTensorLike;
  reshape(x: TfTensorLike, shape: number[]): TfTensorLike;
  tidy<T>(fn: () => T): T;
}

/**
 * The baseline on tfjs: `tf.matMul(h, W, false, true)` per sequence (reshaped to `[B/2, T, V]`),
 * the tfjs logits path through `valueAndGrad` on the adopted logits, the returned gradients
 * uploaded again, `dH = tf.matMul(dZ, W)` and `dW = Σ tf.matMul(dZ, h, true)`, read back.
 */
function tfjsBaseline(valueAndGrad: ValueAndGradFn, backend: PrefBackend, h: Halves): LinearBaselineRunner {
  const tf = (backend as unknown as { tf: TfLike }).tf;
  const n = h.half * h.steps;
  const H = h.hidden;
  const V = h.vocab;
  const hc = tf.tensor2d(h.chosenHidden, [n, H]);
  const hr = tf.tensor2d(h.rejectedHidden, [n, H]);
  const W = tf.tensor2d(h.weight, [V, H]);
  const labels = {
    chosenLabels: { data: h.chosenLabels, shape: [h.half, h.steps] },
    rejectedLabels: { data: h.rejectedLabels, shape: [h.half, h.steps] },
  };
  const run = async (): Promise<CheckedResult> => {
    const [zc, zr] = tf.tidy(() => [
      tf.reshape(tf.matMul(hc, W, false, true), [h.half, h.steps, V]),
      tf.reshape(tf.matMul(hr, W, false, true), [h.half, h.steps, V]),
    ]);
    let result;
    try {
      result = await valueAndGrad(simpo, { chosenLogits: zc, rejectedLogits: zr, ...labels } as unknown as Batch, {}, { backend });
    } finally {
      zc.dispose();
      zr.dispose();
    }
    const g = result.grads as Record<string, { data: Float32Array }>;
    const [dHc, dHr, dW] = tf.tidy(() => {
      const dzc = tf.tensor2d(g.chosenLogits.data, [n, V]);
      const dzr = tf.tensor2d(g.rejectedLogits.data, [n, V]);
      return [tf.matMul(dzc, W), tf.matMul(dzr, W), tf.add(tf.matMul(dzc, hc, true, false), tf.matMul(dzr, hr, true, false))];
    });
    try {
      const [a, b, c] = await Promise.all([dHc.data(), dHr.data(), dW.data()]);
      return {
        loss: result.loss,
        grads: {
          chosenHidden: { data: a, shape: [h.half, h.steps, H] },
          rejectedHidden: { data: b, shape: [h.half, h.steps, H] },
          'lmHead.weight': { data: c, shape: [V, H] },
        },
      } as unknown as CheckedResult;
    } finally {
      [dHc, dHr, dW].forEach((t) => t.dispose());
    }
  };
  return {
    method: 'tf.matMul + the tfjs logits path',
    notes: ['matmul + logits: the logits gradient comes back to the host and is uploaded again for dH and dW'],
    run,
    dispose: () => [hc, hr, W].forEach((t) => t.dispose()),
  };
}

/** Builds the baseline runner for `plan` (the caller has checked it fits). */
export async function createLinearBaseline(
  plan: Exclude<LinearBaselinePlan, { kind: 'n/a' }>,
  options: {
    readonly importModule: ImportModule;
    readonly valueAndGrad: ValueAndGradFn;
    readonly backend: PrefBackend;
    readonly batch: Batch;
    readonly shape: LinearShape;
    readonly precision: 32 | 64;
  },
): Promise<LinearBaselineRunner> {
  const h = halvesOf(options.batch, options.shape);
  if (plan.kind === 'cpu-kernels')
    return cpuKernelsBaseline(options.importModule, options.valueAndGrad, options.backend, h, options.precision);
  return tfjsBaseline(options.valueAndGrad, options.backend, h);
}
