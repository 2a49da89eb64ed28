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

  /** `logits[label] − logsumexp(logits)`, exactly 0 where ignored. */
  forward(logits: string, labels: string, logitsRank: number, ignoreIndex: number): string {
    const { b } = this;
    const { ignored, index } = this.labels(labels, ignoreIndex);
    const picked = b.node('GatherElements', [this.logSoftmax(logits, logitsRank), index], { axis: logitsRank - 1 });
    return b.node('Where', [ignored, b.floatScalar(0), b.node('Squeeze', [picked, b.int64([-1])])]);
  }

  /**
   * `upstream · (onehot(label) − softmax(logits))` as `Softmax · (−upstream)` plus a scatter-add
   * of `upstream` at the labels (`ScatterElements`, add), which writes only `[...]` values where
   * a one-hot would build another `[..., V]` tensor.
   */
  gradient(logits: string, labels: string, upstream: string, logitsRank: number, ignoreIndex: number): string {
    const { b } = this;
    const { ignored, index } = this.labels(labels, ignoreIndex);
    const kept = b.node('Unsqueeze', [b.node('Where', [ignored, b.floatScalar(0), upstream]), b.int64([-1])]);
    const softmax = b.node('Softmax', [logits], { axis: logitsRank - 1 });
    const scaled = b.node('Mul', [softmax, b.node('Neg', [kept])]);
    return b.node('ScatterElements', [scaled, index, kept], { axis: logitsRank - 1, reduction: 'add' });
  }
}
