import {
  BACKEND_SPECIFICATION_VERSION,
  broadcastShapes,
  formatShape,
  normalizeAxis,
  reducedShape,
  sameShape,
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
import { GraphTensor, type GraphOp } from './graph-tensor';

/**
 * The recording half of the onnxruntime backend: every primitive checks its shapes, computes
 * the result's shape and records a graph node; nothing runs. Subclasses decide what `read`
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
    if (data.length !== sizeOf(shape)) throw new Error(`fromHost: ${data.length} values for shape ${formatShape(shape)}`);
    const values = data instanceof Float32Array ? data : Float32Array.from(data);
    return this.record(shape, 'float', { kind: 'input', data: values });
  }

  fromHostInt(data: Int32Array, shape: Shape): GraphTensor {
    if (data.length !== sizeOf(shape)) throw new Error(`fromHostInt: ${data.length} values for shape ${formatShape(shape)}`);
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
    if (sizeOf(shape) !== sizeOf(x.shape)) throw new Error(`reshape: cannot reshape ${formatShape(x.shape)} to ${formatShape(shape)}`);
    return this.record(shape, x.dtype, { kind: 'reshape' }, [x]);
  }

  broadcastTo(x: GraphTensor, shape: Shape): GraphTensor {
    if (!sameShape(broadcastShapes(x.shape, shape), shape)) {
      throw new Error(`broadcastTo: cannot broadcast ${formatShape(x.shape)} to ${formatShape(shape)}`);
    }
    return this.record(shape, x.dtype, { kind: 'broadcastTo' }, [x]);
  }

  slice(x: GraphTensor, begin: readonly number[], size: readonly number[]): GraphTensor {
    const valid = begin.length === x.shape.length && size.length === x.shape.length &&
      x.shape.every((d, i) => begin[i] >= 0 && size[i] >= 0 && begin[i] + size[i] <= d);
    if (!valid) throw new Error(`slice: begin [${begin.join(', ')}] size [${size.join(', ')}] outside ${formatShape(x.shape)}`);
    return this.record(size, x.dtype, { kind: 'slice', begin: [...begin] }, [x]);
  }

  concat(xs: readonly GraphTensor[], axis: number): GraphTensor {
    if (xs.length === 0) throw new Error('concat: needs at least one tensor');
    const ax = normalizeAxis(axis, xs[0].shape.length);
    const shape = [...xs[0].shape];
    for (const t of xs.slice(1)) {
      if (t.shape.length !== shape.length || t.shape.some((d, i) => i !== ax && d !== shape[i])) {
        throw new Error(`concat: ${formatShape(t.shape)} does not match ${formatShape(xs[0].shape)} outside axis ${ax}`);
      }
    }
    shape[ax] = xs.reduce((n, t) => n + t.shape[ax], 0);
    return this.record(shape, xs[0].dtype, { kind: 'concat', axis: ax }, xs);
  }

  argsort(x: GraphTensor, axis: number): GraphTensor {
    return this.record(x.shape, 'int32', { kind: 'argsort', axis: normalizeAxis(axis, x.shape.length) }, [x]);
  }

  gather(x: GraphTensor, indices: GraphTensor, axis: number): GraphTensor {
    this.expectIndices('gather', indices, x.shape.length);
    return this.record(indices.shape, x.dtype, { kind: 'gather', axis: normalizeAxis(axis, x.shape.length) }, [x, indices]);
  }

  scatterAdd(shape: Shape, indices: GraphTensor, updates: GraphTensor, axis: number): GraphTensor {
    this.expectIndices('scatterAdd', indices, shape.length);
    if (!sameShape(indices.shape, updates.shape)) {
      throw new Error(`scatterAdd: updates ${formatShape(updates.shape)} must have the shape of indices ${formatShape(indices.shape)}`);
    }
    return this.record(shape, 'float', { kind: 'scatterAdd', axis: normalizeAxis(axis, shape.length) }, [indices, updates]);
  }

  tokenLogProbs(logits: GraphTensor, labels: GraphTensor, ignoreIndex: number): GraphTensor {
    this.expectLabels(logits, labels);
    return this.record(labels.shape, 'float', { kind: 'tokenLogProbs', ignoreIndex }, [logits, labels]);
  }

  tokenLogProbsGrad(logits: GraphTensor, labels: GraphTensor, upstream: GraphTensor, ignoreIndex: number): GraphTensor {
    this.expectLabels(logits, labels);
    if (!sameShape(upstream.shape, labels.shape)) {
      throw new Error(`tokenLogProbsGrad: upstream ${formatShape(upstream.shape)} must have the labels' shape ${formatShape(labels.shape)}`);
    }
    return this.record(logits.shape, 'float', { kind: 'tokenLogProbsGrad', ignoreIndex }, [logits, labels, upstream]);
  }

  /** Graph nodes are garbage-collected with their last reference; nothing to release. */
  dispose(): void {}

  private expectIndices(op: string, indices: GraphTensor, rank: number): void {
    if (indices.dtype !== 'int32') throw new Error(`${op}: indices must be int32, got ${indices.dtype}`);
    if (indices.shape.length !== rank) throw new Error(`${op}: indices of rank ${indices.shape.length}, expected rank ${rank}`);
  }

  private expectLabels(logits: GraphTensor, labels: GraphTensor): void {
    if (labels.dtype !== 'int32') throw new Error(`tokenLogProbs: labels must be int32, got ${labels.dtype}`);
    const ok = logits.shape.length === labels.shape.length + 1 && labels.shape.every((d, i) => d === logits.shape[i]);
    if (!ok) throw new Error(`tokenLogProbs: labels ${formatShape(labels.shape)} do not match logits ${formatShape(logits.shape)} without the vocabulary axis`);
  }
}
