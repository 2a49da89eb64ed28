import {
  defineObjective,
  PAIRWISE_INPUTS,
  pairMetrics,
  PrefParamError,
  sequenceMean,
  sequenceSum,
  tokenMeanNll,
  type Tensor,
  type TensorOps,
  PAIR_METRIC_NAMES,
  defineParams,
  type ParamsOf,
} from '@pref/core';
import { alphaReward } from './alpha-reward';

export type CpoLossType = 'sigmoid' | 'hinge' | 'ipo' | 'simpo';

/** cpo's hyperparameters, resolved: derived from {@link CPO_PARAMS} (see {@link cpo}). */
export type CpoParams = ParamsOf<typeof CPO_PARAMS>;

const AVERAGED: readonly CpoLossType[] = ['ipo', 'simpo'];

/** cpo's parameter schema, written once: the parameter type, defaults, docs table and CLI help derive from it. */
export const CPO_PARAMS = defineParams({
  beta: { kind: 'number', default: 0.1, min: 0, minExclusive: true, symbol: 'β', description: 'Reward scale.' },
  lossType: {
    kind: 'enum',
    values: ['sigmoid', 'hinge', 'ipo', 'simpo'],
    default: 'sigmoid',
    description: 'Loss on the margin Δ: sigmoid and hinge use summed log-probs, ipo and simpo length-averaged ones.',
  },
  gamma: { kind: 'number', default: 0.5, symbol: 'γ', description: 'Absolute target margin of the simpo loss type (TRL simpo_gamma).' },
  alpha: {
    kind: 'number',
    default: 0,
    symbol: 'α',
    description: 'AlphaPO reward shape R = (1 − exp(−α·logp))/α; 0 keeps R = logp.',
  },
  labelSmoothing: {
    kind: 'number',
    default: 0,
    min: 0,
    max: 0.5,
    maxExclusive: true,
    symbol: 'ε',
    description: 'Label smoothing of the sigmoid and simpo losses (probability that a preference label is flipped).',
  },
  cpoAlpha: { kind: 'number', default: 1.0, min: 0, description: 'Weight of the token-mean NLL of the chosen completions.' },
});

/**
 * **CPO** — Xu, Sharaf, Chen, Tan, Shen, Van Durme, Murray, Kim, "Contrastive Preference
 * Optimization: Pushing the Boundaries of LLM Performance in Machine Translation" (ICML 2024,
 * arXiv:2401.08417), Section 3: `L_CPO = L_prefer + L_NLL`, with the loss types and the AlphaPO
 * reward (Gupta et al., "AlphaPO: Reward Shape Matters for LLM Alignment", arXiv:2501.03884) of
 * TRL's `CPOTrainer`.
 *
 * With `p = S` (summed log-prob) for `sigmoid`/`hinge` and `p = A` (length-averaged) for
 * `ipo`/`simpo`, reward `R = p` (α = 0; also for |α| < 1e-15) or `R = (1 − exp(−α·p))/α`, and `Δ = R_w − R_l`:
 * - `sigmoid`: `ℓ = −(1−ε)·logσ(βΔ) − ε·logσ(−βΔ)`
 * - `simpo`: the same with `βΔ − γ` in place of `βΔ`
 * - `hinge`: `ℓ = relu(1 − βΔ)`
 * - `ipo`: `ℓ = (Δ − 1/(2β))²`
 *
 * Loss `= mean_b ℓ + cpoAlpha · NLL(chosen)` (NLL: token mean over every chosen token of the
 * batch). Metrics (TRL 1.13): rewards `β·R` (the shaped reward), `logps/*` = mean of the
 * log-prob used (`S`, or `A` for ipo/simpo; also with AlphaPO), `nll_loss` (0 when `cpoAlpha` is 0).
 *
 * Parameters: {@link CPO_PARAMS} (the table in `docs/objectives/cpo.md` is rendered from it).
 *
 * Presets: `simpo` (SimPO through CPO: `simpo`, β 2.5, γ 1.375, `cpoAlpha` 0) and `alphapo`
 * (`simpo`, α 0.25, β 2.5, γ 0.1, `cpoAlpha` 0), the recipes of TRL's paper index.
 */
export const cpo = defineObjective({
  id: 'cpo',
  title: 'CPO',
  summary: 'Reference-free preference loss on the policy log-prob margin plus an NLL term on the chosen completions.',
  reference:
    'Xu et al. Contrastive Preference Optimization. ICML 2024 (arXiv:2401.08417), Sec. 3; AlphaPO reward: Gupta et al. arXiv:2501.03884.',
  inputs: PAIRWISE_INPUTS,
  params: CPO_PARAMS,
  presets: {
    simpo: {
      description: 'SimPO through CPO (TRL paper index): simpo loss, β 2.5, γ 1.375, no NLL.',
      values: { lossType: 'simpo', beta: 2.5, gamma: 1.375, cpoAlpha: 0 },
    },
    alphapo: {
      description: 'AlphaPO (TRL paper index): simpo loss with α 0.25, β 2.5, γ 0.1, no NLL.',
      values: { lossType: 'simpo', alpha: 0.25, beta: 2.5, gamma: 0.1, cpoAlpha: 0 },
    },
  },
  metrics: [...PAIR_METRIC_NAMES, 'nll_loss'],
  stateful: false,
  validateParams(params) {
    if (params.labelSmoothing > 0 && (params.lossType === 'hinge' || params.lossType === 'ipo')) {
      throw new PrefParamError(
        'labelSmoothing',
        `cpo: labelSmoothing applies to lossType sigmoid and simpo only; got labelSmoothing ${params.labelSmoothing} with lossType ${params.lossType} (set it to 0)`,
      );
    }
  },
  forward(ctx, inputs, params) {
    const { ops } = ctx;
    const logp = (side: typeof inputs.chosen) => (AVERAGED.includes(params.lossType) ? sequenceMean(ops, side) : sequenceSum(ops, side));
    const chosen = logp(inputs.chosen);
    const rejected = logp(inputs.rejected);
    const rewardChosen = alphaReward(ops, chosen, params.alpha);
    const rewardRejected = alphaReward(ops, rejected, params.alpha);
    const margin = ops.sub(rewardChosen, rewardRejected);
    const perPair = preferenceLoss(ops, margin, params);
    // As TRL: no NLL term, and an nll_loss of 0, when cpoAlpha is 0.
    const nll = params.cpoAlpha > 0 ? tokenMeanNll(ctx, inputs.chosen) : ops.scalar(0);
    let loss = ctx.batchMean(perPair);
    if (params.cpoAlpha > 0) loss = ops.add(loss, ops.mul(nll, params.cpoAlpha));
    const metrics = pairMetrics(
      ctx,
      { chosen: ops.mul(rewardChosen, params.beta), rejected: ops.mul(rewardRejected, params.beta) },
      { chosen, rejected },
    );
    metrics['nll_loss'] = ops.stopGradient(nll);
    return { loss, metrics, perExample: perPair };
  },
});

function preferenceLoss(ops: TensorOps, margin: Tensor, params: CpoParams): Tensor {
  const scaled = ops.mul(margin, params.beta);
  switch (params.lossType) {
    case 'hinge':
      return ops.relu(ops.sub(1, scaled));
    case 'ipo':
      return ops.square(ops.sub(margin, 1 / (2 * params.beta)));
    case 'sigmoid':
    case 'simpo': {
      const z = params.lossType === 'simpo' ? ops.sub(scaled, params.gamma) : scaled;
      const eps = params.labelSmoothing;
      if (eps === 0) return ops.neg(ops.logSigmoid(z));
      return ops.sub(ops.mul(ops.logSigmoid(z), -(1 - eps)), ops.mul(ops.logSigmoid(ops.neg(z)), eps));
    }
  }
}
