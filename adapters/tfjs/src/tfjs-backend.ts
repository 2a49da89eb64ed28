import {
  BACKEND_SPECIFICATION_VERSION,
  normalizeAxis,
  reducedShape,
  sizeOf,
  type BackendCapabilities,
  type BinaryOp,
  type CompareOp,
  type HostArray,
  type PrefBackend,
  type ReduceOp,
  type Shape,
  type UnaryOp,
} from '@pref/core';
import type { GradSaveFunc, Tensor as TfTensor } from '@tensorflow/tfjs-core';
import type { Tfjs } from './tfjs-types';
import { TfjsTensor } from './tfjs-tensor';
import { gatherElements, scatterAddElements } from './gather-elements';
import { tokenLogProbsBackward, tokenLogProbsForward } from './token-log-probs';
import { WasmTokenLogProbs } from './wasm-token-log-probs';

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
}

/** What a taped forward keeps for its gradient: the inputs, the output, and extra tensors. */
interface Saved {
  readonly inputs: readonly TfTensor[];
  readonly output: TfTensor;
  readonly extras: readonly TfTensor[];
}

type Gradient = (dy: TfTensor, saved: Saved) => TfTensor[];

const UNARY_FORWARD: Record<UnaryOp, (tf: Tfjs, x: TfTensor) => TfTensor> = {
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

/** Core's gradient rules (`TensorOps`), so both gradient paths agree, ties and zeros included. */
const UNARY_GRADIENT: Record<UnaryOp, (tf: Tfjs, dy: TfTensor, x: TfTensor, y: TfTensor) => TfTensor> = {
  neg: (tf, dy) => tf.neg(dy),
  exp: (tf, dy, _x, y) => tf.mul(dy, y),
  log: (tf, dy, x) => tf.div(dy, x),
  log1p: (tf, dy, x) => tf.div(dy, tf.add(x, tf.scalar(1))),
  expm1: (tf, dy, _x, y) => tf.mul(dy, tf.add(y, tf.scalar(1))),
  sigmoid: (tf, dy, _x, y) => tf.mul(dy, tf.mul(y, tf.sub(tf.scalar(1), y))),
  softplus: (tf, dy, x) => tf.mul(dy, tf.sigmoid(x)),
  logSigmoid: (tf, dy, x) => tf.mul(dy, tf.sigmoid(tf.neg(x))),
  relu: (tf, dy, x) => tf.mul(dy, float(tf, tf.greater(x, tf.scalar(0)))),
  square: (tf, dy, x) => tf.mul(dy, tf.mul(x, tf.scalar(2))),
  sqrt: (tf, dy, _x, y) => tf.div(dy, tf.mul(y, tf.scalar(2))),
  abs: (tf, dy, x) => tf.mul(dy, tf.sub(float(tf, tf.greater(x, tf.scalar(0))), float(tf, tf.less(x, tf.scalar(0))))),
};

const BINARY_FORWARD: Record<BinaryOp, (tf: Tfjs, a: TfTensor, b: TfTensor) => TfTensor> = {
  add: (tf, a, b) => tf.add(a, b),
  sub: (tf, a, b) => tf.sub(a, b),
  mul: (tf, a, b) => tf.mul(a, b),
  div: (tf, a, b) => tf.div(a, b),
  pow: (tf, a, b) => tf.pow(a, b),
  maximum: (tf, a, b) => tf.maximum(a, b),
  minimum: (tf, a, b) => tf.minimum(a, b),
};

/** Gradients before summing broadcast axes away; ties of maximum/minimum go to `a`, as in core. */
const BINARY_GRADIENT: Record<BinaryOp, (tf: Tfjs, dy: TfTensor, a: TfTensor, b: TfTensor, y: TfTensor) => [TfTensor, TfTensor]> = {
  add: (_tf, dy) => [dy, dy],
  sub: (tf, dy) => [dy, tf.neg(dy)],
  mul: (tf, dy, a, b) => [tf.mul(dy, b), tf.mul(dy, a)],
  div: (tf, dy, _a, b, y) => [tf.div(dy, b), tf.neg(tf.div(tf.mul(dy, y), b))],
  pow: (tf, dy, a, b, y) => [tf.mul(dy, tf.mul(b, tf.pow(a, tf.sub(b, tf.scalar(1))))), tf.mul(dy, tf.mul(y, tf.log(a)))],
  maximum: (tf, dy, a, b) => splitTies(tf, dy, float(tf, tf.greaterEqual(a, b))),
  minimum: (tf, dy, a, b) => splitTies(tf, dy, float(tf, tf.lessEqual(a, b))),
};

const COMPARE: Record<CompareOp, (tf: Tfjs, a: TfTensor, b: TfTensor) => TfTensor> = {
  greater: (tf, a, b) => tf.greater(a, b),
  greaterEqual: (tf, a, b) => tf.greaterEqual(a, b),
  less: (tf, a, b) => tf.less(a, b),
  lessEqual: (tf, a, b) => tf.lessEqual(a, b),
  equal: (tf, a, b) => tf.equal(a, b),
};

function float(tf: Tfjs, x: TfTensor): TfTensor {
  return tf.cast(x, 'float32');
}

function splitTies(tf: Tfjs, dy: TfTensor, pickA: TfTensor): [TfTensor, TfTensor] {
  return [tf.mul(dy, pickA), tf.mul(dy, tf.sub(tf.scalar(1), pickA))];
}

function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Sums a broadcast gradient back to `shape`. */
function sumToShape(tf: Tfjs, g: TfTensor, shape: Shape): TfTensor {
  if (sameShape(g.shape, shape)) return g;
  const offset = g.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.rank; i++) if (i < offset || (shape[i - offset] === 1 && g.shape[i] !== 1)) axes.push(i);
  return tf.reshape(axes.length ? tf.sum(g, axes, true) : g, [...shape]);
}

function isTfjsTensorLike(value: unknown): boolean {
  const v = value as { dataId?: unknown; shape?: unknown; dtype?: unknown; dataSync?: unknown };
  return typeof value === 'object' && value !== null && v.dataId !== undefined && Array.isArray(v.shape) && typeof v.dataSync === 'function';
}

/**
 * The tfjs backend: every primitive on the user's `tf` instance, on whatever tfjs backend is
 * active (cpu, wasm, webgpu, tensorflow from tfjs-node). Float tensors are float32.
 *
 * Each differentiable primitive is one `tf.customGrad` node whose gradient is core's rule written
 * in forward kernels, so a loss built from these primitives trains the user's variables under
 * `tf.grad` / `optimizer.minimize` on every tfjs backend: no registered tfjs gradient is needed,
 * none missing on wasm (gather, comparisons inside `tf.grad`) gets in the way, and ties, zeros
 * and detached values behave exactly as in core's autodiff.
 */
export class TfjsBackend implements PrefBackend<TfjsTensor> {
  readonly specificationVersion = BACKEND_SPECIFICATION_VERSION;
  readonly capabilities: BackendCapabilities = { precision: 32, float64: false, nativeAutodiff: true, execution: 'eager' };
  readonly tf: Tfjs;
  private readonly wasmTokens: WasmTokenLogProbs;

  constructor(options: TfjsBackendOptions) {
    if (!options?.tf || typeof options.tf.customGrad !== 'function') {
      throw new Error('createTfjsBackend: options.tf must be the tfjs module (import * as tf from "@tensorflow/tfjs")');
    }
    if (options.precision !== undefined && options.precision !== 32) {
      throw new Error(`createTfjsBackend: precision must be 32 (tfjs computes in float32), got ${String(options.precision)}`);
    }
    this.tf = options.tf;
    const tokenKernel = options.tokenKernel ?? 'auto';
    if (tokenKernel !== 'auto' && tokenKernel !== 'wasm' && tokenKernel !== 'tfjs') {
      throw new Error(`createTfjsBackend: tokenKernel must be auto, wasm or tfjs, got ${String(tokenKernel)}`);
    }
    this.wasmTokens = new WasmTokenLogProbs(this.tf, tokenKernel);
  }

  /** `tfjs:<active tfjs backend>`, e.g. `tfjs:cpu`, `tfjs:wasm`, `tfjs:webgpu`, `tfjs:tensorflow`. */
  get name(): string {
    return `tfjs:${this.tf.getBackend()}`;
  }

  /**
   * Runs `forward` as one node of tfjs's tape with gradient `gradient`. Inputs must be float;
   * `extras` (labels, indices, conditions) are saved for the gradient but get none.
   */
  private taped(inputs: TfTensor[], forward: () => TfTensor, gradient: Gradient, extras: TfTensor[] = []): TfTensor {
    const count = inputs.length;
    const op = this.tf.customGrad((...args: (TfTensor | GradSaveFunc)[]) => {
      const save = args[count] as GradSaveFunc;
      const value = forward();
      save([...inputs, value, ...extras]);
      return {
        value,
        gradFunc: (dy: TfTensor, saved: TfTensor[]) =>
          gradient(dy, { inputs: saved.slice(0, count), output: saved[count], extras: saved.slice(count + 1) }),
      };
    });
    return op(...inputs);
  }

  private wrap(tensor: TfTensor): TfjsTensor {
    return new TfjsTensor(tensor);
  }

  private isInt(...xs: TfjsTensor[]): boolean {
    return xs.some((x) => x.tensor.dtype === 'int32');
  }

  fromHost(data: ArrayLike<number>, shape: Shape): TfjsTensor {
    if (data.length !== sizeOf(shape)) throw new Error(`fromHost: ${data.length} values for shape [${shape.join(', ')}]`);
    return this.wrap(this.tf.tensor(Float32Array.from(data), [...shape], 'float32'));
  }

  fromHostInt(data: Int32Array, shape: Shape): TfjsTensor {
    if (data.length !== sizeOf(shape)) throw new Error(`fromHostInt: ${data.length} values for shape [${shape.join(', ')}]`);
    return this.wrap(this.tf.tensor(Int32Array.from(data), [...shape], 'int32'));
  }

  fill(shape: Shape, value: number): TfjsTensor {
    return this.wrap(this.tf.fill([...shape], value, 'float32'));
  }

  unary(op: UnaryOp, x: TfjsTensor): TfjsTensor {
    const tf = this.tf;
    return this.wrap(
      this.taped([x.tensor], () => UNARY_FORWARD[op](tf, x.tensor), (dy, { inputs: [input], output }) => [
        UNARY_GRADIENT[op](tf, dy, input, output),
      ]),
    );
  }

  binary(op: BinaryOp, a: TfjsTensor, b: TfjsTensor): TfjsTensor {
    const tf = this.tf;
    return this.wrap(
      this.taped([a.tensor, b.tensor], () => BINARY_FORWARD[op](tf, a.tensor, b.tensor), (dy, { inputs: [ta, tb], output }) => {
        const [ga, gb] = BINARY_GRADIENT[op](tf, dy, ta, tb, output);
        return [sumToShape(tf, ga, ta.shape), sumToShape(tf, gb, tb.shape)];
      }),
    );
  }

  /** 0/1 floats; on tfjs's tape a node with zero gradient (tfjs registers none for comparisons). */
  compare(op: CompareOp, a: TfjsTensor, b: TfjsTensor): TfjsTensor {
    const tf = this.tf;
    return this.wrap(
      this.taped([a.tensor, b.tensor], () => float(tf, COMPARE[op](tf, a.tensor, b.tensor)), (_dy, { inputs: [ta, tb] }) => [
        tf.zerosLike(ta),
        tf.zerosLike(tb),
      ]),
    );
  }

  where(cond: TfjsTensor, a: TfjsTensor, b: TfjsTensor): TfjsTensor {
    const tf = this.tf;
    const zero = () => tf.scalar(0);
    return this.wrap(
      this.taped(
        [a.tensor, b.tensor],
        () => tf.where(tf.notEqual(cond.tensor, zero()), a.tensor, b.tensor),
        (dy, { inputs: [ta, tb], extras: [condition] }) => {
          const picks = tf.notEqual(condition, zero());
          return [
            sumToShape(tf, tf.where(picks, dy, zero()), ta.shape),
            sumToShape(tf, tf.where(picks, zero(), dy), tb.shape),
          ];
        },
        [cond.tensor],
      ),
    );
  }

  reduce(op: ReduceOp, x: TfjsTensor, axes: readonly number[], keepDims: boolean): TfjsTensor {
    const tf = this.tf;
    const ax = axes.map((a) => normalizeAxis(a, x.shape.length));
    const kept = reducedShape(x.shape, ax, true);
    const count = ax.reduce((n, a) => n * x.shape[a], 1);
    const forward = (): TfTensor => {
      if (ax.length === 0) return tf.clone(x.tensor);
      if (op === 'sum') return tf.sum(x.tensor, ax, keepDims);
      if (op === 'mean') return tf.mean(x.tensor, ax, keepDims);
      return tf.max(x.tensor, ax, keepDims);
    };
    return this.wrap(
      this.taped([x.tensor], forward, (dy, { inputs: [input], output }) => {
        const upstream = tf.reshape(dy, kept);
        if (op === 'sum') return [tf.broadcastTo(upstream, input.shape)];
        if (op === 'mean') return [tf.broadcastTo(tf.div(upstream, tf.scalar(count)), input.shape)];
        // Tied maxima share the gradient equally, as in core.
        const isMax = float(tf, tf.equal(input, tf.reshape(output, kept)));
        const share = ax.length ? tf.div(isMax, tf.sum(isMax, ax, true)) : isMax;
        return [tf.mul(share, upstream)];
      }),
    );
  }

  reshape(x: TfjsTensor, shape: Shape): TfjsTensor {
    const tf = this.tf;
    if (this.isInt(x)) return this.wrap(tf.reshape(x.tensor, [...shape]));
    return this.wrap(this.taped([x.tensor], () => tf.reshape(x.tensor, [...shape]), (dy, { inputs: [input] }) => [tf.reshape(dy, input.shape)]));
  }

  broadcastTo(x: TfjsTensor, shape: Shape): TfjsTensor {
    const tf = this.tf;
    const forward = () => (sameShape(x.shape, shape) ? tf.clone(x.tensor) : tf.broadcastTo(x.tensor, [...shape]));
    if (this.isInt(x)) return this.wrap(forward());
    return this.wrap(this.taped([x.tensor], forward, (dy, { inputs: [input] }) => [sumToShape(tf, dy, input.shape)]));
  }

  slice(x: TfjsTensor, begin: readonly number[], size: readonly number[]): TfjsTensor {
    const tf = this.tf;
    x.shape.forEach((d, i) => {
      if (begin[i] < 0 || size[i] < 0 || begin[i] + size[i] > d) {
        throw new Error(`slice: begin [${begin.join(', ')}] size [${size.join(', ')}] outside [${x.shape.join(', ')}]`);
      }
    });
    const forward = () => tf.slice(x.tensor, [...begin], [...size]);
    if (this.isInt(x)) return this.wrap(forward());
    const padding = x.shape.map((d, i) => [begin[i], d - begin[i] - size[i]] as [number, number]);
    return this.wrap(this.taped([x.tensor], forward, (dy) => [tf.pad(dy, padding)]));
  }

  concat(xs: readonly TfjsTensor[], axis: number): TfjsTensor {
    const tf = this.tf;
    const ax = normalizeAxis(axis, xs[0].shape.length);
    const tensors = xs.map((x) => x.tensor);
    const forward = () => (tensors.length === 1 ? tf.clone(tensors[0]) : tf.concat(tensors, ax));
    if (this.isInt(...xs)) return this.wrap(forward());
    return this.wrap(
      this.taped(tensors, forward, (dy, { inputs }) => {
        let offset = 0;
        return inputs.map((input) => {
          const begin = dy.shape.map((_, i) => (i === ax ? offset : 0));
          offset += input.shape[ax];
          return tf.slice(dy, begin, input.shape);
        });
      }),
    );
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
    const forward = () => gatherElements(tf, x.tensor, indices.tensor, ax);
    if (this.isInt(x)) return this.wrap(tf.tidy(forward));
    return this.wrap(
      this.taped([x.tensor], forward, (dy, { inputs: [input], extras: [index] }) => [scatterAddElements(tf, input.shape, index, dy, ax)], [indices.tensor]),
    );
  }

  scatterAdd(shape: Shape, indices: TfjsTensor, updates: TfjsTensor, axis: number): TfjsTensor {
    const tf = this.tf;
    const ax = normalizeAxis(axis, shape.length);
    return this.wrap(
      this.taped(
        [updates.tensor],
        () => scatterAddElements(tf, shape, indices.tensor, updates.tensor, ax),
        (dy, { extras: [index] }) => [gatherElements(tf, dy, index, ax)],
        [indices.tensor],
      ),
    );
  }

  /** One tape node on the logits; the gradient reuses the saved log-sum-exp. */
  tokenLogProbs(logits: TfjsTensor, labels: TfjsTensor, ignoreIndex: number): TfjsTensor {
    const tf = this.tf;
    const kernel = this.wasmTokens.active() ? this.wasmTokens : null;
    const op = tf.customGrad((...args: (TfTensor | GradSaveFunc)[]) => {
      const save = args[1] as GradSaveFunc;
      const { logps, logSumExp } = kernel
        ? kernel.forward(logits.tensor, labels.tensor, ignoreIndex)
        : tokenLogProbsForward(tf, logits.tensor, labels.tensor, ignoreIndex);
      save([logits.tensor, labels.tensor, logSumExp]);
      return {
        value: logps,
        gradFunc: (dy: TfTensor, [savedLogits, savedLabels, savedLse]: TfTensor[]) =>
          kernel
            ? kernel.backward(savedLogits, savedLabels, dy, ignoreIndex, savedLse)
            : tokenLogProbsBackward(tf, savedLogits, savedLabels, dy, ignoreIndex, savedLse),
      };
    });
    return this.wrap(op(logits.tensor));
  }

  tokenLogProbsGrad(logits: TfjsTensor, labels: TfjsTensor, upstream: TfjsTensor, ignoreIndex: number): TfjsTensor {
    const tf = this.tf;
    if (this.wasmTokens.active()) return this.wrap(this.wasmTokens.backward(logits.tensor, labels.tensor, upstream.tensor, ignoreIndex));
    return this.wrap(tf.tidy(() => tokenLogProbsBackward(tf, logits.tensor, labels.tensor, upstream.tensor, ignoreIndex)));
  }

  /** The same values with zero gradient on tfjs's tape (`forwardTensors` calls it for `ops.stopGradient`). */
  stopGradient(x: TfjsTensor): TfjsTensor {
    const tf = this.tf;
    if (this.isInt(x)) return this.wrap(tf.clone(x.tensor));
    return this.wrap(this.taped([x.tensor], () => tf.clone(x.tensor), (_dy, { inputs: [input] }) => [tf.zerosLike(input)]));
  }

  async read(xs: readonly TfjsTensor[]): Promise<HostArray[]> {
    const values = await Promise.all(xs.map((x) => x.tensor.data()));
    return values.map((v, i) => (xs[i].tensor.dtype === 'int32' ? Int32Array.from(v as ArrayLike<number>) : Float32Array.from(v as ArrayLike<number>)));
  }

  dispose(x: TfjsTensor): void {
    x.tensor.dispose();
  }

  /** Wraps a float32 `tf.Tensor` of this tfjs instance (e.g. a model's logits) without copying it. */
  adopt(value: unknown): TfjsTensor | undefined {
    if (value instanceof this.tf.Tensor) {
      if (value.isDisposed) throw new Error('tfjs backend: a batch input is a disposed tf.Tensor');
      if (value.dtype !== 'float32') throw new Error(`tfjs backend: a batch input tf.Tensor must be float32, got ${value.dtype}`);
      return this.wrap(value);
    }
    if (isTfjsTensorLike(value)) {
      throw new Error(
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
