import { defineObjective, sequenceSum, type Tensor, defineParams, type InputSchema, type ParamsOf } from '@pref/core';
import { ADVANTAGE_PARAMS } from './advantage-params';
import { boundedExp } from './bounded-exp';
import { clippedSurrogate } from './clipped-surrogate';
import { GROUP_POLICY_INPUTS, WITH_KL } from './group-policy-inputs';
import { leaveOneOutAdvantages } from './leave-one-out-advantages';
import { resolveAdvantages } from './resolve-advantages';

/** rloo's hyperparameters, resolved: derived from {@link RLOO_PARAMS} (see {@link rloo}). */
export type RlooParams = ParamsOf<typeof RLOO_PARAMS>;

/** rloo's parameter schema, written once: the parameter type, defaults, docs table and CLI help derive from it. */
export const RLOO_PARAMS = defineParams({
  epsilon: {
    kind: 'number',
    default: 0.2,
    min: 0,
    max: 1,
    minExclusive: true,
    maxExclusive: true,
    symbol: 'ε',
    description: 'Lower clip range of the sequence ratio: clipped below at 1 − ε.',
  },
  epsilonHigh: {
    kind: 'number',
    default: null,
    min: 0,
    minExclusive: true,
    symbol: 'ε_high',
    description: 'Upper clip range of the sequence ratio: clipped above at 1 + ε_high. null = epsilon (TRL RLOOConfig epsilon_high).',
  },
  beta: {
    kind: 'number',
    default: 0,
    min: 0,
    symbol: 'β',
    description: 'Weight of the summed k1 KL (old − reference log-probs) subtracted from each reward; needs rewards and refLogps when > 0.',
  },
  ...ADVANTAGE_PARAMS,
});

/**
 * What `rloo` reads: the group-policy inputs, with `advantages` refused when `beta > 0` (the KL
 * penalty is subtracted from the rewards, so it needs rewards; checked on the host, naming `beta`).
 */
export const RLOO_INPUTS = {
  ...GROUP_POLICY_INPUTS,
  advantages: {
    ...GROUP_POLICY_INPUTS.advantages,
    forbiddenWhen: {
      ...WITH_KL,
      param: 'beta',
      hint: 'beta penalizes the rewards with the KL to the reference model: pass rewards (with groupSize), or fold the KL into your advantages and set beta to 0',
    },
  },
} as const satisfies InputSchema;

/**
 * **RLOO** — REINFORCE Leave-One-Out: Ahmadian et al., "Back to Basics: Revisiting REINFORCE
 * Style Optimization for Learning from Human Feedback in LLMs" (ACL 2024), Eq. 5 (leave-one-out
 * baseline), as computed by TRL's `RLOOTrainer` (clipped sequence-level ratio).
 *
 * With summed log-probs `S = Σ_t m·l`, `S_old = Σ_t m·l_old` (without `oldLogps`: detached `S`):
 * - rewards, when `β > 0`: `R_i ← R_i − β·Σ_t m(l_old − l_ref)` (k1 KL, no gradient; needs
 *   `refLogps`); advantages `A_i = R_i − (Σ_{j∈g} R_j − R_i)/(G − 1)` (see
 *   {@link leaveOneOutAdvantages}), optionally normalized over the batch (`normalizeAdvantages:
 *   "global"`, REINFORCE++ as TRL approximates it); or the `advantages` input as given;
 * - `ρ_i = exp(S_i − S_old,i)` (exponent capped at the largest finite one), per row
 *   `ℓ_i = −min(ρ_i·A_i, clip(ρ_i, 1−ε, 1+ε_high)·A_i)`;
 * - loss `= mean_i ℓ_i` over every row of every worker.
 *
 * Metrics: `clip_ratio/low_mean`, `clip_ratio/high_mean`, `clip_ratio/region_mean` (row means,
 * TRL's definitions), `kl` (TRL's token mean of the per-token KL `l_old − l_ref`) when β > 0.
 *
 * Parameters: {@link RLOO_PARAMS} (the table in `docs/objectives/rloo.md` is rendered from it).
 *
 * Presets: `trl` (TRL's `RLOOConfig` β 0.05), `reinforce_pp` (global normalization, TRL's
 * REINFORCE++ recipe).
 */
export const rloo = defineObjective({
  id: 'rloo',
  title: 'RLOO',
  summary: 'Clipped sequence-level policy gradient with a leave-one-out baseline over the completions of each prompt.',
  reference:
    'Ahmadian et al. Back to Basics: Revisiting REINFORCE Style Optimization for Learning from Human Feedback in LLMs. ACL 2024, Eq. 5.',
  inputs: RLOO_INPUTS,
  params: RLOO_PARAMS,
  presets: {
    trl: { description: 'TRL RLOOConfig defaults: KL in the reward with β 0.05.', values: { beta: 0.05 } },
    reinforce_pp: {
      description: "REINFORCE++ as TRL's paper index approximates it: RLOO advantages normalized over the whole batch.",
      values: { normalizeAdvantages: 'global' },
    },
  },
  metrics: ['clip_ratio/low_mean', 'clip_ratio/high_mean', 'clip_ratio/region_mean', 'kl'],
  stateful: false,
  forward(ctx, inputs, params) {
    const { ops } = ctx;
    const { mask } = inputs.policy;
    const summed = sequenceSum(ops, inputs.policy);
    const oldTokens = ops.stopGradient(ops.where(mask, inputs.old ?? inputs.policy.logps, 0));
    const oldSummed = inputs.old ? ops.sum(oldTokens, 1) : ops.stopGradient(summed);
    const metrics: Record<string, Tensor> = {};
    let sequenceKl: Tensor | null = null;
    // RLOO_INPUTS has checked on the host: refLogps and rewards (not advantages) when beta > 0.
    if (params.beta > 0) {
      const tokenKl = ops.where(mask, ops.sub(oldTokens, inputs.ref!), 0);
      sequenceKl = ops.stopGradient(ops.sum(tokenKl, 1));
      metrics['kl'] = ops.div(ctx.allReduceSum(ops.sum(tokenKl)), ops.maximum(ctx.allReduceSum(ops.sum(mask)), 1));
    }
    const klPenalty = sequenceKl;
    const advantages = resolveAdvantages(ctx, inputs, params, (rewards, groupSize) =>
      leaveOneOutAdvantages(ctx, klPenalty ? ops.sub(rewards, ops.mul(klPenalty, params.beta)) : rewards, { groupSize }),
    );
    const ratio = boundedExp(ops, ops.sub(summed, oldSummed));
    const surrogate = clippedSurrogate(ops, ratio, advantages, params.epsilon, params.epsilonHigh ?? params.epsilon);
    const loss = ctx.batchMean(surrogate.loss);
    metrics['clip_ratio/low_mean'] = ctx.batchMean(surrogate.lowClipped);
    metrics['clip_ratio/high_mean'] = ctx.batchMean(surrogate.highClipped);
    metrics['clip_ratio/region_mean'] = ctx.batchMean(ops.add(surrogate.lowClipped, surrogate.highClipped));
    return { loss, metrics, perExample: surrogate.loss };
  },
});
