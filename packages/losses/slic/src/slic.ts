import { defineObjective, PAIRWISE_INPUTS, pairMetrics, sequenceSum, tokenMeanNll, PAIR_METRIC_NAMES } from '@pref/core';

/** SLiC-HF's hyperparameters (see {@link slic}). */
export type SlicParams = {
  /** δ, calibration margin on the summed log-prob difference, ≥ 0. Default 1.0. */
  delta: number;
  /** λ, weight of the token-mean NLL of the chosen tokens, ≥ 0. Default 0.1. */
  lambda: number;
};

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
 * | param | symbol | default | range |
 * | --- | --- | --- | --- |
 * | `delta` | δ | 1.0 | ≥ 0 |
 * | `lambda` | λ | 0.1 | ≥ 0 |
 */
export const slic = defineObjective<SlicParams, typeof PAIRWISE_INPUTS>({
  id: 'slic',
  title: 'SLiC-HF',
  summary: 'Hinge on the summed log-prob margin of each pair plus an NLL term on the chosen completions.',
  reference: 'Zhao et al. SLiC-HF: Sequence Likelihood Calibration with Human Feedback. arXiv:2305.10425 (2023), Sec. 2.',
  inputs: PAIRWISE_INPUTS,
  params: {
    delta: { kind: 'number', default: 1.0, min: 0, symbol: 'δ', description: 'Margin the chosen summed log-prob must exceed the rejected one by.' },
    lambda: { kind: 'number', default: 0.1, min: 0, symbol: 'λ', description: 'Weight of the token-mean NLL of the chosen completions.' },
  },
  presets: {},
  metrics: [...PAIR_METRIC_NAMES, 'nll_loss'],
  stateful: false,
  forward(ctx, inputs, params) {
    const { ops } = ctx;
    const chosen = sequenceSum(ops, inputs.chosen);
    const rejected = sequenceSum(ops, inputs.rejected);
    const perPair = ops.relu(ops.add(ops.sub(rejected, chosen), params.delta));
    const nll = tokenMeanNll(ctx, inputs.chosen);
    let loss = ctx.batchMean(perPair);
    if (params.lambda > 0) loss = ops.add(loss, ops.mul(nll, params.lambda));
    const metrics = pairMetrics(ctx, { chosen, rejected }, { chosen, rejected });
    metrics['nll_loss'] = ops.stopGradient(nll);
    return { loss, metrics, perExample: perPair };
  },
});
