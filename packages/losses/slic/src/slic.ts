import {
  defineObjective,
  PAIRWISE_INPUTS,
  pairMetrics,
  sequenceSum,
  tokenMeanNll,
  PAIR_METRIC_NAMES,
  defineParams,
  type ParamsOf,
} from '@pref/core';

/** slic's hyperparameters, resolved: derived from {@link SLIC_PARAMS} (see {@link slic}). */
export type SlicParams = ParamsOf<typeof SLIC_PARAMS>;

/** slic's parameter schema, written once: the parameter type, defaults, docs table and CLI help derive from it. */
export const SLIC_PARAMS = defineParams({
  delta: {
    kind: 'number',
    default: 1.0,
    min: 0,
    symbol: 'δ',
    description: 'Margin the chosen summed log-prob must exceed the rejected one by.',
  },
  lambda: { kind: 'number', default: 0.1, min: 0, symbol: 'λ', description: 'Weight of the token-mean NLL of the chosen completions.' },
});

/**
 * **SLiC-HF** — Zhao, Joshi, Liu, Khalman, Saleh, Liu, "SLiC-HF: Sequence Likelihood Calibration
 * with Human Feedback" (arXiv:2305.10425, 2023), Section 2: rank calibration loss
 * `max(0, δ − log P(y⁺|x) + log P(y⁻|x))` plus `λ` times a cross-entropy regularizer.
 *
 * With summed log-probs `S = Σ_t m·l`: per pair `ℓ = relu(δ − S_w + S_l)`;
 * loss `= mean_b ℓ + λ·NLL(chosen)` (NLL: token mean over every chosen token of the batch; the
 * paper regularizes on the SFT targets, here the chosen completions stand in for them).
 * Metrics: rewards and `logps/*` = mean `S` (no scale), `nll_loss`.
 *
 * Parameters: {@link SLIC_PARAMS} (the table in `docs/objectives/slic.md` is rendered from it).
 */
export const slic = defineObjective({
  id: 'slic',
  title: 'SLiC-HF',
  summary: 'Hinge on the summed log-prob margin of each pair plus an NLL term on the chosen completions.',
  reference: 'Zhao et al. SLiC-HF: Sequence Likelihood Calibration with Human Feedback. arXiv:2305.10425 (2023), Sec. 2.',
  inputs: PAIRWISE_INPUTS,
  params: SLIC_PARAMS,
  presets: {},
  metrics: [...PAIR_METRIC_NAMES, 'nll_loss'],
  stateful: false,
  forward(ctx, inputs, params) {
    const { ops } = ctx;
    const chosen = sequenceSum(ops, inputs.chosen);
    const rejected = sequenceSum(ops, inputs.rejected);
    const perPair = rejected.sub(chosen).add(params.delta).relu();
    const nll = tokenMeanNll(ctx, inputs.chosen);
    let loss = ctx.batchMean(perPair);
    if (params.lambda > 0) loss = loss.add(nll.mul(params.lambda));
    const metrics = pairMetrics(ctx, { chosen, rejected }, { chosen, rejected });
    metrics['nll_loss'] = nll.stopGradient();
    return { loss, metrics, perExample: perPair };
  },
});
