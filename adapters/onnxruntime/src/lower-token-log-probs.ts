import type { OnnxGraphBuilder } from './onnx-graph-builder';

/**
 * Lowers the fused token log-probs and their gradient without any `[..., V]` one-hot.
 * Values shared by several uses of the same logits or labels (the ignore mask, the safe label
 * indices, the log-softmax) are emitted once per graph.
 */
export class TokenLogProbsLowering {
  private readonly labelInfo = new Map<string, { ignored: string; index: string }>();
  private readonly logSoftmaxes = new Map<string, string>();

  constructor(private readonly b: OnnxGraphBuilder) {}

  /** Boolean `labels == ignoreIndex` and the labels as `[..., 1]` indices with 0 where ignored. */
  private labels(labels: string, ignoreIndex: number) {
    const key = `${labels}/${ignoreIndex}`;
    let info = this.labelInfo.get(key);
    if (!info) {
      const { b } = this;
      const ignored = b.node('Equal', [labels, b.int32Scalar(ignoreIndex)]);
      const safe = b.node('Where', [ignored, b.int32Scalar(0), labels]);
      info = { ignored, index: b.node('Unsqueeze', [safe, b.int64([-1])]) };
      this.labelInfo.set(key, info);
    }
    return info;
  }

  /**
   * `logits − logsumexp(logits)` over the last axis, max-shifted inside onnxruntime's fused
   * `LogSoftmax` kernel: one pass, measured ~7x faster on CPU than its `ReduceLogSumExp`
   * (736 ms vs 99 ms on [4, 256, 32000]) and faster than ReduceMax/Sub/Exp/ReduceSum.
   */
  private logSoftmax(logits: string, logitsRank: number): string {
    let result = this.logSoftmaxes.get(logits);
    if (!result) {
      result = this.b.node('LogSoftmax', [logits], { axis: logitsRank - 1 });
      this.logSoftmaxes.set(logits, result);
    }
    return result;
  }

  /**
   * `logits[label] − logsumexp(logits)`, exactly 0 where ignored, and the row log-sum-exp
   * as `logits[label] − logSoftmax[label]` (two `[...]` gathers, no second pass over V).
   */
  forward(logits: string, labels: string, logitsRank: number, ignoreIndex: number): { logps: string; logSumExp: string } {
    const { b } = this;
    const { ignored, index } = this.labels(labels, ignoreIndex);
    const axis = logitsRank - 1;
    const pick = (x: string) => b.node('Squeeze', [b.node('GatherElements', [x, index], { axis }), b.int64([-1])]);
    const picked = pick(this.logSoftmax(logits, logitsRank));
    return {
      logps: b.node('Where', [ignored, b.floatScalar(0), picked]),
      logSumExp: b.node('Sub', [pick(logits), picked]),
    };
  }

  /**
   * `upstream · (onehot(label) − exp(logits − logSumExp))` with the forward's log-sum-exp: the
   * softmax term scaled by `−upstream`, plus a scatter-add of `upstream` at the labels
   * (`ScatterElements`, add), which writes only `[...]` values where a one-hot would build
   * another `[..., V]` tensor.
   */
  gradient(logits: string, labels: string, logSumExp: string, upstream: string, logitsRank: number, ignoreIndex: number): string {
    const { b } = this;
    const { ignored, index } = this.labels(labels, ignoreIndex);
    const kept = b.node('Unsqueeze', [b.node('Where', [ignored, b.floatScalar(0), upstream]), b.int64([-1])]);
    // exp(logits − logSumExp) is exp of the forward's log-softmax: in one graph (a whole
    // valueAndGrad) that node exists already, which saves a pass over [..., V].
    const probs = this.logSoftmaxes.has(logits)
      ? b.node('Exp', [this.logSoftmax(logits, logitsRank)])
      : b.node('Exp', [b.node('Sub', [logits, b.node('Unsqueeze', [logSumExp, b.int64([-1])])])]);
    const scaled = b.node('Mul', [probs, b.node('Neg', [kept])]);
    return b.node('ScatterElements', [scaled, index, kept], { axis: logitsRank - 1, reduction: 'add' });
  }
}
