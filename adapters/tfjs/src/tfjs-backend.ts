import {
  BACKEND_SPECIFICATION_VERSION,
  normalizeAxis,
  PrefBackendError,
  PrefConfigError,
  PrefInputError,
  type BackendCapabilities,
  type BinaryOp,
  type CompareOp,
  type FloatArray,
  type HostArray,
  type LinearEntropyOptions,
  type LinearHeadOptions,
  type LinearTokenLogProbsGrads,
  type PrefBackend,
  type ReduceOp,
  type Shape,
  type TokenEntropyResult,
  type TokenLogProbsResult,
  type UnaryOp,
} from '@pref/core/backend';
import type { Tensor as TfTensor } from '@tensorflow/tfjs-core';
import type { Tfjs } from './tfjs-types';
import { TfjsTensor } from './tfjs-tensor';
import { gatherElements, scatterAddElements } from './gather-elements';
import { tokenLogProbsBackward, tokenLogProbsForward } from './token-log-probs';
import { linearTokenLogProbsBackward, linearTokenLogProbsForward } from './linear-token-log-probs';
import { WasmTokenLogProbs } from './wasm-token-log-probs';
import { linearTokenEntropyBackward, linearTokenEntropyForward, tokenEntropyBackward, tokenEntropyForward } from './token-entropy';

export interface TfjsBackendOptions {
  /** The user's tfjs instance (`import * as tf from '@tensorflow/tfjs'`, `-core` or `-node`). */
  readonly tf: Tfjs;
  /** Float precision: tfjs computes in float32 only. */
  readonly precision?: 32;
  /**
   * Kernel of the fused token log-probs: `auto` (default: the WebAssembly SIMD kernel of
   * `@pref/cpu-kernels` on the `cpu` and `wasm` tfjs backends, tfjs's ops elsewhere), `wasm`
   * (always the kernel; the logits are read to the host), or `tfjs` (always tfjs's ops).
   */
  readonly tokenKernel?: 'auto' | 'wasm' | 'tfjs';
  /**
   * The tfjs backend this pref backend computes on (`createPrefBackend` sets it to the one it
   * started). tfjs has one global backend: when another `createBackend` or a `tf.setBackend`
   * switched it, creating tensors (`fromHost`, `fromHostInt`, `fill`, `adopt`) and `read` throw a
   * `PrefBackendError` naming both backends instead of computing silently on the other one.
   * Absent (`createTfjsBackend` without it): the backend follows whichever tfjs backend is active.
   */
  readonly tfjsBackend?: string;
}

const UNARY: Record<UnaryOp, (tf: Tfjs, x: TfTensor) => TfTensor> = {
  neg: (tf, x) => tf.neg(x),
  exp: (tf, x) => tf.exp(x),
  log: (tf, x) => tf.log(x),
  log1p: (tf, x) => tf.log1p(x),
  expm1: (tf, x) => tf.expm1(x),
  sigmoid: (tf, x) => tf.sigmoid(x),
  // max(x, 0) + log1p(exp(−|x|)): one formula on every backend, stable for all x.
  softplus: (tf, x) => tf.add(tf.relu(x), tf.log1p(tf.exp(tf.neg(tf.abs(x))))),
  logSigmoid: (tf, x) => tf.sub(tf.minimum(x, tf.scalar(0)), tf.log1p(tf.exp(tf.neg(tf.abs(x))))),
  relu: (tf, x) => tf.relu(x),
  square: (tf, x) => tf.square(x),
  sqrt: (tf, x) => tf.sqrt(x),
  abs: (tf, x) => tf.abs(x),
};

const BINARY: Record<BinaryOp, (tf: Tfjs, a: TfTensor, b: TfTensor) => TfTensor> = {
  add: (tf, a, b) => tf.add(a, b),
  sub: (tf, a, b) => tf.sub(a, b),
  mul: (tf, a, b) => tf.mul(a, b),
  div: (tf, a, b) => tf.div(a, b),
  pow: (tf, a, b) => tf.pow(a, b),
  maximum: (tf, a, b) => tf.maximum(a, b),
  minimum: (tf, a, b) => tf.minimum(a, b),
};

const COMPARE: Record<CompareOp, (tf: Tfjs, a: TfTensor, b: TfTensor) => TfTensor> = {
  greater: (tf, a, b) => tf.greater(a, b),
  greaterEqual: (tf, a, b) => tf.greaterEqual(a, b),
  less: (tf, a, b) => tf.less(a, b),
  lessEqual: (tf, a, b) => tf.lessEqual(a, b),
  equal: (tf, a, b) => tf.equal(a, b),
};

function isTfjsTensorLike(value: unknown): boolean {
  const v = value as { dataId?: unknown; shape?: unknown; dtype?: unknown; dataSync?: unknown };
  return (
    typeof value === 'object' && value !== null && v.dataId !== undefined && Array.isArray(v.shape) && typeof v.dataSync === 'function'
  );
}

/**
 * The tfjs backend: every primitive as plain ops on the user's `tf` instance, on whatever tfjs
 * backend is active (cpu, wasm, webgpu, tensorflow from tfjs-node). Float tensors are float32.
 * Gradients come from core's autodiff only: `valueAndGrad` runs it directly, and `tfjsLoss`
 * wraps the whole objective as one `tf.customGrad` whose gradient runs it, so model variables
 * train under `tf.grad` / `optimizer.minimize` without a second set of gradient rules.
 * Shapes, and the data length of `fromHost` / `fromHostInt`, are checked by core (`TensorOps`,
 * `op-shapes.ts`) before a primitive is called, so no primitive here checks them again; the
 * adapter checks only what core cannot know: the dtype, disposal and tfjs instance of a tensor
 * given to `adopt`, and (config-made backends) which tfjs backend is active.
 */
export class TfjsBackend implements PrefBackend<TfjsTensor> {
  readonly specificationVersion = BACKEND_SPECIFICATION_VERSION;
  readonly capabilities: BackendCapabilities = { precision: 32, float64: false, nativeAutodiff: true, execution: 'eager' };
  readonly tf: Tfjs;
  private readonly wasmTokens: WasmTokenLogProbs;
  /** Handles created while `tfjsLoss` records a forward (see {@link recordHandles}). */
  private recorded: TfjsTensor[] | null = null;

  constructor(options: TfjsBackendOptions) {
    if (!options?.tf || typeof options.tf.customGrad !== 'function') {
      throw new PrefConfigError('tf', 'createTfjsBackend: options.tf must be the tfjs module (import * as tf from "@tensorflow/tfjs")');
    }
    if (options.precision !== undefined && options.precision !== 32) {
      throw new PrefConfigError(
        'precision',
        `createTfjsBackend: precision must be 32 (tfjs computes in float32), got ${String(options.precision)}`,
      );
    }
    this.tf = options.tf;
    const tokenKernel = options.tokenKernel ?? 'auto';
    if (tokenKernel !== 'auto' && tokenKernel !== 'wasm' && tokenKernel !== 'tfjs') {
      throw new PrefConfigError('tokenKernel', `createTfjsBackend: tokenKernel must be auto, wasm or tfjs, got ${String(tokenKernel)}`);
    }
    this.wasmTokens = new WasmTokenLogProbs(this.tf, tokenKernel);
    this.pinned = options.tfjsBackend ?? null;
  }

  /** The tfjs backend this one was made for (`tfjsBackend`), or null when it follows the active one. */
  private readonly pinned: string | null;

  /** Throws when tfjs's active backend is no longer the one this backend was made for. */
  private checkActive(where: string): void {
    if (this.pinned === null) return;
    const active = this.tf.getBackend();
    if (active === this.pinned) return;
    throw new PrefBackendError(
      `tfjs backend: ${where} on a pref backend made for tfjs "${this.pinned}", but tfjs's active backend is now "${active}" ` +
        `(tfjs has one global backend; another createBackend or tf.setBackend switched it): call tf.setBackend("${this.pinned}") first, or use one tfjs backend at a time`,
    );
  }

  /** `tfjs:<active tfjs backend>`, e.g. `tfjs:cpu`, `tfjs:wasm`, `tfjs:webgpu`, `tfjs:tensorflow`. */
  get name(): string {
    return `tfjs:${this.tf.getBackend()}`;
  }

  /** Runs `run` and returns, besides its result, every handle this backend created meanwhile. @internal */
  recordHandles<R>(run: () => R): { result: R; handles: TfjsTensor[] } {
    const outer = this.recorded;
    const handles: TfjsTensor[] = [];
    this.recorded = handles;
    try {
      return { result: run(), handles };
    } finally {
      this.recorded = outer;
      outer?.push(...handles);
    }
  }

  /** `writeGradientInto` targets by tfjs data id (shared by reshapes). */
  private readonly gradientTargets = new Map<object, Float32Array>();
  /** Gradients in the tfjs wasm heap that `read` copies straight into their `writeGradientInto` target. */
  private readonly readTargets = new Map<object, Float32Array>();

  private wrap(tensor: TfTensor): TfjsTensor {
    const handle = new TfjsTensor(tensor);
    this.recorded?.push(handle);
    return handle;
  }

  private float(x: TfTensor): TfTensor {
    return this.tf.cast(x, 'float32');
  }

  fromHost(data: ArrayLike<number>, shape: Shape): TfjsTensor {
    this.checkActive('fromHost');
    return this.wrap(this.tf.tensor(Float32Array.from(data), [...shape], 'float32'));
  }

  fromHostInt(data: Int32Array, shape: Shape): TfjsTensor {
    this.checkActive('fromHostInt');
    return this.wrap(this.tf.tensor(Int32Array.from(data), [...shape], 'int32'));
  }

  fill(shape: Shape, value: number): TfjsTensor {
    this.checkActive('fill');
    return this.wrap(this.tf.fill([...shape], value, 'float32'));
  }

  unary(op: UnaryOp, x: TfjsTensor): TfjsTensor {
    const tf = this.tf;
    return this.wrap(tf.tidy(() => UNARY[op](tf, x.tensor)));
  }

  binary(op: BinaryOp, a: TfjsTensor, b: TfjsTensor): TfjsTensor {
    return this.wrap(BINARY[op](this.tf, a.tensor, b.tensor));
  }

  /** 0/1 floats. */
  compare(op: CompareOp, a: TfjsTensor, b: TfjsTensor): TfjsTensor {
    const tf = this.tf;
    return this.wrap(tf.tidy(() => this.float(COMPARE[op](tf, a.tensor, b.tensor))));
  }

  where(cond: TfjsTensor, a: TfjsTensor, b: TfjsTensor): TfjsTensor {
    const tf = this.tf;
    return this.wrap(tf.tidy(() => tf.where(tf.notEqual(cond.tensor, tf.scalar(0)), a.tensor, b.tensor)));
  }

  reduce(op: ReduceOp, x: TfjsTensor, axes: readonly number[], keepDims: boolean): TfjsTensor {
    const tf = this.tf;
    const ax = axes.map((a) => normalizeAxis(a, x.shape.length));
    if (ax.length === 0) return this.wrap(tf.clone(x.tensor));
    if (op === 'sum') return this.wrap(tf.sum(x.tensor, ax, keepDims));
    if (op === 'mean') return this.wrap(tf.mean(x.tensor, ax, keepDims));
    return this.wrap(tf.max(x.tensor, ax, keepDims));
  }

  reshape(x: TfjsTensor, shape: Shape): TfjsTensor {
    return this.wrap(this.tf.reshape(x.tensor, [...shape]));
  }

  broadcastTo(x: TfjsTensor, shape: Shape): TfjsTensor {
    const same = x.shape.length === shape.length && x.shape.every((d, i) => d === shape[i]);
    return this.wrap(same ? this.tf.clone(x.tensor) : this.tf.broadcastTo(x.tensor, [...shape]));
  }

  slice(x: TfjsTensor, begin: readonly number[], size: readonly number[]): TfjsTensor {
    return this.wrap(this.tf.slice(x.tensor, [...begin], [...size]));
  }

  concat(xs: readonly TfjsTensor[], axis: number): TfjsTensor {
    const ax = normalizeAxis(axis, xs[0].shape.length);
    const tensors = xs.map((x) => x.tensor);
    return this.wrap(tensors.length === 1 ? this.tf.clone(tensors[0]) : this.tf.concat(tensors, ax));
  }

  /** Stable ascending order: `topk` of `−x` (tfjs's top-k breaks ties by the lower index). */
  argsort(x: TfjsTensor, axis: number): TfjsTensor {
    const tf = this.tf;
    const ax = normalizeAxis(axis, x.shape.length);
    const rank = x.shape.length;
    return this.wrap(
      tf.tidy(() => {
        const last = ax === rank - 1;
        const perm = [...Array(rank).keys()].filter((a) => a !== ax).concat(ax);
        const moved = last ? x.tensor : tf.transpose(x.tensor, perm);
        const { indices } = tf.topk(tf.neg(moved), x.shape[ax], true);
        if (last) return indices;
        const inverse = new Array<number>(rank);
        perm.forEach((p, i) => (inverse[p] = i));
        return tf.transpose(indices, inverse);
      }),
    );
  }

  gather(x: TfjsTensor, indices: TfjsTensor, axis: number): TfjsTensor {
    const tf = this.tf;
    const ax = normalizeAxis(axis, x.shape.length);
    return this.wrap(tf.tidy(() => gatherElements(tf, x.tensor, indices.tensor, ax)));
  }

  scatterAdd(shape: Shape, indices: TfjsTensor, updates: TfjsTensor, axis: number): TfjsTensor {
    const tf = this.tf;
    const ax = normalizeAxis(axis, shape.length);
    return this.wrap(tf.tidy(() => scatterAddElements(tf, shape, indices.tensor, updates.tensor, ax)));
  }

  /** `logits [N, V]`: the WebAssembly kernel on cpu/wasm (see {@link WasmTokenLogProbs}), tfjs's ops elsewhere. */
  tokenLogProbs(logits: TfjsTensor, labels: TfjsTensor, ignoreIndex: number): TokenLogProbsResult<TfjsTensor> {
    const tf = this.tf;
    if (this.wasmTokens.active()) {
      const { logps, logSumExp, probs } = this.wasmTokens.forward(logits.tensor, labels.tensor, ignoreIndex);
      const residual = this.wrap(logSumExp);
      residual.probs = probs;
      return { logps: this.wrap(logps), logSumExp: residual };
    }
    const { logps, logSumExp } = tf.tidy(() => tokenLogProbsForward(tf, logits.tensor, labels.tensor, ignoreIndex));
    return { logps: this.wrap(logps), logSumExp: this.wrap(logSumExp) };
  }

  tokenLogProbsGrad(logits: TfjsTensor, labels: TfjsTensor, logSumExp: TfjsTensor, upstream: TfjsTensor, ignoreIndex: number): TfjsTensor {
    const tf = this.tf;
    if (this.wasmTokens.active()) {
      const probs = logSumExp.probs;
      logSumExp.probs = null;
      const target = this.takeGradientTarget(logits);
      const onWasm = tf.getBackend() === 'wasm';
      const grad = this.wasmTokens.backward(
        logits.tensor,
        labels.tensor,
        logSumExp.tensor,
        upstream.tensor,
        ignoreIndex,
        probs,
        onWasm ? null : target,
      );
      // On wasm the gradient lives in tfjs's heap: `read` copies it from there into the target.
      if (onWasm && target) this.readTargets.set(grad.dataId as object, target);
      return this.wrap(grad);
    }
    return this.wrap(
      tf.tidy(() => tokenLogProbsBackward(tf, logits.tensor, labels.tensor, logSumExp.tensor, upstream.tensor, ignoreIndex)),
    );
  }

  /** Chunked `tf.matMul` over the vocabulary with an online log-sum-exp: never an `[N, V]` tensor. */
  linearTokenLogProbs(
    hidden: TfjsTensor,
    weight: TfjsTensor,
    bias: TfjsTensor | null,
    labels: TfjsTensor,
    options: LinearHeadOptions,
  ): TokenLogProbsResult<TfjsTensor> {
    const { logps, logSumExp } = linearTokenLogProbsForward(
      this.tf,
      hidden.tensor,
      weight.tensor,
      bias?.tensor ?? null,
      labels.tensor,
      options,
    );
    return { logps: this.wrap(logps), logSumExp: this.wrap(logSumExp) };
  }

  linearTokenLogProbsGrad(
    hidden: TfjsTensor,
    weight: TfjsTensor,
    bias: TfjsTensor | null,
    labels: TfjsTensor,
    logSumExp: TfjsTensor,
    upstream: TfjsTensor,
    options: LinearHeadOptions,
  ): LinearTokenLogProbsGrads<TfjsTensor> {
    const grads = linearTokenLogProbsBackward(
      this.tf,
      hidden.tensor,
      weight.tensor,
      bias?.tensor ?? null,
      labels.tensor,
      logSumExp.tensor,
      upstream.tensor,
      options,
    );
    return { hidden: this.wrap(grads.hidden), weight: this.wrap(grads.weight), bias: grads.bias ? this.wrap(grads.bias) : null };
  }

  /** Token entropy with tfjs ops (`logSumExp`, then `Σ p·log p`); the gradient from its residuals. */
  tokenEntropy(logits: TfjsTensor): TokenEntropyResult<TfjsTensor> {
    const tf = this.tf;
    const { entropy, logSumExp } = tf.tidy(() => tokenEntropyForward(tf, logits.tensor));
    return { entropy: this.wrap(entropy), logSumExp: this.wrap(logSumExp) };
  }

  tokenEntropyGrad(logits: TfjsTensor, logSumExp: TfjsTensor, entropy: TfjsTensor, upstream: TfjsTensor): TfjsTensor {
    const tf = this.tf;
    return this.wrap(tf.tidy(() => tokenEntropyBackward(tf, logits.tensor, logSumExp.tensor, entropy.tensor, upstream.tensor)));
  }

  /** Chunked `tf.matMul` over the vocabulary, online log-sum-exp and `Σ p·z`: never an `[N, V]` tensor. */
  linearTokenEntropy(
    hidden: TfjsTensor,
    weight: TfjsTensor,
    bias: TfjsTensor | null,
    options: LinearEntropyOptions,
  ): TokenEntropyResult<TfjsTensor> {
    const { entropy, logSumExp } = linearTokenEntropyForward(this.tf, hidden.tensor, weight.tensor, bias?.tensor ?? null, options);
    return { entropy: this.wrap(entropy), logSumExp: this.wrap(logSumExp) };
  }

  linearTokenEntropyGrad(
    hidden: TfjsTensor,
    weight: TfjsTensor,
    bias: TfjsTensor | null,
    logSumExp: TfjsTensor,
    entropy: TfjsTensor,
    upstream: TfjsTensor,
    options: LinearEntropyOptions,
  ): LinearTokenLogProbsGrads<TfjsTensor> {
    const grads = linearTokenEntropyBackward(
      this.tf,
      hidden.tensor,
      weight.tensor,
      bias?.tensor ?? null,
      logSumExp.tensor,
      entropy.tensor,
      upstream.tensor,
      options,
    );
    return { hidden: this.wrap(grads.hidden), weight: this.wrap(grads.weight), bias: grads.bias ? this.wrap(grads.bias) : null };
  }

  /** tfjs's `data()` of each tensor, converted only where its type differs (no second copy of a gradient). */
  async read(xs: readonly TfjsTensor[]): Promise<HostArray[]> {
    this.checkActive('read');
    const values = await Promise.all(
      xs.map((x) => {
        const target = this.readTargets.get(x.tensor.dataId as object);
        if (!target) return x.tensor.data();
        this.readTargets.delete(x.tensor.dataId as object);
        target.set(this.wasmTokens.view(x.tensor) as Float32Array);
        return target;
      }),
    );
    return values.map((v, i) => {
      const Typed = xs[i].tensor.dtype === 'int32' ? Int32Array : Float32Array;
      return v instanceof Typed ? v : Typed.from(v as ArrayLike<number>);
    });
  }

  dispose(x: TfjsTensor): void {
    this.readTargets.delete(x.tensor.dataId as object);
    x.tensor.dispose();
    x.probs?.free();
    x.probs = null;
  }

  /**
   * `valueAndGrad`'s `gradients` hint: the logits-path gradient of `input` is written into `target`
   * (a `Float32Array`; on the cpu backend it then is the gradient tensor's storage, so nothing is
   * copied after the kernel).
   */
  writeGradientInto(input: TfjsTensor, target: FloatArray | null): void {
    const id = input.tensor.dataId as object;
    if (target instanceof Float32Array && target.length === input.tensor.size) this.gradientTargets.set(id, target);
    else this.gradientTargets.delete(id);
  }

  /** The gradient target of `logits` (the same storage as the input it reshapes), taken once. */
  private takeGradientTarget(logits: TfjsTensor): Float32Array | null {
    const id = logits.tensor.dataId as object;
    const target = this.gradientTargets.get(id) ?? null;
    this.gradientTargets.delete(id);
    return target;
  }

  /** Wraps a float32 `tf.Tensor` of this tfjs instance (e.g. a model's logits) without copying it. */
  adopt(value: unknown): TfjsTensor | undefined {
    this.checkActive('adopt');
    if (value instanceof this.tf.Tensor) {
      if (value.isDisposed) throw new PrefInputError('batch', 'tfjs backend: a batch input is a disposed tf.Tensor');
      if (value.dtype !== 'float32')
        throw new PrefInputError('batch', `tfjs backend: a batch input tf.Tensor must be float32, got ${value.dtype}`);
      return this.wrap(value);
    }
    if (isTfjsTensorLike(value)) {
      throw new PrefInputError(
        'batch',
        'tfjs backend: a batch input is a tf.Tensor of another @tensorflow/tfjs-core instance than the tf given to createTfjsBackend; pass the same tf module your model uses',
      );
    }
    return undefined;
  }
}

/**
 * A pref backend on the user's tfjs instance: `createTfjsBackend({ tf })`. Use it with core's
 * `valueAndGrad` (core autodiff) or with {@link tfjsLoss} (tfjs autodiff, trains model variables).
 */
export function createTfjsBackend(options: TfjsBackendOptions): TfjsBackend {
  return new TfjsBackend(options);
}
