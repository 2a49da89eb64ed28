import {
  defineObjective,
  PAIRWISE_INPUTS,
  pairMetrics,
  sequenceMean,
  tokenMeanNll,
  PAIR_METRIC_NAMES,
  defineParams,
  type ParamsOf,
} from '@pref/core';

/** simpo's hyperparameters, resolved: derived from {@link SIMPO_PARAMS} (see {@link simpo}). */
export type SimpoParams = ParamsOf<typeof SIMPO_PARAMS>;

/** simpo's parameter schema, written once: the parameter type, defaults, docs table and CLI help derive from it. */
export const SIMPO_PARAMS = defineParams({
  beta: { kind: 'number', default: 2.0, min: 0, minExclusive: true, symbol: 'β', description: 'Reward scale.' },
  gamma: { kind: 'number', default: 1.0, symbol: 'γ', description: 'Target reward margin (absolute; γ = β·(γ/β) from the SimPO repo).' },
  labelSmoothing: {
    kind: 'number',
    default: 0,
    min: 0,
    max: 0.5,
    maxExclusive: true,
    symbol: 'ε',
    description: 'Label smoothing of the sigmoid loss (probability that a preference label is flipped).',
  },
  lossType: { kind: 'enum', values: ['sigmoid', 'hinge'], default: 'sigmoid', description: 'Sigmoid (Bradley-Terry) or hinge loss on z.' },
  sftWeight: { kind: 'number', default: 0, min: 0, description: 'Weight of the token-mean NLL of the chosen completions.' },
});

/**
 * **SimPO** — Meng, Xia, Chen, "SimPO: Simple Preference Optimization with a Reference-Free
 * Reward" (NeurIPS 2024), Eq. 6.
 *
 * With length-averaged log-probs `A = Σ_t m·l / Σ_t m` and `z = β·(A_w − A_l) − γ`:
 * - `sigmoid`: `ℓ = −(1−ε)·logσ(z) − ε·logσ(−z)`
 * - `hinge`: `ℓ = relu(1 − z)`
 *
 * Loss `= mean_b ℓ + sftWeight · NLL(chosen)` (NLL: token mean over every chosen token).
 * Metrics: rewards `β·A`, `logps/*` = mean `A`.
 *
 * Parameters: {@link SIMPO_PARAMS} (the table in `docs/objectives/simpo.md` is rendered from it).
 *
 * Presets (the SimPO paper's hyperparameter table; the LMPO paper's Table 5 has the same β and
 * h = e^γ): `mistral-base` (β 2.0, γ 1.6), `mistral-instruct` (2.5, 0.25), `llama3-base`
 * (2.0, 1.0), `llama3-instruct` (2.5, 1.4).
 */
export const simpo = defineObjective({
  id: 'simpo',
  title: 'SimPO',
  summary: 'Reference-free preference loss on the length-averaged log-prob margin with a target margin γ.',
  reference: 'Meng, Xia, Chen. SimPO: Simple Preference Optimization with a Reference-Free Reward. NeurIPS 2024, Eq. 6.',
  inputs: PAIRWISE_INPUTS,
  params: SIMPO_PARAMS,
  presets: {
    'mistral-base': { description: 'SimPO paper, Mistral-Base (7B): β 2.0, γ 1.6 (γ/β 0.8).', values: { beta: 2.0, gamma: 1.6 } },
    'mistral-instruct': { description: 'SimPO paper, Mistral-Instruct (7B): β 2.5, γ 0.25 (γ/β 0.1).', values: { beta: 2.5, gamma: 0.25 } },
    'llama3-base': {
      description: 'SimPO paper, Llama-3-Base (8B): β 2.0, γ 1.0 (γ/β 0.5); the defaults.',
      values: { beta: 2.0, gamma: 1.0 },
    },
    'llama3-instruct': { description: 'SimPO paper, Llama-3-Instruct (8B): β 2.5, γ 1.4 (γ/β 0.56).', values: { beta: 2.5, gamma: 1.4 } },
  },
  metrics: [...PAIR_METRIC_NAMES, 'sft_loss'],
  stateful: false,
  forward(ctx, inputs, params) {
    const { ops } = ctx;
    const chosen = sequenceMean(ops, inputs.chosen);
    const rejected = sequenceMean(ops, inputs.rejected);
    const z = chosen.sub(rejected).mul(params.beta).sub(params.gamma);
    const eps = params.labelSmoothing;
    const perPair =
      params.lossType === 'hinge'
        ? z.neg().add(1).relu()
        : eps === 0
          ? z.logSigmoid().neg()
          : z
              .logSigmoid()
              .mul(-(1 - eps))
              .sub(z.neg().logSigmoid().mul(eps));
    let loss = ctx.batchMean(perPair);
    const metrics = pairMetrics(
      ctx,
      { chosen: ops.mul(chosen, params.beta), rejected: ops.mul(rejected, params.beta) },
      { chosen, rejected },
    );
    if (params.sftWeight > 0) {
      const nll = tokenMeanNll(ctx, inputs.chosen);
      loss = ops.add(loss, ops.mul(nll, params.sftWeight));
      metrics['sft_loss'] = ops.stopGradient(nll);
    }
    return { loss, metrics, perExample: perPair };
  },
});
