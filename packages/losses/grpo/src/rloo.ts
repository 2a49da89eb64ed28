import { defineObjective, PrefInputError, PrefParamError, sequenceSum, type Tensor } from '@pref/core';
import { ADVANTAGE_PARAMS } from './advantage-params';
import { clippedSurrogate } from './clipped-surrogate';
import { GROUP_POLICY_INPUTS } from './group-policy-inputs';
import { leaveOneOutAdvantages } from './leave-one-out-advantages';
import type { NormalizeAdvantages } from './normalize-advantages-globally';
import { resolveAdvantages } from './resolve-advantages';

/** RLOO's hyperparameters (see {@link rloo}). */
export type RlooParams = {
  /** ε, clip range of the sequence ratio. Default 0.2, in (0, 1). */
  epsilon: number;
  /** β, weight of the k1 sequence KL subtracted from the rewards. Default 0 (TRL: 0.05); ≥ 0. */
  beta: number;
  /** `global` applies REINFORCE++ normalization after the leave-one-out baseline. Default `none`. */
  normalizeAdvantages: NormalizeAdvantages;
  /** G, completions per prompt (consecutive rows); needed with `rewards`. Default `null`; integer ≥ 2. */
  groupSize: number | null;
};

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
 * - `ρ_i = exp(S_i − S_old,i)`, per row `ℓ_i = −min(ρ_i·A_i, clip(ρ_i, 1−ε, 1+ε)·A_i)`;
 * - loss `= mean_i ℓ_i` over every row of every worker.
 *
 * Metrics: `clip_ratio/low_mean`, `clip_ratio/high_mean`, `clip_ratio/region_mean` (row means,
 * TRL's definitions), `kl` (mean sequence KL `Σ_t m(l_old − l_ref)`) when β > 0.
 *
 * | param | symbol | default | range |
 * | --- | --- | --- | --- |
 * | `epsilon` | ε | 0.2 | (0, 1) |
 * | `beta` | β | 0 | ≥ 0 |
 * | `normalizeAdvantages` | | `none` | `none`, `global` |
 * | `groupSize` | G | `null` | integer ≥ 2 |
 *
 * Presets: `trl` (TRL's `RLOOConfig` β 0.05), `reinforce_pp` (global normalization, TRL's
 * REINFORCE++ recipe).
 */
export const rloo = defineObjective<RlooParams, typeof GROUP_POLICY_INPUTS>({
  id: 'rloo',
  title: 'RLOO',
  summary: 'Clipped sequence-level policy gradient with a leave-one-out baseline over the completions of each prompt.',
  reference:
    'Ahmadian et al. Back to Basics: Revisiting REINFORCE Style Optimization for Learning from Human Feedback in LLMs. ACL 2024, Eq. 5.',
  inputs: GROUP_POLICY_INPUTS,
  params: {
    epsilon: {
      kind: 'number', default: 0.2, min: 0, max: 1, minExclusive: true, maxExclusive: true, symbol: 'ε',
      description: 'Clip range of the sequence ratio: clipped to [1 − ε, 1 + ε].',
    },
    beta: {
      kind: 'number', default: 0, min: 0, symbol: 'β',
      description: 'Weight of the summed k1 KL (old − reference log-probs) subtracted from each reward; needs rewards and refLogps when > 0.',
    },
    ...ADVANTAGE_PARAMS,
  },
  presets: {
    trl: { description: "TRL RLOOConfig defaults: KL in the reward with β 0.05.", values: { beta: 0.05 } },
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
    const oldSummed = inputs.old ? ops.sum(ops.where(mask, inputs.old, 0), 1) : ops.stopGradient(summed);
    const metrics: Record<string, Tensor> = {};
    let sequenceKl: Tensor | null = null;
    if (params.beta > 0) {
      if (!inputs.ref) {
        throw new PrefInputError('refLogps', `rloo: beta is ${params.beta} > 0, so refLogps [N, T] (reference-model token log-probs) is needed`);
      }
      if (inputs.advantages) {
        throw new PrefParamError('beta', `rloo: beta ${params.beta} > 0 penalizes the rewards, but advantages were given; pass rewards, or fold the KL into your advantages and set beta to 0`);
      }
      sequenceKl = ops.stopGradient(ops.sub(oldSummed, ops.sum(ops.where(mask, inputs.ref, 0), 1)));
      metrics['kl'] = ctx.batchMean(sequenceKl);
    }
    const klPenalty = sequenceKl;
    const advantages = resolveAdvantages(ctx, 'rloo', inputs, params, (rewards, groupSize) =>
      leaveOneOutAdvantages(ctx, klPenalty ? ops.sub(rewards, ops.mul(klPenalty, params.beta)) : rewards, { groupSize }),
    );
    const ratio = ops.exp(ops.sub(summed, oldSummed));
    const surrogate = clippedSurrogate(ops, ratio, advantages, params.epsilon, params.epsilon);
    const loss = ctx.batchMean(surrogate.loss);
    metrics['clip_ratio/low_mean'] = ctx.batchMean(surrogate.lowClipped);
    metrics['clip_ratio/high_mean'] = ctx.batchMean(surrogate.highClipped);
    metrics['clip_ratio/region_mean'] = ctx.batchMean(ops.add(surrogate.lowClipped, surrogate.highClipped));
    return { loss, metrics, perExample: surrogate.loss };
  },
});
