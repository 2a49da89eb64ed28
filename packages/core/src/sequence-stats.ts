import type { SequenceTensors } from './objective-inputs';
import type { ForwardContext } from './forward-context';
import type { Tensor } from './tensor';
import type { TensorOps } from './tensor-ops';

/** `S = Σ_t m·l` per row `[N]`. Masked-out values never leak in (selected away, not multiplied). */
export function sequenceSum(ops: TensorOps, seq: SequenceTensors): Tensor {
  return ops.sum(ops.where(seq.mask, seq.logps, 0), 1);
}

/** `n = Σ_t m` per row `[N]`. */
export function sequenceLength(ops: TensorOps, seq: SequenceTensors): Tensor {
  return ops.sum(seq.mask, 1);
}

/** `A = S / n` per row `[N]`. */
export function sequenceMean(ops: TensorOps, seq: SequenceTensors): Tensor {
  return ops.div(sequenceSum(ops, seq), sequenceLength(ops, seq));
}

/** Token-mean negative log-likelihood over every counted token of the batch (all workers). */
export function tokenMeanNll(ctx: ForwardContext, seq: SequenceTensors): Tensor {
  return ctx.ops.neg(ctx.tokenMean(seq.logps, seq.mask));
}

/** The names of the metrics `pairMetrics` returns, for an objective's `metrics` list. */
export const PAIR_METRIC_NAMES = [
  'rewards/chosen',
  'rewards/rejected',
  'rewards/margins',
  'rewards/accuracies',
  'logps/chosen',
  'logps/rejected',
] as const;

/**
 * The metrics every pairwise objective reports, with TRL's names: `rewards/chosen`,
 * `rewards/rejected`, `rewards/margins`, `rewards/accuracies` (strictly greater), and
 * `logps/chosen`, `logps/rejected` (the log-prob the objective uses, `S` or `A`). Batch means
 * over every worker; no gradient.
 */
export function pairMetrics(
  ctx: ForwardContext,
  rewards: { readonly chosen: Tensor; readonly rejected: Tensor },
  logps: { readonly chosen: Tensor; readonly rejected: Tensor },
): Record<string, Tensor> {
  const { ops } = ctx;
  const mean = (x: Tensor) => ctx.batchMean(ops.stopGradient(x));
  return {
    'rewards/chosen': mean(rewards.chosen),
    'rewards/rejected': mean(rewards.rejected),
    'rewards/margins': mean(ops.sub(rewards.chosen, rewards.rejected)),
    'rewards/accuracies': mean(ops.greater(rewards.chosen, rewards.rejected)),
    'logps/chosen': mean(logps.chosen),
    'logps/rejected': mean(logps.rejected),
  };
}
