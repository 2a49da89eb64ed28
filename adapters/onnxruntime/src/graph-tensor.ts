import type { BackendTensor, Shape } from '@pref/core';
import type { BinaryOp, CompareOp, ReduceOp, UnaryOp } from '@pref/core/backend';

/** Host values a graph input is fed with at run time. */
export type FeedData = Float32Array | Int32Array;

/**
 * What produced a recorded tensor. Sizes are never part of an op: they are in the tensor's
 * `shape` and reach the ONNX graph as int64 feeds, so one compiled graph serves every size.
 */
export type GraphOp =
  | { readonly kind: 'input'; readonly data: FeedData }
  | { readonly kind: 'fill'; readonly value: number }
  | { readonly kind: 'unary'; readonly op: UnaryOp }
  | { readonly kind: 'binary'; readonly op: BinaryOp }
  | { readonly kind: 'compare'; readonly op: CompareOp }
  | { readonly kind: 'where' }
  | { readonly kind: 'reduce'; readonly op: ReduceOp; readonly axes: readonly number[]; readonly keepDims: boolean }
  | { readonly kind: 'reshape' }
  | { readonly kind: 'broadcastTo' }
  | { readonly kind: 'slice'; readonly begin: readonly number[] }
  | { readonly kind: 'concat'; readonly axis: number }
  | { readonly kind: 'argsort'; readonly axis: number }
  | { readonly kind: 'gather'; readonly axis: number }
  | { readonly kind: 'scatterAdd'; readonly axis: number }
  | { readonly kind: 'tokenLogProbs'; readonly ignoreIndex: number }
  | { readonly kind: 'tokenLogProbsGrad'; readonly ignoreIndex: number }
  | ({ readonly kind: 'linearTokenLogProbs' } & LinearHeadOp)
  | ({ readonly kind: 'linearTokenLogProbsGrad' } & LinearHeadOp)
  /** Output `index` (≥ 1) of a multi-output node, its only input; output 0 is the node itself. */
  | { readonly kind: 'secondary'; readonly index: number };

/** The options of a linear head, resolved: `chunkSize` chosen, `hasBias` says whether input 2 is the bias. */
export interface LinearHeadOp {
  readonly ignoreIndex: number;
  readonly logitScale: number;
  readonly softcap: number | null;
  readonly chunkSize: number;
  readonly hasBias: boolean;
}

/**
 * A tensor of the onnxruntime backend: a node of the recorded graph. Nothing is computed
 * until `read`, which compiles the graph behind the tensors read into one ONNX model.
 */
export class GraphTensor implements BackendTensor {
  constructor(
    readonly shape: Shape,
    readonly dtype: 'float' | 'int32',
    readonly op: GraphOp,
    readonly inputs: readonly GraphTensor[] = [],
  ) {}
}
