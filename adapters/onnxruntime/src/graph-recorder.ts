import { PrefParamError, PrefShapeError, type BackendCapabilities, type HostArray, type PrefBackend, type Shape } from '@pref/core';
import {
  BACKEND_SPECIFICATION_VERSION,
  composedLinearTokenEntropy,
  composedLinearTokenEntropyGrad,
  composedTokenEntropy,
  composedTokenEntropyGrad,
  type LinearEntropyOptions,
  type TokenEntropyResult,
  type LinearTokenLogProbsGrads,
  broadcastShapes,
  formatShape,
  normalizeAxis,
  reducedShape,
  sizeOf,
  type BinaryOp,
  type CompareOp,
  type LinearHeadOptions,
  type TokenLogProbsResult,
  type ReduceOp,
  type UnaryOp,
} from '@pref/core/backend';
import { GraphTensor, type GraphOp, type LinearHeadOp } from './graph-tensor';

/**
 * The recording half of the onnxruntime backend: every primitive computes the result's shape
 * (core's `TensorOps` has checked the operands) and records a graph node; nothing runs. Subclasses decide what `read`
 * does with the graph (run it in onnxruntime, or export it).
 */
export abstract class GraphRecorder implements PrefBackend<GraphTensor> {
  readonly specificationVersion = BACKEND_SPECIFICATION_VERSION;
  readonly capabilities: BackendCapabilities = { precision: 32, float64: false, nativeAutodiff: false, execution: 'lazy' };
  abstract readonly name: string;

  abstract read(xs: readonly GraphTensor[]): Promise<HostArray[]>;

  private record(shape: Shape, dtype: 'float' | 'int32', op: GraphOp, inputs: readonly GraphTensor[] = []): GraphTensor {
    return new GraphTensor([...shape], dtype, op, inputs);
  }

  /**
   * A float input fed to the graph when it runs. A `Float32Array` is used as is, not copied:
   * it must not change before the tensors that depend on it are read.
   */
  fromHost(data: ArrayLike<number>, shape: Shape): GraphTensor {
    if (data.length !== sizeOf(shape))
      throw new PrefShapeError('fromHost', [shape], `fromHost: ${data.length} values for shape ${formatShape(shape)}`);
    const values = data instanceof Float32Array ? data : Float32Array.from(data);
    return this.record(shape, 'float', { kind: 'input', data: values });
  }

  fromHostInt(data: Int32Array, shape: Shape): GraphTensor {
    if (data.length !== sizeOf(shape))
      throw new PrefShapeError('fromHostInt', [shape], `fromHostInt: ${data.length} values for shape ${formatShape(shape)}`);
    return this.record(shape, 'int32', { kind: 'input', data });
  }

  fill(shape: Shape, value: number): GraphTensor {
    return this.record(shape, 'float', { kind: 'fill', value });
  }

  unary(op: UnaryOp, x: GraphTensor): GraphTensor {
    return this.record(x.shape, 'float', { kind: 'unary', op }, [x]);
  }

  binary(op: BinaryOp, a: GraphTensor, b: GraphTensor): GraphTensor {
    return this.record(broadcastShapes(a.shape, b.shape), 'float', { kind: 'binary', op }, [a, b]);
  }

  compare(op: CompareOp, a: GraphTensor, b: GraphTensor): GraphTensor {
    return this.record(broadcastShapes(a.shape, b.shape), 'float', { kind: 'compare', op }, [a, b]);
  }

  where(cond: GraphTensor, a: GraphTensor, b: GraphTensor): GraphTensor {
    const shape = broadcastShapes(broadcastShapes(cond.shape, a.shape), b.shape);
    return this.record(shape, 'float', { kind: 'where' }, [cond, a, b]);
  }

  reduce(op: ReduceOp, x: GraphTensor, axes: readonly number[], keepDims: boolean): GraphTensor {
    const normalized = [...new Set(axes.map((a) => normalizeAxis(a, x.shape.length)))].sort((p, q) => p - q);
    return this.record(reducedShape(x.shape, normalized, keepDims), 'float', { kind: 'reduce', op, axes: normalized, keepDims }, [x]);
  }

  reshape(x: GraphTensor, shape: Shape): GraphTensor {
    return this.record(shape, x.dtype, { kind: 'reshape' }, [x]);
  }

  broadcastTo(x: GraphTensor, shape: Shape): GraphTensor {
    return this.record(shape, x.dtype, { kind: 'broadcastTo' }, [x]);
  }

  slice(x: GraphTensor, begin: readonly number[], size: readonly number[]): GraphTensor {
    return this.record(size, x.dtype, { kind: 'slice', begin: [...begin] }, [x]);
  }

  concat(xs: readonly GraphTensor[], axis: number): GraphTensor {
    const ax = normalizeAxis(axis, xs[0].shape.length);
    const shape = [...xs[0].shape];
    shape[ax] = xs.reduce((n, t) => n + t.shape[ax], 0);
    return this.record(shape, xs[0].dtype, { kind: 'concat', axis: ax }, xs);
  }

  argsort(x: GraphTensor, axis: number): GraphTensor {
    return this.record(x.shape, 'int32', { kind: 'argsort', axis: normalizeAxis(axis, x.shape.length) }, [x]);
  }

  gather(x: GraphTensor, indices: GraphTensor, axis: number): GraphTensor {
    return this.record(indices.shape, x.dtype, { kind: 'gather', axis: normalizeAxis(axis, x.shape.length) }, [x, indices]);
  }

  scatterAdd(shape: Shape, indices: GraphTensor, updates: GraphTensor, axis: number): GraphTensor {
    return this.record(shape, 'float', { kind: 'scatterAdd', axis: normalizeAxis(axis, shape.length) }, [indices, updates]);
  }

  tokenLogProbs(logits: GraphTensor, labels: GraphTensor, ignoreIndex: number): TokenLogProbsResult<GraphTensor> {
    const logps = this.record(labels.shape, 'float', { kind: 'tokenLogProbs', ignoreIndex }, [logits, labels]);
    return { logps, logSumExp: this.secondary(logps, 1, labels.shape) };
  }

  tokenLogProbsGrad(
    logits: GraphTensor,
    labels: GraphTensor,
    logSumExp: GraphTensor,
    upstream: GraphTensor,
    ignoreIndex: number,
  ): GraphTensor {
    return this.record(logits.shape, 'float', { kind: 'tokenLogProbsGrad', ignoreIndex }, [logits, labels, logSumExp, upstream]);
  }

  linearTokenLogProbs(
    hidden: GraphTensor,
    weight: GraphTensor,
    bias: GraphTensor | null,
    labels: GraphTensor,
    options: LinearHeadOptions,
  ): TokenLogProbsResult<GraphTensor> {
    const op = linearHeadOp(hidden, weight, bias, options);
    const logps = this.record(
      labels.shape,
      'float',
      { kind: 'linearTokenLogProbs', ...op },
      bias ? [hidden, weight, bias, labels] : [hidden, weight, labels],
    );
    return { logps, logSumExp: this.secondary(logps, 1, labels.shape) };
  }

  linearTokenLogProbsGrad(
    hidden: GraphTensor,
    weight: GraphTensor,
    bias: GraphTensor | null,
    labels: GraphTensor,
    logSumExp: GraphTensor,
    upstream: GraphTensor,
    options: LinearHeadOptions,
  ): { readonly hidden: GraphTensor; readonly weight: GraphTensor; readonly bias: GraphTensor | null } {
    const op = linearHeadOp(hidden, weight, bias, options);
    const inputs = bias ? [hidden, weight, bias, labels, logSumExp, upstream] : [hidden, weight, labels, logSumExp, upstream];
    const dHidden = this.record(hidden.shape, 'float', { kind: 'linearTokenLogProbsGrad', ...op }, inputs);
    return {
      hidden: dHidden,
      weight: this.secondary(dHidden, 1, weight.shape),
      bias: bias ? this.secondary(dHidden, 2, bias.shape) : null,
    };
  }

  /** Token entropy recorded as elementwise and reduce nodes (core's composed form); the hidden path unrolled over vocabulary chunks. */
  tokenEntropy(logits: GraphTensor): TokenEntropyResult<GraphTensor> {
    return composedTokenEntropy<GraphTensor>(this, logits);
  }

  tokenEntropyGrad(logits: GraphTensor, logSumExp: GraphTensor, entropy: GraphTensor, upstream: GraphTensor): GraphTensor {
    return composedTokenEntropyGrad<GraphTensor>(this, logits, logSumExp, entropy, upstream);
  }

  linearTokenEntropy(
    hidden: GraphTensor,
    weight: GraphTensor,
    bias: GraphTensor | null,
    options: LinearEntropyOptions,
  ): TokenEntropyResult<GraphTensor> {
    return composedLinearTokenEntropy<GraphTensor>(this, hidden, weight, bias, options);
  }

  linearTokenEntropyGrad(
    hidden: GraphTensor,
    weight: GraphTensor,
    bias: GraphTensor | null,
    logSumExp: GraphTensor,
    entropy: GraphTensor,
    upstream: GraphTensor,
    options: LinearEntropyOptions,
  ): LinearTokenLogProbsGrads<GraphTensor> {
    return composedLinearTokenEntropyGrad<GraphTensor>(this, hidden, weight, bias, logSumExp, entropy, upstream, options);
  }

  private secondary(of: GraphTensor, index: number, shape: Shape): GraphTensor {
    return this.record(shape, 'float', { kind: 'secondary', index }, [of]);
  }

  /** Graph nodes are garbage-collected with their last reference; nothing to release. */
  dispose(): void {}
}

/**
 * Vocabulary rows per chunk when the caller names none: a `[N, chunk]` block of logits
 * stays near 32 MiB (and at least 256 rows, at most the vocabulary).
 */
export function defaultChunkSize(rows: number, vocab: number): number {
  const budget = Math.floor(2 ** 23 / Math.max(1, rows) / 256) * 256;
  return Math.max(1, Math.min(vocab, Math.max(256, budget)));
}

function linearHeadOp(hidden: GraphTensor, weight: GraphTensor, bias: GraphTensor | null, options: LinearHeadOptions): LinearHeadOp {
  const vocab = weight.shape[0];
  const chunkSize = options.chunkSize ?? defaultChunkSize(hidden.shape[0], vocab);
  if (!(Number.isInteger(chunkSize) && chunkSize >= 1)) {
    throw new PrefParamError('chunkSize', `linearTokenLogProbs: chunkSize must be a positive integer, got ${chunkSize}`);
  }
  return { ignoreIndex: options.ignoreIndex, logitScale: options.logitScale, softcap: options.softcap, chunkSize, hasBias: bias !== null };
}
