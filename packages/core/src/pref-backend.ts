/**
 * The backend interface every adapter implements. It is closed and versioned: an adapter
 * that misses a primitive fails to compile, and `specificationVersion` tells core which
 * contract an adapter was written against.
 *
 * Conventions shared by every primitive:
 * - Float tensors hold values in the backend's precision (`capabilities.precision`); int
 *   tensors hold int32 (labels, indices). Masks are float tensors of 0 and 1.
 * - Binary, compare and `where` broadcast with NumPy rules.
 * - Primitives never read values back to the host; only `read` does. That keeps one
 *   objective valid for eager backends and for lazy ones that compile a whole graph.
 */
export const BACKEND_SPECIFICATION_VERSION = 3 as const;

export type Shape = readonly number[];
export type FloatArray = Float32Array | Float64Array;
export type HostArray = FloatArray | Int32Array;

/** Opaque handle of a tensor that lives on a backend. */
export interface BackendTensor {
  readonly shape: Shape;
  readonly dtype: 'float' | 'int32';
}

export type UnaryOp =
  'neg' | 'exp' | 'log' | 'log1p' | 'expm1' | 'sigmoid' | 'softplus' | 'logSigmoid' | 'relu' | 'square' | 'sqrt' | 'abs';
export type BinaryOp = 'add' | 'sub' | 'mul' | 'div' | 'pow' | 'maximum' | 'minimum';
/** Comparisons produce float 0/1. */
export type CompareOp = 'greater' | 'greaterEqual' | 'less' | 'lessEqual' | 'equal';
export type ReduceOp = 'sum' | 'max' | 'mean';

export const UNARY_OPS: readonly UnaryOp[] = [
  'neg',
  'exp',
  'log',
  'log1p',
  'expm1',
  'sigmoid',
  'softplus',
  'logSigmoid',
  'relu',
  'square',
  'sqrt',
  'abs',
];
export const BINARY_OPS: readonly BinaryOp[] = ['add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum'];
export const COMPARE_OPS: readonly CompareOp[] = ['greater', 'greaterEqual', 'less', 'lessEqual', 'equal'];
export const REDUCE_OPS: readonly ReduceOp[] = ['sum', 'max', 'mean'];

/** What a backend declares about itself; tests derive tolerances from it. */
export interface BackendCapabilities {
  /** Bits of the float tensors it computes in. */
  readonly precision: 32 | 64;
  /** Whether it can compute in float64 at all (with another option). */
  readonly float64: boolean;
  /** Whether it has its own autodiff (e.g. tfjs), so objectives can run inside its tape. */
  readonly nativeAutodiff: boolean;
  /** Eager backends compute at each call; lazy ones record a graph and run it on `read`. */
  readonly execution: 'eager' | 'lazy';
}

/** What `tokenLogProbs` and `linearTokenLogProbs` return: the log-probs and their residual. */
export interface TokenLogProbsResult<T> {
  /** `[N]`, exactly 0 at ignored rows. */
  readonly logps: T;
  /** The row log-sum-exp `[N]` (any finite value at ignored rows), for the gradient. */
  readonly logSumExp: T;
}

/** `z = softcap(logitScale · (hidden·weightᵀ + bias))`, `softcap(z) = c·tanh(z/c)` when `softcap = c`. */
export interface LinearHeadOptions {
  readonly ignoreIndex: number;
  /** Multiplies the logits before the softcap; 1 = none. */
  readonly logitScale: number;
  /** Final-logit softcapping `c` (Gemma-2 style), or `null` for none. */
  readonly softcap: number | null;
  /** Vocabulary rows per chunk; the backend picks one from its limits when absent. */
  readonly chunkSize?: number;
}

/** What `tokenEntropy` and `linearTokenEntropy` return: the entropy and the residuals of its gradient. */
export interface TokenEntropyResult<T> {
  /** `[N]`: `H = −Σ_v p_v·log p_v` (nats) with `p = softmax(z)`. */
  readonly entropy: T;
  /** The row log-sum-exp of `z` `[N]`, for the gradient. */
  readonly logSumExp: T;
}

/** `linearTokenEntropy`'s head: {@link LinearHeadOptions} without labels (every row counts). */
export type LinearEntropyOptions = Omit<LinearHeadOptions, 'ignoreIndex'>;

/** Gradients of `linearTokenLogProbs`. */
export interface LinearTokenLogProbsGrads<T> {
  readonly hidden: T;
  readonly weight: T;
  readonly bias: T | null;
}

export interface PrefBackend<T extends BackendTensor = BackendTensor> {
  readonly specificationVersion: typeof BACKEND_SPECIFICATION_VERSION;
  /** Short name, e.g. `reference`, `tfjs:cpu`, `onnxruntime:cpu`, `webgpu`. */
  readonly name: string;
  readonly capabilities: BackendCapabilities;

  /** A float tensor from host values (converted to the backend's precision). */
  fromHost(data: ArrayLike<number>, shape: Shape): T;
  /** An int32 tensor from host values (labels, indices). */
  fromHostInt(data: Int32Array, shape: Shape): T;
  /** A float tensor of `shape` filled with `value`. */
  fill(shape: Shape, value: number): T;

  unary(op: UnaryOp, x: T): T;
  binary(op: BinaryOp, a: T, b: T): T;
  compare(op: CompareOp, a: T, b: T): T;
  /** `cond` is a float 0/1 tensor; non-zero picks `a`. Broadcasts all three. */
  where(cond: T, a: T, b: T): T;
  reduce(op: ReduceOp, x: T, axes: readonly number[], keepDims: boolean): T;

  reshape(x: T, shape: Shape): T;
  broadcastTo(x: T, shape: Shape): T;
  slice(x: T, begin: readonly number[], size: readonly number[]): T;
  concat(xs: readonly T[], axis: number): T;

  /** Int32 indices that sort `x` ascending along `axis` (stable). */
  argsort(x: T, axis: number): T;
  /** `out[..., j, ...] = x[..., indices[..., j, ...], ...]` along `axis` (ONNX GatherElements). */
  gather(x: T, indices: T, axis: number): T;
  /** Zeros of `shape` with `updates` added at `indices` along `axis` (ScatterElements, add). */
  scatterAdd(shape: Shape, indices: T, updates: T, axis: number): T;

  /**
   * Fused token log-probs: `logits [N, V]`, int `labels [N]` → `logps [N]` with
   * `logits[label] − logsumexp(logits)` (exactly 0 where `label == ignoreIndex`), and the row
   * log-sum-exp `logSumExp [N]` (any finite value at ignored rows), the residual its gradient needs.
   */
  tokenLogProbs(logits: T, labels: T, ignoreIndex: number): TokenLogProbsResult<T>;
  /**
   * Gradient of `tokenLogProbs` from its residual: `upstream[n]·(onehot(label) − exp(logits − logSumExp))`,
   * zero rows where ignored. `logSumExp` is the one the forward returned for the same logits.
   */
  tokenLogProbsGrad(logits: T, labels: T, logSumExp: T, upstream: T, ignoreIndex: number): T;
  /**
   * Token log-probs from hidden states and an LM head: `hidden [N, H]`, `weight [V, H]`,
   * `bias [V] | null`, int `labels [N]` → the result of `tokenLogProbs` on
   * `z = softcap(logitScale·(hidden·weightᵀ + bias))`, computed chunk by chunk over V with an
   * online log-sum-exp: never an `[N, V]` tensor.
   */
  linearTokenLogProbs(hidden: T, weight: T, bias: T | null, labels: T, options: LinearHeadOptions): TokenLogProbsResult<T>;
  /**
   * Gradient of `linearTokenLogProbs` for `hidden`, `weight` and `bias` (`null` when `bias` is),
   * from the forward's `logSumExp` and the upstream gradient of the log-probs `[N]`; chunked like the forward.
   */
  linearTokenLogProbsGrad(
    hidden: T,
    weight: T,
    bias: T | null,
    labels: T,
    logSumExp: T,
    upstream: T,
    options: LinearHeadOptions,
  ): LinearTokenLogProbsGrads<T>;

  /**
   * Fused token entropy (specification version 3): `logits [N, V]` → `entropy [N]`,
   * `H = −Σ_v p_v·log p_v = logSumExp − Σ_v p_v·z_v` with `p = softmax(logits)`, and the row
   * log-sum-exp `logSumExp [N]`, the residual its gradient needs. Every row counts (no labels).
   */
  tokenEntropy(logits: T): TokenEntropyResult<T>;
  /**
   * Gradient of `tokenEntropy` from its residuals: `upstream[n]·(−p_v·(log p_v + H))` `[N, V]`
   * with `log p_v = logits − logSumExp`; `logSumExp` and `entropy` are what the forward returned.
   */
  tokenEntropyGrad(logits: T, logSumExp: T, entropy: T, upstream: T): T;
  /**
   * Token entropy from hidden states and an LM head: `hidden [N, H]`, `weight [V, H]`,
   * `bias [V] | null` → the result of `tokenEntropy` on `z = softcap(logitScale·(hidden·weightᵀ + bias))`,
   * chunk by chunk over V (an online log-sum-exp and an online `Σ p·z`): never an `[N, V]` tensor.
   */
  linearTokenEntropy(hidden: T, weight: T, bias: T | null, options: LinearEntropyOptions): TokenEntropyResult<T>;
  /**
   * Gradient of `linearTokenEntropy` for `hidden`, `weight` and `bias` (`null` when `bias` is),
   * from the forward's `logSumExp` and `entropy` and the upstream gradient `[N]`; chunked like the forward.
   */
  linearTokenEntropyGrad(
    hidden: T,
    weight: T,
    bias: T | null,
    logSumExp: T,
    entropy: T,
    upstream: T,
    options: LinearEntropyOptions,
  ): LinearTokenLogProbsGrads<T>;

  /** Reads tensors to host arrays. Lazy backends run everything needed in one go. */
  read(xs: readonly T[]): Promise<HostArray[]>;
  /** Releases a tensor's memory. Disposing twice is harmless. */
  dispose(x: T): void;
  /**
   * Wraps a value native to this backend (a `tf.Tensor`, a `GPUBuffer` with shape, ...)
   * as a tensor, or returns `undefined` when `value` is not one.
   */
  adopt?(value: unknown, shape?: Shape): T | undefined;
  /**
   * A zeroed float array of the backend's precision in memory the backend computes on directly
   * (the reference backend: its WebAssembly arena). Fill it in place and pass it as an input
   * (`fromHost` then copies nothing) or as a `gradients` buffer of `valueAndGrad` (the gradient
   * is written there). The memory is the caller's while the array is referenced.
   */
  allocate?(shape: Shape): FloatArray;
  /**
   * Optional: the largest `|x|` of each of `rows` rows of `width` values of a host array (NaN for
   * a row holding a NaN), for core's host check of logits; `null` when the backend has no faster
   * way than a plain scan for this array (core then scans it itself). The reference backend
   * answers for arrays in its kernels' memory (`allocate`), with its SIMD kernel on every thread.
   */
  hostRowMaxAbs?(data: ArrayLike<number>, rows: number, width: number): Float64Array | null;
  /**
   * A hint from `valueAndGrad`'s `gradients` option, given before the forward: the gradient of
   * the differentiable input `input` is to end up in `target`. A backend may compute it there
   * directly, so that `read` of that gradient returns `target` itself; core copies it there
   * otherwise. `null` withdraws the hint (core does so at the end of every call).
   */
  writeGradientInto?(input: T, target: FloatArray | null): void;
  /** Cumulative counters of the buffers the backend created, for benchmarks and steady-state tests. */
  stats?(): BackendBufferStats;
}

/** What `PrefBackend.stats` returns. */
export interface BackendBufferStats {
  /** Buffers of at least 1 MiB created so far (typed arrays, memory growth, device buffers). */
  readonly largeBufferAllocations: number;
  /** Their bytes. */
  readonly largeBufferBytes: number;
}
