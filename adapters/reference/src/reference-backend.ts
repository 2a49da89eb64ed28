import {
  type BackendBufferStats,
  type BackendCapabilities,
  type BackendTensor,
  type HostArray,
  type PrefBackend,
  type Shape,
  PrefConfigError,
  PrefShapeError,
} from '@pref/core';
import {
  BACKEND_SPECIFICATION_VERSION,
  broadcastShapes,
  broadcastStrides,
  stridesOf,
  normalizeAxis,
  reducedShape,
  sizeOf,
  type BinaryOp,
  type CompareOp,
  type LinearEntropyOptions,
  type LinearHeadOptions,
  type LinearTokenLogProbsGrads,
  type ReduceOp,
  type TokenEntropyResult,
  type TokenLogProbsResult,
  type UnaryOp,
} from '@pref/core/backend';
import {
  createCpuKernels,
  wasmSharedMemorySupported,
  wasmSimdSupported,
  type ArenaStats,
  type CpuKernels,
  type FloatArray,
} from '@pref/cpu-kernels';
import { freeWhenCollected, TensorStorage } from './tensor-storage';
import { linearTokenEntropyGradRows, linearTokenEntropyRows, tokenEntropyGradRows, tokenEntropyRows } from './token-entropy';

type Data = Float64Array | Float32Array | Int32Array;

/** A tensor of the reference backend: a typed array in row-major order. */
export class ReferenceTensor implements BackendTensor {
  /** On a `tokenLogProbs` residual: the softmax the forward wrote, which its gradient turns into the gradient in place. */
  stash: ReferenceTensor | null = null;
  /** Set by `dispose` (a second dispose is a no-op). */
  released = false;
  constructor(
    readonly shape: Shape,
    readonly dtype: 'float' | 'int32',
    readonly data: Data,
    /** The memory of a `fromHost` or kernel result (shared by reshapes); null for plain arrays. */
    readonly storage: TensorStorage | null = null,
  ) {}
}

/** Float tensors from this many bytes up live in the kernels' arena (below it, in plain arrays). */
const RESIDENT_BYTES = 1 << 16;
/** Buffers from this many bytes up count in `stats()`. */
const LARGE_BYTES = 1 << 20;

export interface ReferenceBackendOptions {
  /** Float precision: 64 (default, the oracle) or 32 (rounds every result to float32). */
  readonly precision?: 32 | 64;
  /**
   * Kernel of the fused token log-probs: `wasm` (WebAssembly SIMD, split over worker threads in
   * Node), `js` (plain TypeScript: the oracle), or `auto` (default: wasm where the platform runs
   * it, else js).
   */
  readonly kernels?: 'auto' | 'wasm' | 'js';
  /** Threads for the wasm kernel (default: the available cores in Node). */
  readonly threads?: number;
  /**
   * Scratch budget of the hidden-state kernels' vocabulary chunks, over all threads (default
   * 16 MiB): the loss layer's extra memory beyond its inputs and gradients. A `chunkSize` in
   * `LinearHeadOptions` overrides the chunk it implies.
   */
  readonly linearScratchBytes?: number;
}

/** Calls `visit(outIndex, offsets...)` over `target`, with each input's flat offset. */
function forEachBroadcast(target: Shape, inputStrides: number[][], visit: (out: number, offsets: number[]) => void): void {
  const size = sizeOf(target);
  const rank = target.length;
  const counter = new Array<number>(rank).fill(0);
  const offsets = inputStrides.map(() => 0);
  for (let out = 0; out < size; out++) {
    visit(out, offsets);
    for (let axis = rank - 1; axis >= 0; axis--) {
      counter[axis]++;
      for (let k = 0; k < inputStrides.length; k++) offsets[k] += inputStrides[k][axis];
      if (counter[axis] < target[axis]) break;
      for (let k = 0; k < inputStrides.length; k++) offsets[k] -= inputStrides[k][axis] * target[axis];
      counter[axis] = 0;
    }
  }
}

function softplus(x: number): number {
  return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
}

function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

const UNARY: Record<UnaryOp, (x: number) => number> = {
  neg: (x) => -x,
  exp: Math.exp,
  log: Math.log,
  log1p: Math.log1p,
  expm1: Math.expm1,
  sigmoid,
  softplus,
  logSigmoid: (x) => -softplus(-x),
  relu: (x) => (x > 0 ? x : 0),
  square: (x) => x * x,
  sqrt: Math.sqrt,
  abs: Math.abs,
};

const BINARY: Record<BinaryOp, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  pow: Math.pow,
  maximum: (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : a >= b ? a : b),
  minimum: (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : a <= b ? a : b),
};

const COMPARE: Record<CompareOp, (a: number, b: number) => boolean> = {
  greater: (a, b) => a > b,
  greaterEqual: (a, b) => a >= b,
  less: (a, b) => a < b,
  lessEqual: (a, b) => a <= b,
  equal: (a, b) => a === b,
};

/**
 * The reference backend: every primitive in plain TypeScript over `Float64Array` (default)
 * or `Float32Array`, eager. It is the embedded default and the oracle the other backends are
 * tested against. `tokenLogProbs` is one fused pass per row (running max, log-sum-exp) and
 * allocates nothing of size `[N, T, V]` besides its gradient.
 */
export class ReferenceBackend implements PrefBackend<ReferenceTensor> {
  readonly specificationVersion = BACKEND_SPECIFICATION_VERSION;
  readonly name: string;
  readonly capabilities: BackendCapabilities;
  private readonly Float: Float64ArrayConstructor | Float32ArrayConstructor;
  /** The WebAssembly kernels (logits and hidden-state paths), or null on the plain TypeScript path. */
  private readonly kernels: CpuKernels | null;
  /** Whether large float tensors live in the kernels' arena (a shared memory: its views never detach). */
  private readonly resident: boolean;
  private readonly linearScratchBytes: number;
  private readonly counters = { largeBufferAllocations: 0, largeBufferBytes: 0 };

  constructor(options: ReferenceBackendOptions = {}) {
    const precision = options.precision ?? 64;
    if (precision !== 32 && precision !== 64)
      throw new PrefConfigError('precision', `reference backend: precision must be 32 or 64, got ${String(precision)}`);
    this.Float = precision === 64 ? Float64Array : Float32Array;
    this.name = precision === 64 ? 'reference' : 'reference:f32';
    this.capabilities = { precision, float64: true, nativeAutodiff: false, execution: 'eager' } as const;
    const kernels = options.kernels ?? 'auto';
    if (kernels !== 'auto' && kernels !== 'wasm' && kernels !== 'js')
      throw new PrefConfigError('kernels', `reference backend: kernels must be auto, wasm or js, got ${String(kernels)}`);
    if (kernels === 'wasm' && !wasmSimdSupported())
      throw new PrefConfigError('kernels', 'reference backend: kernels "wasm" needs WebAssembly SIMD, which this platform lacks');
    const wasm = kernels !== 'js' && wasmSimdSupported();
    this.resident = wasm && wasmSharedMemorySupported();
    this.kernels = wasm ? createCpuKernels({ precision, threads: options.threads, sharedMemory: this.resident }) : null;
    this.linearScratchBytes = options.linearScratchBytes ?? 16 << 20;
    if (!(Number.isFinite(this.linearScratchBytes) && this.linearScratchBytes > 0)) {
      throw new PrefConfigError(
        'linearScratchBytes',
        `reference backend: linearScratchBytes must be a positive number, got ${String(options.linearScratchBytes)}`,
      );
    }
  }

  /** `wasm` or `js`: which token log-prob kernel runs. */
  get kernelName(): 'wasm' | 'js' {
    return this.kernels ? 'wasm' : 'js';
  }

  /** A new plain float tensor (zeros, or a copy of `data`). */
  private float(shape: Shape, data?: ArrayLike<number>): ReferenceTensor {
    const values = this.plainArray(sizeOf(shape));
    if (data) values.set(data);
    return new ReferenceTensor([...shape], 'float', values);
  }

  private plainArray(length: number): FloatArray {
    const values = new this.Float(length);
    if (values.byteLength >= LARGE_BYTES) {
      this.counters.largeBufferAllocations++;
      this.counters.largeBufferBytes += values.byteLength;
    }
    return values;
  }

  /**
   * A float result the size of `length`: in a new arena block when tensors are resident and it is
   * large, else a plain array.
   */
  private output(shape: Shape): ReferenceTensor {
    const length = sizeOf(shape);
    if (!this.resident || length * this.Float.BYTES_PER_ELEMENT < RESIDENT_BYTES) return this.float(shape);
    const block = this.kernels!.arena.allocate('float', length);
    return new ReferenceTensor([...shape], 'float', block.view, new TensorStorage(block));
  }

  /** A tensor over a gradient target (`writeGradientInto`) when one fits `input`, else a new result. */
  private gradientOutput(input: ReferenceTensor, shape: Shape): ReferenceTensor {
    const target = input.storage?.takeGradientTarget(sizeOf(shape), this.Float, input.data as FloatArray);
    return target ? new ReferenceTensor([...shape], 'float', target, new TensorStorage(null)) : this.output(shape);
  }

  /**
   * Where the data goes: an array from {@link allocate} is used in place (no copy, and the
   * caller may rewrite it between calls); with the WebAssembly kernels anything else of at least
   * 64 KiB is copied once into the kernels' memory (a block reused call after call); a smaller
   * typed array in this backend's precision is used without a copy (do not write to it while the
   * call that uses it runs); anything else is copied.
   */
  fromHost(data: ArrayLike<number>, shape: Shape): ReferenceTensor {
    if (data.length !== sizeOf(shape))
      throw new PrefShapeError('fromHost', [shape], `fromHost: ${data.length} values for shape [${shape.join(', ')}]`);
    if (this.resident && ArrayBuffer.isView(data) && data instanceof this.Float && this.kernels!.arena.ownsView(data)?.block) {
      return new ReferenceTensor([...shape], 'float', data, new TensorStorage(null));
    }
    if (this.resident && data.length * this.Float.BYTES_PER_ELEMENT >= RESIDENT_BYTES) {
      const out = this.output(shape);
      (out.data as FloatArray).set(data);
      return out;
    }
    if (data instanceof this.Float) return new ReferenceTensor([...shape], 'float', data, new TensorStorage(null));
    const out = this.float(shape, data);
    return new ReferenceTensor(out.shape, 'float', out.data, new TensorStorage(null));
  }

  /**
   * A zeroed array of this backend's precision in the WebAssembly kernels' memory: fill it in place
   * (your model's logits, say) and pass it as an input, and nothing is copied; pass it as a
   * `gradients` buffer of `valueAndGrad` and the kernel writes the gradient there. It stays
   * valid, and its memory yours, while you hold a reference to this very array (a `subarray` of
   * it does not keep it). On the plain TypeScript path (or without SharedArrayBuffer) it is an
   * ordinary typed array.
   */
  allocate(shape: Shape): FloatArray {
    const length = sizeOf(shape);
    if (!this.resident) return this.plainArray(length);
    const block = this.kernels!.arena.allocate('float', length);
    const view = block.view;
    view.fill(0);
    freeWhenCollected(view, block);
    return view;
  }

  writeGradientInto(input: ReferenceTensor, target: FloatArray | null): void {
    if (input.storage) input.storage.gradientTarget = target;
  }

  /**
   * Buffers of at least 1 MiB this backend created: plain arrays (results, copies `read` made)
   * and arena blocks carved from fresh memory (a block reused from the arena's free lists does
   * not count).
   */
  stats(): BackendBufferStats {
    const arena = this.kernels?.arena.stats();
    return {
      largeBufferAllocations: this.counters.largeBufferAllocations + (arena?.largeBlocksCreated ?? 0),
      largeBufferBytes: this.counters.largeBufferBytes + (arena?.largeBlockBytes ?? 0),
    };
  }

  /** The kernels' arena (memory grows, blocks created and reused, bytes in use), or null on the plain TypeScript path. */
  arenaStats(): ArenaStats | null {
    return this.kernels?.arena.stats() ?? null;
  }

  /** Rows' largest |x| by the SIMD kernel for arrays in the kernels' memory (`allocate`); `null` for others. */
  hostRowMaxAbs(data: ArrayLike<number>, rows: number, width: number): Float64Array | null {
    const kernels = this.kernels;
    if (!kernels || !(data instanceof this.Float) || data.length !== rows * width || !kernels.arena.ownsView(data)?.block) return null;
    return kernels.rowMaxAbs(data, rows, width);
  }

  fromHostInt(data: Int32Array, shape: Shape): ReferenceTensor {
    if (data.length !== sizeOf(shape))
      throw new PrefShapeError('fromHostInt', [shape], `fromHostInt: ${data.length} values for shape [${shape.join(', ')}]`);
    return new ReferenceTensor([...shape], 'int32', Int32Array.from(data));
  }

  fill(shape: Shape, value: number): ReferenceTensor {
    const t = this.float(shape);
    t.data.fill(value);
    return t;
  }

  unary(op: UnaryOp, x: ReferenceTensor): ReferenceTensor {
    const f = UNARY[op];
    const out = this.float(x.shape);
    const src = x.data;
    const dst = out.data;
    for (let i = 0; i < dst.length; i++) dst[i] = f(src[i]);
    return out;
  }

  private broadcastMap(a: ReferenceTensor, b: ReferenceTensor, f: (x: number, y: number) => number): ReferenceTensor {
    const shape = broadcastShapes(a.shape, b.shape);
    const out = this.float(shape);
    const dst = out.data;
    const x = a.data;
    const y = b.data;
    if (x.length === dst.length && y.length === dst.length) {
      for (let i = 0; i < dst.length; i++) dst[i] = f(x[i], y[i]);
    } else if (y.length === 1 && x.length === dst.length) {
      const v = y[0];
      for (let i = 0; i < dst.length; i++) dst[i] = f(x[i], v);
    } else if (x.length === 1 && y.length === dst.length) {
      const v = x[0];
      for (let i = 0; i < dst.length; i++) dst[i] = f(v, y[i]);
    } else {
      forEachBroadcast(shape, [broadcastStrides(a.shape, shape), broadcastStrides(b.shape, shape)], (i, [oa, ob]) => {
        dst[i] = f(x[oa], y[ob]);
      });
    }
    return out;
  }

  binary(op: BinaryOp, a: ReferenceTensor, b: ReferenceTensor): ReferenceTensor {
    return this.broadcastMap(a, b, BINARY[op]);
  }

  compare(op: CompareOp, a: ReferenceTensor, b: ReferenceTensor): ReferenceTensor {
    const f = COMPARE[op];
    return this.broadcastMap(a, b, (x, y) => (f(x, y) ? 1 : 0));
  }

  where(cond: ReferenceTensor, a: ReferenceTensor, b: ReferenceTensor): ReferenceTensor {
    const shape = broadcastShapes(broadcastShapes(cond.shape, a.shape), b.shape);
    const out = this.float(shape);
    const dst = out.data;
    forEachBroadcast(
      shape,
      [broadcastStrides(cond.shape, shape), broadcastStrides(a.shape, shape), broadcastStrides(b.shape, shape)],
      (i, [oc, oa, ob]) => {
        dst[i] = cond.data[oc] !== 0 ? a.data[oa] : b.data[ob];
      },
    );
    return out;
  }

  reduce(op: ReduceOp, x: ReferenceTensor, axes: readonly number[], keepDims: boolean): ReferenceTensor {
    const normalized = axes.map((a) => normalizeAxis(a, x.shape.length));
    const kept = reducedShape(x.shape, normalized, true);
    const out = this.float(reducedShape(x.shape, normalized, keepDims));
    const acc = new Float64Array(sizeOf(kept)).fill(op === 'max' ? -Infinity : 0);
    const src = x.data;
    forEachBroadcast(x.shape, [broadcastStridesReduced(kept, x.shape)], (i, [o]) => {
      const v = src[i];
      if (op === 'max') acc[o] = v > acc[o] || Number.isNaN(v) ? v : acc[o];
      else acc[o] += v;
    });
    const count = sizeOf(x.shape) / Math.max(sizeOf(kept), 1);
    for (let i = 0; i < acc.length; i++) out.data[i] = op === 'mean' ? acc[i] / count : acc[i];
    return out;
  }

  reshape(x: ReferenceTensor, shape: Shape): ReferenceTensor {
    return new ReferenceTensor([...shape], x.dtype, x.data, x.storage?.retain() ?? null);
  }

  broadcastTo(x: ReferenceTensor, shape: Shape): ReferenceTensor {
    const out = x.dtype === 'int32' ? new ReferenceTensor([...shape], 'int32', new Int32Array(sizeOf(shape))) : this.float(shape);
    const dst = out.data;
    forEachBroadcast(shape, [broadcastStrides(x.shape, shape)], (i, [o]) => {
      dst[i] = x.data[o];
    });
    return out;
  }

  slice(x: ReferenceTensor, begin: readonly number[], size: readonly number[]): ReferenceTensor {
    const out = this.like(x, size);
    const strides = stridesOf(x.shape);
    const base = begin.reduce((s, b, i) => s + b * strides[i], 0);
    forEachBroadcast(size, [strides], (i, [o]) => {
      out.data[i] = x.data[base + o];
    });
    return out;
  }

  concat(xs: readonly ReferenceTensor[], axis: number): ReferenceTensor {
    const ax = normalizeAxis(axis, xs[0].shape.length);
    const shape = [...xs[0].shape];
    shape[ax] = xs.reduce((n, t) => n + t.shape[ax], 0);
    const out = this.like(xs[0], shape);
    const outer = sizeOf(shape.slice(0, ax));
    const inner = sizeOf(shape.slice(ax + 1));
    let offset = 0;
    for (const t of xs) {
      const block = t.shape[ax] * inner;
      for (let o = 0; o < outer; o++) {
        out.data.set(t.data.subarray(o * block, (o + 1) * block), o * shape[ax] * inner + offset);
      }
      offset += block;
    }
    return out;
  }

  argsort(x: ReferenceTensor, axis: number): ReferenceTensor {
    const ax = normalizeAxis(axis, x.shape.length);
    const out = new ReferenceTensor([...x.shape], 'int32', new Int32Array(x.data.length));
    this.forEachLine(x.shape, ax, (offsets) => {
      const order = offsets.map((_, j) => j).sort((i, j) => x.data[offsets[i]] - x.data[offsets[j]] || i - j);
      order.forEach((j, k) => {
        out.data[offsets[k]] = j;
      });
    });
    return out;
  }

  gather(x: ReferenceTensor, indices: ReferenceTensor, axis: number): ReferenceTensor {
    const ax = normalizeAxis(axis, x.shape.length);
    const out = this.like(x, indices.shape);
    const xStrides = stridesOf(x.shape);
    this.forEachElement(indices.shape, (flat, coords) => {
      const j = checkIndex(indices.data[flat], x.shape[ax], 'gather');
      let o = 0;
      coords.forEach((c, i) => (o += (i === ax ? j : c) * xStrides[i]));
      out.data[flat] = x.data[o];
    });
    return out;
  }

  scatterAdd(shape: Shape, indices: ReferenceTensor, updates: ReferenceTensor, axis: number): ReferenceTensor {
    const ax = normalizeAxis(axis, shape.length);
    const out = this.float(shape);
    const outStrides = stridesOf(shape);
    this.forEachElement(indices.shape, (flat, coords) => {
      const j = checkIndex(indices.data[flat], shape[ax], 'scatterAdd');
      let o = 0;
      coords.forEach((c, i) => (o += (i === ax ? j : c) * outStrides[i]));
      out.data[o] += updates.data[flat];
    });
    return out;
  }

  tokenLogProbs(logits: ReferenceTensor, labels: ReferenceTensor, ignoreIndex: number): TokenLogProbsResult<ReferenceTensor> {
    const vocab = logits.shape[logits.shape.length - 1];
    const kernels = this.kernels;
    if (kernels) {
      checkLabels(labels, vocab, ignoreIndex);
      // With resident tensors the forward also writes the softmax, into the gradient's own memory
      // (the caller's buffer when one was given): the backward then turns it into the gradient in
      // place, with no exp and no second read of the logits.
      const stash = this.resident ? this.gradientOutput(logits, logits.shape) : null;
      const { logps, lse } = kernels.tokenForward({
        logits: logits.data as FloatArray,
        labels: labels.data as Int32Array,
        vocab,
        ignoreIndex,
        ...(stash ? { probs: stash.data as FloatArray } : {}),
      });
      const logSumExp = new ReferenceTensor([...labels.shape], 'float', lse as FloatArray);
      logSumExp.stash = stash;
      return { logps: new ReferenceTensor([...labels.shape], 'float', logps as FloatArray), logSumExp };
    }
    const out = this.float(labels.shape);
    const lse = this.float(labels.shape);
    const z = logits.data;
    for (let row = 0; row < labels.data.length; row++) {
      const label = labels.data[row];
      if (label === ignoreIndex) continue;
      const base = row * vocab;
      lse.data[row] = logSumExp(z, base, vocab);
      out.data[row] = z[base + checkIndex(label, vocab, 'tokenLogProbs')] - lse.data[row];
    }
    return { logps: out, logSumExp: lse };
  }

  tokenLogProbsGrad(
    logits: ReferenceTensor,
    labels: ReferenceTensor,
    logSumExp: ReferenceTensor,
    upstream: ReferenceTensor,
    ignoreIndex: number,
  ): ReferenceTensor {
    const vocab = logits.shape[logits.shape.length - 1];
    const kernels = this.kernels;
    if (kernels) {
      checkLabels(labels, vocab, ignoreIndex);
      const stash = logSumExp.stash;
      logSumExp.stash = null;
      const grad = stash ?? this.gradientOutput(logits, logits.shape);
      kernels.tokenBackward({
        ...(stash ? { probs: grad.data as FloatArray } : { logits: logits.data as FloatArray }),
        labels: labels.data as Int32Array,
        vocab,
        ignoreIndex,
        lse: logSumExp.data as FloatArray,
        gradLogps: upstream.data as FloatArray,
        grad: grad.data as FloatArray,
      });
      return grad;
    }
    const out = this.float(logits.shape);
    const z = logits.data;
    const g = out.data;
    for (let row = 0; row < labels.data.length; row++) {
      const label = labels.data[row];
      if (label === ignoreIndex) continue;
      const base = row * vocab;
      const lse = logSumExp.data[row];
      const up = upstream.data[row];
      for (let v = 0; v < vocab; v++) g[base + v] = -up * Math.exp(z[base + v] - lse);
      g[base + label] += up;
    }
    return out;
  }

  linearTokenLogProbs(
    hidden: ReferenceTensor,
    weight: ReferenceTensor,
    bias: ReferenceTensor | null,
    labels: ReferenceTensor,
    options: LinearHeadOptions,
  ): TokenLogProbsResult<ReferenceTensor> {
    const head = linearHeadOf(hidden, weight, bias, labels, options);
    const logps = this.float(labels.shape);
    const lse = this.float(labels.shape);
    const kernels = this.kernels;
    if (kernels) {
      checkLabels(labels, head.vocab, options.ignoreIndex);
      kernels.linearForward({
        ...this.linearArgs(hidden, weight, bias, labels, head.size, options),
        logps: logps.data as FloatArray,
        lse: lse.data as FloatArray,
      });
      return { logps, logSumExp: lse };
    }
    const z = new Float64Array(head.vocab);
    for (let row = 0; row < head.rows; row++) {
      const label = labels.data[row];
      if (label === options.ignoreIndex) continue;
      checkIndex(label, head.vocab, 'linearTokenLogProbs');
      head.logitsOfRow(row, z, null);
      lse.data[row] = logSumExp(z, 0, head.vocab);
      logps.data[row] = z[label] - lse.data[row];
    }
    return { logps, logSumExp: lse };
  }

  linearTokenLogProbsGrad(
    hidden: ReferenceTensor,
    weight: ReferenceTensor,
    bias: ReferenceTensor | null,
    labels: ReferenceTensor,
    logSumExp: ReferenceTensor,
    upstream: ReferenceTensor,
    options: LinearHeadOptions,
  ): LinearTokenLogProbsGrads<ReferenceTensor> {
    const head = linearHeadOf(hidden, weight, bias, labels, options);
    const { rows, vocab, size } = head;
    const kernels = this.kernels;
    if (kernels) {
      const gradHidden = this.gradientOutput(hidden, hidden.shape);
      const gradWeight = this.gradientOutput(weight, weight.shape);
      const gradBias = bias ? this.gradientOutput(bias, bias.shape) : null;
      checkLabels(labels, vocab, options.ignoreIndex);
      kernels.linearBackward({
        ...this.linearArgs(hidden, weight, bias, labels, size, options),
        lse: logSumExp.data as FloatArray,
        gradLogps: upstream.data as FloatArray,
        gradHidden: gradHidden.data as FloatArray,
        gradWeight: gradWeight.data as FloatArray,
        ...(gradBias ? { gradBias: gradBias.data as FloatArray } : {}),
      });
      return { hidden: gradHidden, weight: gradWeight, bias: gradBias };
    }
    const gradHidden = this.float(hidden.shape);
    const gradWeight = this.float(weight.shape);
    const gradBias = bias ? this.float(bias.shape) : null;
    const z = new Float64Array(vocab);
    const tanh = options.softcap === null ? null : new Float64Array(vocab);
    const h = hidden.data;
    const w = weight.data;
    const dH = new Float64Array(size);
    for (let row = 0; row < rows; row++) {
      const label = labels.data[row];
      const up = upstream.data[row];
      if (label === options.ignoreIndex || up === 0) continue;
      checkIndex(label, vocab, 'linearTokenLogProbsGrad');
      head.logitsOfRow(row, z, tanh);
      const lse = logSumExp.data[row];
      dH.fill(0);
      for (let v = 0; v < vocab; v++) {
        const dz = up * ((v === label ? 1 : 0) - Math.exp(z[v] - lse));
        const t = tanh ? tanh[v] : 0;
        const d = options.logitScale * dz * (tanh ? 1 - t * t : 1);
        if (d === 0) continue;
        if (gradBias) gradBias.data[v] += d;
        const wBase = v * size;
        const hBase = row * size;
        for (let k = 0; k < size; k++) {
          dH[k] += d * w[wBase + k];
          gradWeight.data[wBase + k] += d * h[hBase + k];
        }
      }
      gradHidden.data.set(dH, row * size);
    }
    return { hidden: gradHidden, weight: gradWeight, bias: gradBias };
  }

  /** Entropy and log-sum-exp of each row: the WebAssembly kernels' entropy (labels 0, unused), or float64 TypeScript. */
  tokenEntropy(logits: ReferenceTensor): TokenEntropyResult<ReferenceTensor> {
    const vocab = logits.shape[logits.shape.length - 1];
    const rows = logits.shape[0];
    const kernels = this.kernels;
    if (kernels && vocab > 0) {
      const { lse, entropy } = kernels.tokenForward({
        logits: logits.data as FloatArray,
        labels: new Int32Array(rows),
        vocab,
        entropy: true,
      });
      return {
        entropy: new ReferenceTensor([rows], 'float', entropy as FloatArray),
        logSumExp: new ReferenceTensor([rows], 'float', lse as FloatArray),
      };
    }
    const entropy = this.float([rows]);
    const lse = this.float([rows]);
    tokenEntropyRows(logits.data, rows, vocab, entropy.data, lse.data);
    return { entropy, logSumExp: lse };
  }

  tokenEntropyGrad(
    logits: ReferenceTensor,
    logSumExp: ReferenceTensor,
    entropy: ReferenceTensor,
    upstream: ReferenceTensor,
  ): ReferenceTensor {
    const vocab = logits.shape[logits.shape.length - 1];
    const rows = logits.shape[0];
    const grad = this.output(logits.shape);
    const kernels = this.kernels;
    if (kernels && vocab > 0) {
      kernels.tokenBackward({
        logits: logits.data as FloatArray,
        labels: new Int32Array(rows),
        vocab,
        lse: logSumExp.data as FloatArray,
        entropy: entropy.data as FloatArray,
        gradLogps: new this.Float(rows),
        gradEntropy: upstream.data as FloatArray,
        grad: grad.data as FloatArray,
      });
      return grad;
    }
    tokenEntropyGradRows(logits.data, rows, vocab, logSumExp.data, entropy.data, upstream.data, grad.data);
    return grad;
  }

  linearTokenEntropy(
    hidden: ReferenceTensor,
    weight: ReferenceTensor,
    bias: ReferenceTensor | null,
    options: LinearEntropyOptions,
  ): TokenEntropyResult<ReferenceTensor> {
    const rows = hidden.shape[0];
    const labels = new ReferenceTensor([rows], 'int32', new Int32Array(rows));
    const head = { ...options, ignoreIndex: -100 };
    const entropy = this.float([rows]);
    const lse = this.float([rows]);
    const kernels = this.kernels;
    if (kernels && weight.shape[0] > 0) {
      kernels.linearForward({
        ...this.linearArgs(hidden, weight, bias, labels, hidden.shape[1], head),
        logps: new this.Float(rows),
        lse: lse.data as FloatArray,
        entropy: entropy.data as FloatArray,
      });
      return { entropy, logSumExp: lse };
    }
    linearTokenEntropyRows(linearHeadOf(hidden, weight, bias, labels, head), entropy.data, lse.data);
    return { entropy, logSumExp: lse };
  }

  linearTokenEntropyGrad(
    hidden: ReferenceTensor,
    weight: ReferenceTensor,
    bias: ReferenceTensor | null,
    logSumExp: ReferenceTensor,
    entropy: ReferenceTensor,
    upstream: ReferenceTensor,
    options: LinearEntropyOptions,
  ): LinearTokenLogProbsGrads<ReferenceTensor> {
    const rows = hidden.shape[0];
    const labels = new ReferenceTensor([rows], 'int32', new Int32Array(rows));
    const head = { ...options, ignoreIndex: -100 };
    const gradHidden = this.output(hidden.shape);
    const gradWeight = this.output(weight.shape);
    const gradBias = bias ? this.output(bias.shape) : null;
    const kernels = this.kernels;
    if (kernels && weight.shape[0] > 0) {
      kernels.linearBackward({
        ...this.linearArgs(hidden, weight, bias, labels, hidden.shape[1], head),
        lse: logSumExp.data as FloatArray,
        entropy: entropy.data as FloatArray,
        gradLogps: new this.Float(rows),
        gradEntropy: upstream.data as FloatArray,
        gradHidden: gradHidden.data as FloatArray,
        gradWeight: gradWeight.data as FloatArray,
        ...(gradBias ? { gradBias: gradBias.data as FloatArray } : {}),
      });
      return { hidden: gradHidden, weight: gradWeight, bias: gradBias };
    }
    (gradHidden.data as FloatArray).fill(0);
    (gradWeight.data as FloatArray).fill(0);
    gradBias?.data.fill(0);
    linearTokenEntropyGradRows(
      linearHeadOf(hidden, weight, bias, labels, head),
      hidden.data,
      weight.data,
      logSumExp.data,
      entropy.data,
      upstream.data,
      options.logitScale,
      options.softcap,
      gradHidden.data,
      gradWeight.data,
      gradBias ? gradBias.data : null,
    );
    return { hidden: gradHidden, weight: gradWeight, bias: gradBias };
  }

  private linearArgs(
    hidden: ReferenceTensor,
    weight: ReferenceTensor,
    bias: ReferenceTensor | null,
    labels: ReferenceTensor,
    size: number,
    options: LinearHeadOptions,
  ) {
    return {
      hidden: hidden.data as FloatArray,
      weight: weight.data as FloatArray,
      ...(bias ? { bias: bias.data as FloatArray } : {}),
      labels: labels.data as Int32Array,
      hiddenSize: size,
      vocab: weight.shape[0],
      ignoreIndex: options.ignoreIndex,
      logitScale: options.logitScale,
      ...(options.softcap !== null ? { softcap: options.softcap } : {}),
      ...(options.chunkSize !== undefined ? { chunkSize: options.chunkSize } : {}),
      scratchBytes: this.linearScratchBytes,
    };
  }

  /** @deprecated use {@link arenaStats} (one arena serves both paths now). */
  linearArenaStats(): ArenaStats | null {
    return this.arenaStats();
  }

  /**
   * Each tensor's values. A tensor in plain memory, in a caller's buffer or in an `allocate`d array
   * returns its own array, without a copy (treat it as read-only while the tensor is in use); a
   * tensor in an arena block this backend recycles after `dispose` returns a copy.
   * `valueAndGrad` releases every tensor it reads, so the arrays it returns are the caller's.
   */
  async read(xs: readonly ReferenceTensor[]): Promise<HostArray[]> {
    return xs.map((x) => {
      if (!x.storage?.ownsBlock) return x.data;
      const copy = this.plainArray(x.data.length);
      copy.set(x.data);
      return copy;
    });
  }

  /** Releases an arena block when its last tensor goes; plain arrays are garbage-collected. */
  dispose(x: ReferenceTensor): void {
    if (x.released) return;
    x.released = true;
    x.storage?.release();
    if (x.stash) {
      this.dispose(x.stash);
      x.stash = null;
    }
  }

  adopt(value: unknown): ReferenceTensor | undefined {
    return value instanceof ReferenceTensor ? value : undefined;
  }

  private like(x: ReferenceTensor, shape: Shape): ReferenceTensor {
    return x.dtype === 'int32' ? new ReferenceTensor([...shape], 'int32', new Int32Array(sizeOf(shape))) : this.float(shape);
  }

  private forEachElement(shape: Shape, visit: (flat: number, coords: number[]) => void): void {
    const coords = new Array<number>(shape.length).fill(0);
    const size = sizeOf(shape);
    for (let flat = 0; flat < size; flat++) {
      visit(flat, coords);
      for (let axis = shape.length - 1; axis >= 0; axis--) {
        if (++coords[axis] < shape[axis]) break;
        coords[axis] = 0;
      }
    }
  }

  /** Calls `visit` with the flat offsets of each line along `axis`. */
  private forEachLine(shape: Shape, axis: number, visit: (offsets: number[]) => void): void {
    const strides = stridesOf(shape);
    const outer = shape.map((d, i) => (i === axis ? 1 : d));
    this.forEachElement(outer, (_, coords) => {
      const base = coords.reduce((s, c, i) => s + c * strides[i], 0);
      visit(Array.from({ length: shape[axis] }, (_, j) => base + j * strides[axis]));
    });
  }
}

function broadcastStridesReduced(kept: Shape, full: Shape): number[] {
  const own = stridesOf(kept);
  return full.map((d, i) => (kept[i] === 1 && d !== 1 ? 0 : own[i]));
}

function checkLabels(labels: ReferenceTensor, vocab: number, ignoreIndex: number): void {
  for (const label of labels.data) if (label !== ignoreIndex) checkIndex(label, vocab, 'tokenLogProbs');
}

function checkIndex(index: number, size: number, op: string): number {
  if (!(index >= 0 && index < size)) throw new Error(`${op}: index ${index} outside [0, ${size})`);
  return index;
}

/** The logits of one row of the LM head, `z = softcap(s·(h·Wᵀ + b))`, computed in float64. */
function linearHeadOf(
  hidden: ReferenceTensor,
  weight: ReferenceTensor,
  bias: ReferenceTensor | null,
  labels: ReferenceTensor,
  options: LinearHeadOptions,
) {
  const [vocab, size] = weight.shape;
  const rows = labels.data.length;
  const h = hidden.data;
  const w = weight.data;
  const b = bias ? bias.data : null;
  const { logitScale: scale, softcap: cap } = options;
  return {
    rows,
    vocab,
    size,
    /** Writes the row's logits into `z` and, with a softcap, tanh(·) into `tanh`. */
    logitsOfRow(row: number, z: Float64Array, tanh: Float64Array | null): void {
      const hBase = row * size;
      for (let v = 0; v < vocab; v++) {
        let dot = b ? b[v] : 0;
        const wBase = v * size;
        for (let k = 0; k < size; k++) dot += h[hBase + k] * w[wBase + k];
        const y = scale * dot;
        if (cap === null) z[v] = y;
        else {
          const t = Math.tanh(y / cap);
          if (tanh) tanh[v] = t;
          z[v] = cap * t;
        }
      }
    },
  };
}

function logSumExp(z: Data, base: number, vocab: number): number {
  let max = -Infinity;
  for (let v = 0; v < vocab; v++) if (z[base + v] > max) max = z[base + v];
  let sum = 0;
  for (let v = 0; v < vocab; v++) sum += Math.exp(z[base + v] - max);
  return max + Math.log(sum);
}

/** The reference backend (float64 unless `precision: 32`). */
export function createReferenceBackend(options: ReferenceBackendOptions = {}): ReferenceBackend {
  return new ReferenceBackend(options);
}
