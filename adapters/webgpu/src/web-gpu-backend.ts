import { type BackendCapabilities, type HostArray, type PrefBackend, type Shape } from '@pref/core';
import {
  BACKEND_SPECIFICATION_VERSION,
  composedLinearTokenEntropy,
  composedLinearTokenEntropyGrad,
  composedTokenEntropy,
  composedTokenEntropyGrad,
  type LinearEntropyOptions,
  type TokenEntropyResult,
  broadcastShapes,
  broadcastStrides,
  stridesOf,
  formatShape,
  normalizeAxis,
  reducedShape,
  sizeOf,
  type BinaryOp,
  type CompareOp,
  type ReduceOp,
  type LinearHeadOptions,
  type LinearTokenLogProbsGrads,
  type TokenLogProbsResult,
  type UnaryOp,
} from '@pref/core/backend';
import { BufferPool, type BufferPoolStats } from './buffer-pool';
import { BufferUsage } from './gpu-constants';
import { GpuExecutor, STATUS_FLAGS, type KernelBinding } from './gpu-executor';
import { GpuStorage, WebGpuTensor } from './web-gpu-tensor';
import { LinearHead } from './linear-head';
import type { WebGpuLogger } from './web-gpu-logger';
import { WebGpuError } from './web-gpu-error';
import { WORKGROUP_SIZE, floatBits } from './kernels/wgsl-common';
import { BINARY_WGSL, COMPARE_WGSL, UNARY_WGSL, WHERE_WGSL, elementwiseKernel, type ElementwiseInput } from './kernels/elementwise-kernel';
import { reduceKernel } from './kernels/reduce-kernel';
import { CONCAT_COPY_KERNEL, FILL_KERNEL, STRIDED_COPY_KERNEL } from './kernels/copy-kernels';
import { argsortKernel, gatherKernel, scatterAddKernel } from './kernels/indexing-kernels';
import { tokenLogProbsGradKernel, tokenLogProbsKernel, type TokenKernelOptions } from './kernels/token-log-probs-kernel';

export interface WebGpuBackendOptions {
  /**
   * Use subgroup operations in the token log-prob reductions (default: when the device was
   * created with the `subgroups` feature).
   */
  readonly subgroups?: boolean;
  /** Largest buffer range bound to one kernel, capped at the device's `maxStorageBufferBindingSize`. */
  readonly maxBindingBytes?: number;
  /** Bytes of released buffers kept for reuse (default 1 GiB); beyond it they are destroyed. */
  readonly maxPooledBytes?: number;
  /** Destroy the device in `destroy()` (true when the backend requested the device itself). */
  readonly ownsDevice?: boolean;
  /** Kept referenced while the backend lives (Dawn's `GPU` object in Node). */
  readonly gpu?: GPU;
  /** Receives WGSL compilation messages and device loss; the backend prints nothing itself. */
  readonly logger?: WebGpuLogger;
}

/** A user's `GPUBuffer` as a tensor input: float32 (default) or int32 values, row-major. */
export interface AdoptedBuffer {
  readonly buffer: GPUBuffer;
  readonly shape: Shape;
  readonly dtype?: 'float' | 'int32';
}

/** Counters for leak checks: pooled buffers plus live tensors. */
export interface WebGpuBackendStats extends BufferPoolStats {
  /** Mappable readback buffers kept for reuse. */
  readonly stagingPooled: number;
}

function isGpuBuffer(value: unknown): value is GPUBuffer {
  const b = value as GPUBuffer;
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof b.mapAsync === 'function' &&
    typeof b.size === 'number' &&
    typeof b.usage === 'number'
  );
}

/**
 * The WebGPU backend: float32 tensors in storage buffers, every primitive a WGSL compute
 * kernel, eager (kernels are encoded at each call and submitted in batches; only `read`
 * waits for the GPU). Buffers come from a size-bucketed pool and go back to it on `dispose`.
 */
export class WebGpuBackend implements PrefBackend<WebGpuTensor> {
  readonly specificationVersion = BACKEND_SPECIFICATION_VERSION;
  readonly name = 'webgpu';
  readonly capabilities: BackendCapabilities = { precision: 32, float64: false, nativeAutodiff: false, execution: 'eager' };
  private readonly executor: GpuExecutor;
  private readonly pool: BufferPool;
  private readonly maxBindingBytes: number;
  private readonly tokenOptions: { subgroups: boolean };
  private readonly linearHead: LinearHead;
  private destroyed = false;

  constructor(
    readonly device: GPUDevice,
    private readonly options: WebGpuBackendOptions = {},
  ) {
    this.executor = new GpuExecutor(device, options.logger);
    const limits = device.limits;
    this.maxBindingBytes = Math.min(options.maxBindingBytes ?? Infinity, limits.maxStorageBufferBindingSize);
    this.pool = new BufferPool(device, options.maxPooledBytes ?? 2 ** 30, limits.maxBufferSize);
    this.tokenOptions = { subgroups: (options.subgroups ?? true) && device.features.has('subgroups') };
    this.linearHead = new LinearHead({
      executor: this.executor,
      maxBindingBytes: this.maxBindingBytes,
      allocate: (shape, dtype) => this.newTensor(shape, dtype),
      bind: (t, op) => this.bind(t, op),
    });
  }

  /** Whether the token log-prob kernels use subgroup operations. */
  get usesSubgroups(): boolean {
    return this.tokenOptions.subgroups;
  }

  // ---- storage ----------------------------------------------------------------------------

  private release = (storage: GpuStorage): void => {
    if (storage.owned && !this.destroyed) this.pool.release(storage.buffer);
  };

  private newTensor(shape: Shape, dtype: 'float' | 'int32'): WebGpuTensor {
    if (this.destroyed) throw new WebGpuError('webgpu: the backend was destroyed');
    this.executor.checkAlive();
    const byteLength = sizeOf(shape) * 4;
    const storage = new GpuStorage(this.pool.acquire(byteLength), byteLength, true, this.release);
    return new WebGpuTensor([...shape], dtype, storage);
  }

  /** The binding of a whole tensor; tensors over the binding limit only go through tokenLogProbs. */
  private bind(t: WebGpuTensor, op: string): KernelBinding {
    if (t.isDisposed) throw new WebGpuError(`webgpu: ${op}: a disposed tensor was used`);
    const size = Math.max(t.storage.byteLength, 4);
    if (size > this.maxBindingBytes) {
      throw new WebGpuError(
        `webgpu: ${op}: a tensor of shape ${formatShape(t.shape)} (${size} bytes) exceeds the device's maxStorageBufferBindingSize (${this.maxBindingBytes} bytes); only tokenLogProbs splits such tensors`,
      );
    }
    return { buffer: t.storage.buffer, size };
  }

  private elementwise(op: string, expression: string, inputs: readonly WebGpuTensor[], shape: Shape): WebGpuTensor {
    const out = this.newTensor(shape, 'float');
    const size = out.size;
    const layouts: ElementwiseInput[] = inputs.map((t) => ({
      dtype: t.dtype,
      layout: t.size === size ? 'same' : t.size === 1 ? 'scalar' : 'strided',
    }));
    const params = [size, shape.length, ...shape];
    for (const t of inputs) params.push(...broadcastStrides(t.shape, shape));
    this.executor.dispatch(
      op,
      elementwiseKernel(expression, layouts),
      params,
      [...inputs.map((t) => this.bind(t, op)), this.bind(out, op)],
      Math.ceil(size / WORKGROUP_SIZE),
    );
    return out;
  }

  // ---- PrefBackend ------------------------------------------------------------------------

  fromHost(data: ArrayLike<number>, shape: Shape): WebGpuTensor {
    const out = this.newTensor(shape, 'float');
    this.executor.write(out.storage.buffer, data instanceof Float32Array ? data : Float32Array.from(data));
    return out;
  }

  fromHostInt(data: Int32Array, shape: Shape): WebGpuTensor {
    const out = this.newTensor(shape, 'int32');
    this.executor.write(out.storage.buffer, data);
    return out;
  }

  fill(shape: Shape, value: number): WebGpuTensor {
    const out = this.newTensor(shape, 'float');
    this.executor.dispatch(
      'fill',
      FILL_KERNEL,
      [out.size, floatBits(value)],
      [this.bind(out, 'fill')],
      Math.ceil(out.size / WORKGROUP_SIZE),
    );
    return out;
  }

  unary(op: UnaryOp, x: WebGpuTensor): WebGpuTensor {
    return this.elementwise(op, UNARY_WGSL[op], [x], x.shape);
  }

  binary(op: BinaryOp, a: WebGpuTensor, b: WebGpuTensor): WebGpuTensor {
    return this.elementwise(op, BINARY_WGSL[op], [a, b], broadcastShapes(a.shape, b.shape));
  }

  compare(op: CompareOp, a: WebGpuTensor, b: WebGpuTensor): WebGpuTensor {
    return this.elementwise(op, COMPARE_WGSL[op], [a, b], broadcastShapes(a.shape, b.shape));
  }

  where(cond: WebGpuTensor, a: WebGpuTensor, b: WebGpuTensor): WebGpuTensor {
    return this.elementwise('where', WHERE_WGSL, [cond, a, b], broadcastShapes(broadcastShapes(cond.shape, a.shape), b.shape));
  }

  reduce(op: ReduceOp, x: WebGpuTensor, axes: readonly number[], keepDims: boolean): WebGpuTensor {
    const rank = x.shape.length;
    const reduced = new Set(axes.map((a) => normalizeAxis(a, rank)));
    const strides = stridesOf(x.shape);
    const keptAxes = x.shape.map((_, i) => i).filter((i) => !reduced.has(i));
    const reducedAxes = [...reduced].sort((p, q) => p - q);
    const out = this.newTensor(reducedShape(x.shape, reducedAxes, keepDims), 'float');
    const count = reducedAxes.reduce((n, a) => n * x.shape[a], 1);
    const input = x.dtype === 'int32' ? this.elementwise('toFloat', 'a', [x], x.shape) : x;
    const perWorkgroup = count > 64 && out.size < 4096;
    const params = [
      out.size,
      count,
      keptAxes.length,
      reducedAxes.length,
      ...keptAxes.map((a) => x.shape[a]),
      ...keptAxes.map((a) => strides[a]),
      ...reducedAxes.map((a) => x.shape[a]),
      ...reducedAxes.map((a) => strides[a]),
    ];
    const groups = perWorkgroup ? out.size : Math.ceil(out.size / WORKGROUP_SIZE);
    this.executor.dispatch(
      `reduce ${op}`,
      reduceKernel(op, perWorkgroup),
      params,
      [this.bind(input, 'reduce'), this.bind(out, 'reduce')],
      groups,
    );
    if (input !== x) input.dispose();
    return out;
  }

  reshape(x: WebGpuTensor, shape: Shape): WebGpuTensor {
    if (x.isDisposed) throw new WebGpuError('webgpu: reshape: a disposed tensor was used');
    return new WebGpuTensor([...shape], x.dtype, x.storage.retain());
  }

  private stridedCopy(op: string, x: WebGpuTensor, shape: Shape, strides: readonly number[], base: number): WebGpuTensor {
    const out = this.newTensor(shape, x.dtype);
    this.executor.dispatch(
      op,
      STRIDED_COPY_KERNEL,
      [out.size, shape.length, ...shape, ...strides, base],
      [this.bind(x, op), this.bind(out, op)],
      Math.ceil(out.size / WORKGROUP_SIZE),
    );
    return out;
  }

  broadcastTo(x: WebGpuTensor, shape: Shape): WebGpuTensor {
    return this.stridedCopy('broadcastTo', x, shape, broadcastStrides(x.shape, shape), 0);
  }

  slice(x: WebGpuTensor, begin: readonly number[], size: readonly number[]): WebGpuTensor {
    const strides = stridesOf(x.shape);
    const base = begin.reduce((s, b, i) => s + b * strides[i], 0);
    return this.stridedCopy('slice', x, size, strides, base);
  }

  concat(xs: readonly WebGpuTensor[], axis: number): WebGpuTensor {
    const ax = normalizeAxis(axis, xs[0].shape.length);
    const shape = [...xs[0].shape];
    shape[ax] = xs.reduce((n, t) => n + t.shape[ax], 0);
    const out = this.newTensor(shape, xs[0].dtype);
    const inner = sizeOf(shape.slice(ax + 1));
    let start = 0;
    for (const t of xs) {
      const block = t.shape[ax] * inner;
      if (t.size > 0) {
        this.executor.dispatch(
          'concat',
          CONCAT_COPY_KERNEL,
          [t.size, block, shape[ax] * inner, start],
          [this.bind(t, 'concat'), this.bind(out, 'concat')],
          Math.ceil(t.size / WORKGROUP_SIZE),
        );
      }
      start += block;
    }
    return out;
  }

  argsort(x: WebGpuTensor, axis: number): WebGpuTensor {
    const ax = normalizeAxis(axis, x.shape.length);
    const out = this.newTensor(x.shape, 'int32');
    const inner = sizeOf(x.shape.slice(ax + 1));
    this.executor.dispatch(
      'argsort',
      argsortKernel(x.dtype),
      [x.size, x.shape[ax] ?? 1, inner],
      [this.bind(x, 'argsort'), this.bind(out, 'argsort')],
      Math.ceil(x.size / WORKGROUP_SIZE),
    );
    return out;
  }

  gather(x: WebGpuTensor, indices: WebGpuTensor, axis: number): WebGpuTensor {
    const ax = normalizeAxis(axis, x.shape.length);
    const out = this.newTensor(indices.shape, x.dtype);
    const params = [out.size, x.shape.length, ax, x.shape[ax], ...indices.shape, ...stridesOf(x.shape)];
    this.executor.dispatch(
      'gather',
      gatherKernel(STATUS_FLAGS.gatherIndex),
      params,
      [
        this.bind(x, 'gather'),
        this.bind(this.asInt(indices, 'gather'), 'gather'),
        this.bind(out, 'gather'),
        { buffer: this.executor.statusBuffer },
      ],
      Math.ceil(out.size / WORKGROUP_SIZE),
    );
    return out;
  }

  scatterAdd(shape: Shape, indices: WebGpuTensor, updates: WebGpuTensor, axis: number): WebGpuTensor {
    const ax = normalizeAxis(axis, shape.length);
    const out = this.newTensor(shape, 'float');
    const threads = Math.max(out.size, indices.size);
    const params = [
      threads,
      shape.length,
      ax,
      indices.shape[ax],
      indices.size,
      out.size,
      ...shape,
      ...indices.shape,
      ...stridesOf(indices.shape),
    ];
    this.executor.dispatch(
      'scatterAdd',
      scatterAddKernel(STATUS_FLAGS.scatterIndex),
      params,
      [
        this.bind(this.asInt(indices, 'scatterAdd'), 'scatterAdd'),
        this.bind(updates, 'scatterAdd'),
        this.bind(out, 'scatterAdd'),
        { buffer: this.executor.statusBuffer },
      ],
      Math.ceil(threads / WORKGROUP_SIZE),
    );
    return out;
  }

  private asInt(t: WebGpuTensor, op: string): WebGpuTensor {
    if (t.dtype !== 'int32') throw new WebGpuError(`webgpu: ${op}: indices must be an int32 tensor, got ${t.dtype}`);
    return t;
  }

  /**
   * Row chunks of a `[rows, vocab]` buffer whose bound ranges fit `maxBindingBytes`; each
   * range starts at an aligned offset, `shift` elements before the chunk's first row.
   */
  private rowChunks(rows: number, vocab: number): { firstRow: number; rows: number; offset: number; size: number; shift: number }[] {
    const rowBytes = vocab * 4;
    const align = this.executor.offsetAlignment;
    const perChunk = Math.min(Math.floor((this.maxBindingBytes - align) / rowBytes), this.executor.maxWorkgroupsPerDimension ** 2);
    if (perChunk < 1) {
      throw new WebGpuError(
        `webgpu: tokenLogProbs: one row of ${vocab} logits (${rowBytes} bytes) exceeds the device's maxStorageBufferBindingSize (${this.maxBindingBytes} bytes)`,
      );
    }
    const chunks = [];
    for (let firstRow = 0; firstRow < rows; firstRow += perChunk) {
      const n = Math.min(perChunk, rows - firstRow);
      const startByte = firstRow * rowBytes;
      const offset = Math.floor(startByte / align) * align;
      const shift = (startByte - offset) / 4;
      chunks.push({ firstRow, rows: n, offset, size: shift * 4 + n * rowBytes, shift });
    }
    return chunks;
  }

  /** The vocabulary size; shapes were checked by core's `TensorOps`. */
  private checkTokenInputs(op: string, logits: WebGpuTensor, labels: WebGpuTensor): number {
    this.asInt(labels, op);
    if (logits.isDisposed) throw new WebGpuError(`webgpu: ${op}: a disposed tensor was used`);
    return logits.shape[logits.shape.length - 1];
  }

  private tokenKernelOptions(vocab: number): TokenKernelOptions {
    return { vectorized: vocab % 4 === 0, subgroups: this.tokenOptions.subgroups };
  }

  tokenLogProbs(logits: WebGpuTensor, labels: WebGpuTensor, ignoreIndex: number): TokenLogProbsResult<WebGpuTensor> {
    const vocab = this.checkTokenInputs('tokenLogProbs', logits, labels);
    const logps = this.newTensor(labels.shape, 'float');
    const logSumExp = this.newTensor(labels.shape, 'float');
    if (vocab > 0) {
      const code = tokenLogProbsKernel(this.tokenKernelOptions(vocab));
      for (const chunk of this.rowChunks(labels.size, vocab)) {
        this.executor.dispatch(
          'tokenLogProbs',
          code,
          [chunk.rows, vocab, ignoreIndex, chunk.shift, chunk.firstRow],
          [
            { buffer: logits.storage.buffer, offset: chunk.offset, size: chunk.size },
            this.bind(labels, 'tokenLogProbs'),
            this.bind(logps, 'tokenLogProbs'),
            this.bind(logSumExp, 'tokenLogProbs'),
            { buffer: this.executor.statusBuffer },
          ],
          chunk.rows,
        );
      }
    }
    return { logps, logSumExp };
  }

  tokenLogProbsGrad(
    logits: WebGpuTensor,
    labels: WebGpuTensor,
    logSumExp: WebGpuTensor,
    upstream: WebGpuTensor,
    ignoreIndex: number,
  ): WebGpuTensor {
    const vocab = this.checkTokenInputs('tokenLogProbsGrad', logits, labels);
    const grad = this.newTensor(logits.shape, 'float');
    if (vocab > 0) {
      const code = tokenLogProbsGradKernel(this.tokenKernelOptions(vocab));
      for (const chunk of this.rowChunks(labels.size, vocab)) {
        const bindings: KernelBinding[] = [
          { buffer: logits.storage.buffer, offset: chunk.offset, size: chunk.size },
          this.bind(labels, 'tokenLogProbsGrad'),
          this.bind(upstream, 'tokenLogProbsGrad'),
          { buffer: grad.storage.buffer, offset: chunk.offset, size: chunk.size },
          { buffer: this.executor.statusBuffer },
          this.bind(logSumExp, 'tokenLogProbsGrad'),
        ];
        this.executor.dispatch(
          'tokenLogProbsGrad',
          code,
          [chunk.rows, vocab, ignoreIndex, chunk.shift, chunk.firstRow],
          bindings,
          chunk.rows,
        );
      }
    }
    return grad;
  }

  /**
   * Token log-probs of `hidden [..., H] · weight [V, H]ᵀ (+ bias)` in vocabulary chunks (at most
   * `options.chunkSize` rows, default from `maxStorageBufferBindingSize`): tiled WGSL matmul with
   * an online log-sum-exp in workgroup memory, never an `[N, V]` tensor.
   */
  linearTokenLogProbs(
    hidden: WebGpuTensor,
    weight: WebGpuTensor,
    bias: WebGpuTensor | null,
    labels: WebGpuTensor,
    options: LinearHeadOptions,
  ): TokenLogProbsResult<WebGpuTensor> {
    return this.linearHead.forward(hidden, weight, bias, labels, options);
  }

  /** Vocabulary rows per chunk the hidden-state path uses for these sizes when `chunkSize` is absent. */
  linearChunkSize(rows: number, hiddenSize: number, vocab: number): number {
    return this.linearHead.chunkSize(rows, hiddenSize, vocab, undefined);
  }

  /** Gradients of `linearTokenLogProbs` for hidden, weight and bias, chunk by chunk (one `[N, chunk]` scratch). */
  linearTokenLogProbsGrad(
    hidden: WebGpuTensor,
    weight: WebGpuTensor,
    bias: WebGpuTensor | null,
    labels: WebGpuTensor,
    logSumExp: WebGpuTensor,
    upstream: WebGpuTensor,
    options: LinearHeadOptions,
  ): LinearTokenLogProbsGrads<WebGpuTensor> {
    return this.linearHead.backward(hidden, weight, bias, labels, logSumExp, upstream, options);
  }

  /** Token entropy in this backend's elementwise and reduce kernels (core's composed form); the hidden path chunked over V. */
  tokenEntropy(logits: WebGpuTensor): TokenEntropyResult<WebGpuTensor> {
    return composedTokenEntropy<WebGpuTensor>(this, logits);
  }

  tokenEntropyGrad(logits: WebGpuTensor, logSumExp: WebGpuTensor, entropy: WebGpuTensor, upstream: WebGpuTensor): WebGpuTensor {
    return composedTokenEntropyGrad<WebGpuTensor>(this, logits, logSumExp, entropy, upstream);
  }

  linearTokenEntropy(
    hidden: WebGpuTensor,
    weight: WebGpuTensor,
    bias: WebGpuTensor | null,
    options: LinearEntropyOptions,
  ): TokenEntropyResult<WebGpuTensor> {
    return composedLinearTokenEntropy<WebGpuTensor>(this, hidden, weight, bias, options);
  }

  linearTokenEntropyGrad(
    hidden: WebGpuTensor,
    weight: WebGpuTensor,
    bias: WebGpuTensor | null,
    logSumExp: WebGpuTensor,
    entropy: WebGpuTensor,
    upstream: WebGpuTensor,
    options: LinearEntropyOptions,
  ): LinearTokenLogProbsGrads<WebGpuTensor> {
    return composedLinearTokenEntropyGrad<WebGpuTensor>(this, hidden, weight, bias, logSumExp, entropy, upstream, options);
  }

  async read(xs: readonly WebGpuTensor[]): Promise<HostArray[]> {
    xs.forEach((x) => {
      if (x.isDisposed) throw new WebGpuError('webgpu: read: a disposed tensor was used');
    });
    const bytes = await this.executor.readBuffers(xs.map((x) => ({ buffer: x.storage.buffer, byteLength: x.storage.byteLength })));
    return xs.map((x, i) => (x.dtype === 'int32' ? new Int32Array(bytes[i]) : new Float32Array(bytes[i])));
  }

  dispose(x: WebGpuTensor): void {
    x.dispose();
  }

  /**
   * A tensor from this backend's own tensor, or from `{ buffer, shape, dtype? }` holding a
   * `GPUBuffer` of this device with `STORAGE` usage (zero-copy: kernels read it in place; it is
   * never written, released or destroyed here).
   */
  adopt(value: unknown): WebGpuTensor | undefined {
    if (value instanceof WebGpuTensor) return value;
    const candidate = value as AdoptedBuffer;
    if (typeof value !== 'object' || value === null || !isGpuBuffer(candidate.buffer)) return undefined;
    const shape = candidate.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new WebGpuError(`webgpu: adopt: shape must be a list of non-negative integers, got ${JSON.stringify(shape)}`);
    }
    const dtype = candidate.dtype ?? 'float';
    if (dtype !== 'float' && dtype !== 'int32')
      throw new WebGpuError(`webgpu: adopt: dtype must be "float" or "int32", got ${String(dtype)}`);
    const byteLength = sizeOf(shape) * 4;
    if (candidate.buffer.size < byteLength) {
      throw new WebGpuError(
        `webgpu: adopt: a buffer of ${candidate.buffer.size} bytes is too small for shape ${formatShape(shape)} (${byteLength} bytes of float32)`,
      );
    }
    if (!(candidate.buffer.usage & BufferUsage.STORAGE)) {
      throw new WebGpuError('webgpu: adopt: the GPUBuffer needs GPUBufferUsage.STORAGE (and COPY_SRC to be read back)');
    }
    return new WebGpuTensor([...shape], dtype, new GpuStorage(candidate.buffer, byteLength, false, this.release));
  }

  /** Buffer counters: every buffer handed to a tensor is in use until disposed, then pooled. */
  stats(): WebGpuBackendStats {
    return { ...this.pool.stats(), stagingPooled: this.executor.stagingPooled };
  }

  /** Releases every pooled buffer and, when the backend created it, the device. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.pool.clear();
    this.executor.destroy();
    if (this.options.ownsDevice) this.device.destroy();
  }
}
