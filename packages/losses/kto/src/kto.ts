import { defineObjective, sequenceSum, type ForwardContext, type Tensor, defineParams, type ParamsOf } from '@pref/core';
import { KTO_INPUTS } from './kto-inputs';

export type KtoLossType = 'kto' | 'apo_zero_unpaired';

/** kto's hyperparameters, resolved: derived from {@link KTO_PARAMS} (see {@link kto}). */
export type KtoParams = ParamsOf<typeof KTO_PARAMS>;

/** kto's parameter schema, written once: the parameter type, defaults, docs table and CLI help derive from it. */
export const KTO_PARAMS = defineParams({
  beta: { kind: 'number', default: 0.1, min: 0, minExclusive: true, symbol: 'β', description: 'Reward scale.' },
  desirableWeight: { kind: 'number', default: 1, min: 0, symbol: 'λ_D', description: 'Weight of the losses of desirable rows.' },
  undesirableWeight: { kind: 'number', default: 1, min: 0, symbol: 'λ_U', description: 'Weight of the losses of undesirable rows.' },
  lossType: {
    kind: 'enum',
    values: ['kto', 'apo_zero_unpaired'],
    default: 'kto',
    description: 'kto (reference point z0 from the mismatched pairs) or apo_zero_unpaired (no reference point).',
  },
});

/**
 * **KTO** — Ethayarajh, Xu, Muennighoff, Jurafsky, Kiela, "KTO: Model Alignment as Prospect
 * Theoretic Optimization" (ICML 2024, arXiv:2402.01306), Section 4: `L_KTO = E[λ_y − v(x, y)]`
 * with `v = λ_D·σ(β(r − z0))` for desirable and `λ_U·σ(β(z0 − r))` for undesirable completions.
 *
 * Unpaired rows with summed log-probs `S`, `r = S − refLogps`, and the reference point
 * `z0 = max(0, mean(klLogps − klRefLogps))` over every row of every worker (all-reduced sum
 * and count), without gradient. Per row:
 * - `kto`: desirable `λ_D·(1 − σ(β(r − z0)))`, undesirable `λ_U·(1 − σ(β(z0 − r)))`
 * - `apo_zero_unpaired` (D'Oosterlinck et al., "Anchored Preference Optimization", arXiv:2408.06266):
 *   desirable `λ_D·(1 − σ(βr))`, undesirable `λ_U·σ(βr)`; no z0 (`klLogps`/`klRefLogps` optional).
 *
 * Loss = mean over all N rows (weights not renormalized). Metrics: `kl` (= z0; 0 for
 * `apo_zero_unpaired`), `rewards/chosen` / `rewards/rejected` = mean `β·r` over the desirable /
 * undesirable rows of every worker (0 when there are none), `rewards/margins` = their
 * difference, `logps/chosen` / `logps/rejected` = mean `S` over those rows.
 *
 * Parameters: {@link KTO_PARAMS} (the table in `docs/objectives/kto.md` is rendered from it).
 */
export const kto = defineObjective({
  id: 'kto',
  title: 'KTO',
  summary: 'Unpaired prospect-theoretic loss on each completion’s reference log-ratio relative to a batch KL reference point.',
  reference: 'Ethayarajh et al. KTO: Model Alignment as Prospect Theoretic Optimization. ICML 2024 (arXiv:2402.01306), Sec. 4.',
  inputs: KTO_INPUTS,
  params: KTO_PARAMS,
  presets: {},
  metrics: ['kl', 'rewards/chosen', 'rewards/rejected', 'rewards/margins', 'logps/chosen', 'logps/rejected'],
  stateful: false,
  forward(ctx, inputs, params) {
    const { ops } = ctx;
    const logps = sequenceSum(ops, inputs.completion);
    const logRatio = ops.sub(logps, inputs.reference);
    const referencePoint = params.lossType === 'kto' ? klReferencePoint(ctx, inputs.kl, inputs.klReference) : null;
    const shifted = referencePoint ? ops.sub(logRatio, referencePoint) : logRatio;
    const scaled = ops.mul(shifted, params.beta);
    const desirableLoss = ops.mul(ops.sigmoid(ops.neg(scaled)), params.desirableWeight);
    const undesirableLoss = ops.mul(ops.sigmoid(scaled), params.undesirableWeight);
    const perRow = ops.where(inputs.desirable, desirableLoss, undesirableLoss);
    const loss = ctx.batchMean(perRow);

    const undesirable = ops.sub(1, inputs.desirable);
    const rewards = ops.stopGradient(ops.mul(logRatio, params.beta));
    const detachedLogps = ops.stopGradient(logps);
    const rewardsChosen = selectedMean(ctx, rewards, inputs.desirable);
    const rewardsRejected = selectedMean(ctx, rewards, undesirable);
    const metrics: Record<string, Tensor> = {
      kl: referencePoint ?? ops.scalar(0),
      'rewards/chosen': rewardsChosen,
      'rewards/rejected': rewardsRejected,
      'rewards/margins': ops.sub(rewardsChosen, rewardsRejected),
      'logps/chosen': selectedMean(ctx, detachedLogps, inputs.desirable),
      'logps/rejected': selectedMean(ctx, detachedLogps, undesirable),
    };
    return { loss, metrics, perExample: perRow };
  },
});

/** `z0 = max(0, mean(klLogps − klRefLogps))` over every worker's rows, detached. */
function klReferencePoint(ctx: ForwardContext, klLogps: Tensor | undefined, klRefLogps: Tensor | undefined): Tensor {
  // KTO_INPUTS requires both for lossType "kto" (checked by prepareBatch).
  const { ops } = ctx;
  // batchMean all-reduces the sum and the row count, so every worker gets the same z0.
  const mean = ctx.batchMean(ops.stopGradient(ops.sub(klLogps!, klRefLogps!)));
  return ops.stopGradient(ops.maximum(mean, 0));
}

/** Mean of `values` over the rows where `selected` is 1, on every worker; 0 when there are none. */
function selectedMean(ctx: ForwardContext, values: Tensor, selected: Tensor): Tensor {
  const { ops } = ctx;
  const total = ctx.allReduceSum(ops.sum(ops.where(selected, values, 0)));
  const count = ctx.allReduceSum(ops.sum(selected));
  return ops.where(ops.greater(count, 0), ops.div(total, ops.maximum(count, 1)), 0);
}
