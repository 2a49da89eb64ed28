import type { OnnxGraphBuilder } from './onnx-graph-builder';

/** Names of the graph values a linear head reads: `[N, H]`, `[V, H]`, `[V]` or null, `[N]` int32, and scalar feeds. */
export interface LinearHeadValues {
  readonly hidden: string;
  readonly weight: string;
  readonly bias: string | null;
  readonly labels: string;
  /** int64 scalar: vocabulary rows per chunk. */
  readonly chunkSize: string;
  /** float scalar: the logit scale. */
  readonly logitScale: string;
  /** float scalar: the softcap `c`, or null for none. */
  readonly softcap: string | null;
  readonly ignoreIndex: number;
}

/** The lowest float32: the running maximum before the first chunk (no infinities, so no `inf − inf`). */
const LOWEST_FLOAT32 = -3.4028234663852886e38;

/**
 * Lowers the linear head `z = softcap(scale · (hidden·weightᵀ + bias))` and its token
 * log-probs as an ONNX `Loop` over vocabulary chunks: each iteration slices `chunk` rows of
 * the weight (the last one shorter when the chunk does not divide V), computes that
 * `[N, chunk]` block of logits with `Gemm`, and folds it into an online log-sum-exp. No value
 * of the graph is `[N, V]`, and one compiled graph serves every N, H, V and chunk size.
 */
export class LinearHeadLowering {
  constructor(private readonly b: OnnxGraphBuilder) {}

  /** Label info shared by the forward and the gradient: ignored rows and the labels as int64 (0 where ignored). */
  private labels(v: LinearHeadValues) {
    const { b } = this;
    const ignored = b.node('Equal', [v.labels, b.int32Scalar(v.ignoreIndex)]);
    const safe = b.node('Cast', [b.node('Where', [ignored, b.int32Scalar(0), v.labels])], { to: 7 });
    return { ignored, safe };
  }

  /** Sizes shared by both loops: V, the trip count `ceil(V / chunk)` and the shape `[N]`. */
  private sizes(v: LinearHeadValues) {
    const { b } = this;
    const vocab = b.node('Gather', [b.node('Shape', [v.weight]), b.int64([0], [])], { axis: 0 });
    const trips = b.node('Div', [b.node('Sub', [b.node('Add', [vocab, v.chunkSize]), b.int64([1], [])]), v.chunkSize]);
    const rows = b.node('Slice', [b.node('Shape', [v.hidden]), b.int64([0]), b.int64([1])]);
    return { vocab, trips, rows };
  }

  /**
   * One chunk inside a loop body: its start and length, its weight rows, its logits `z`
   * (after scale and softcap) and, with a softcap, `tanh` for the gradient; the label's
   * position within the chunk (clamped) and whether it falls in it.
   */
  private chunk(body: OnnxGraphBuilder, v: LinearHeadValues, iteration: string, vocab: string, safeLabels: string) {
    const start = body.node('Mul', [iteration, v.chunkSize]);
    const end = body.node('Min', [body.node('Add', [start, v.chunkSize]), vocab]);
    const length = body.node('Sub', [end, start]);
    const vector = (x: string) => body.node('Unsqueeze', [x, body.int64([0])]);
    const axis0 = body.int64([0]);
    const weight = body.node('Slice', [v.weight, vector(start), vector(end), axis0]);
    const gemmInputs = [v.hidden, weight];
    if (v.bias) gemmInputs.push(body.node('Slice', [v.bias, vector(start), vector(end), axis0]));
    const scaled = body.node('Mul', [body.node('Gemm', gemmInputs, { transB: 1 }), v.logitScale]);
    let z = scaled;
    let tanh: string | null = null;
    if (v.softcap) {
      tanh = body.node('Tanh', [body.node('Div', [scaled, v.softcap])]);
      z = body.node('Mul', [tanh, v.softcap]);
    }
    const local = body.node('Sub', [safeLabels, start]);
    const inChunk = body.node('And', [body.node('GreaterOrEqual', [local, body.int64([0], [])]), body.node('Less', [local, length])]);
    const index = body.node('Unsqueeze', [body.node('Where', [inChunk, local, body.int64([0], [])]), body.int64([-1])]);
    return { weight, z, tanh, inChunk, index, length };
  }

  /** `{ logps [N], logSumExp [N] }`: logps exactly 0 where the label is ignored. */
  forward(v: LinearHeadValues): { logps: string; logSumExp: string } {
    const { b } = this;
    const { ignored, safe } = this.labels(v);
    const { vocab, trips, rows } = this.sizes(v);
    const runningMax0 = b.node('Expand', [b.floatScalar(LOWEST_FLOAT32), rows]);
    const sum0 = b.node('Expand', [b.floatScalar(0), rows]);

    const body = b.subgraph();
    const iteration = body.input(body.freshName(), 'int64', []);
    const condIn = body.input(body.freshName(), 'bool', []);
    const max = body.input(body.freshName(), 'float', [null]);
    const sum = body.input(body.freshName(), 'float', [null]);
    const picked = body.input(body.freshName(), 'float', [null]);
    const { z, inChunk, index } = this.chunk(body, v, iteration, vocab, safe);
    const axis1 = body.int64([1]);
    const newMax = body.node('Max', [max, body.node('ReduceMax', [z, axis1], { keepdims: 0 })]);
    const shifted = body.node('Exp', [body.node('Sub', [z, body.node('Unsqueeze', [newMax, axis1])])]);
    const newSum = body.node('Add', [
      body.node('Mul', [sum, body.node('Exp', [body.node('Sub', [max, newMax])])]),
      body.node('ReduceSum', [shifted, axis1], { keepdims: 0 }),
    ]);
    const gathered = body.node('Squeeze', [body.node('GatherElements', [z, index], { axis: 1 }), axis1]);
    const newPicked = body.node('Where', [inChunk, gathered, picked]);
    const outputs = [body.node('Identity', [condIn]), newMax, newSum, newPicked];
    outputs.forEach((name, k) => body.output(name, k === 0 ? 'bool' : 'float', k === 0 ? [] : [null]));

    const [finalMax, finalSum, finalPicked] = b.nodeMulti(
      'Loop',
      [trips, '', runningMax0, sum0, sum0],
      { body: { graph: body.graph('chunk') } },
      3,
    );
    const logSumExp = b.node('Add', [finalMax, b.node('Log', [finalSum])]);
    const logps = b.node('Where', [ignored, b.floatScalar(0), b.node('Sub', [finalPicked, logSumExp])]);
    return { logps, logSumExp };
  }

  /**
   * Gradients of `Σ upstream · logps` for hidden, weight and bias, chunk by chunk with the
   * forward's log-sum-exp: `dz = upstream·(onehot − exp(z − lse))` (times `1 − tanh²` under a
   * softcap, times the scale), `dHidden += dz·W_c` carried through the loop, `dW_c = dzᵀ·hidden`
   * and `dBias_c = Σ_n dz` as scan outputs padded to the chunk size, then cut to V rows.
   */
  gradient(v: LinearHeadValues, logSumExp: string, upstream: string): { hidden: string; weight: string; bias: string | null } {
    const { b } = this;
    const { ignored, safe } = this.labels(v);
    const { vocab, trips } = this.sizes(v);
    const kept = b.node('Unsqueeze', [b.node('Where', [ignored, b.floatScalar(0), upstream]), b.int64([-1])]);
    const negKept = b.node('Neg', [kept]);
    const lse = b.node('Unsqueeze', [logSumExp, b.int64([-1])]);
    const dHidden0 = b.node('Expand', [b.floatScalar(0), b.node('Shape', [v.hidden])]);

    const body = b.subgraph();
    const iteration = body.input(body.freshName(), 'int64', []);
    const condIn = body.input(body.freshName(), 'bool', []);
    const dHidden = body.input(body.freshName(), 'float', [null, null]);
    const c = this.chunk(body, v, iteration, vocab, safe);
    const probs = body.node('Exp', [body.node('Sub', [c.z, lse])]);
    const labelTerm = body.node('Where', [body.node('Unsqueeze', [c.inChunk, body.int64([-1])]), kept, body.floatScalar(0)]);
    let dz = body.node('ScatterElements', [body.node('Mul', [probs, negKept]), c.index, labelTerm], { axis: 1, reduction: 'add' });
    if (c.tanh) dz = body.node('Mul', [dz, body.node('Sub', [body.floatScalar(1), body.node('Mul', [c.tanh, c.tanh])])]);
    dz = body.node('Mul', [dz, v.logitScale]);
    const newDHidden = body.node('Add', [dHidden, body.node('MatMul', [dz, c.weight])]);
    const missing = body.node('Sub', [v.chunkSize, c.length]);
    const zero = body.int64([0]);
    const rowPads = body.node('Concat', [zero, zero, body.node('Unsqueeze', [missing, zero]), zero], { axis: 0 });
    const dWeight = body.node('Pad', [body.node('Gemm', [dz, v.hidden], { transA: 1 }), rowPads]);
    body.output(body.node('Identity', [condIn]), 'bool', []);
    body.output(newDHidden, 'float', [null, null]);
    body.output(dWeight, 'float', [null, null]);
    if (v.bias) {
      const dBias = body.node('Pad', [
        body.node('ReduceSum', [dz, zero], { keepdims: 0 }),
        body.node('Concat', [zero, body.node('Unsqueeze', [missing, zero])], { axis: 0 }),
      ]);
      body.output(dBias, 'float', [null]);
    }

    const outputs = b.nodeMulti('Loop', [trips, '', dHidden0], { body: { graph: body.graph('chunkGradient') } }, v.bias ? 3 : 2);
    const vocabVector = b.node('Unsqueeze', [vocab, b.int64([0])]);
    const firstRows = (stacked: string, rowShape: string) =>
      b.node('Slice', [b.node('Reshape', [stacked, rowShape]), b.int64([0]), vocabVector, b.int64([0])]);
    const hiddenSize = b.node('Slice', [b.node('Shape', [v.hidden]), b.int64([1]), b.int64([2])]);
    return {
      hidden: outputs[0],
      weight: firstRows(outputs[1], b.node('Concat', [b.int64([-1]), hiddenSize], { axis: 0 })),
      bias: v.bias ? firstRows(outputs[2], b.int64([-1])) : null,
    };
  }
}
