import { defineObjective, PrefInputError, type Tensor } from '@pref/core';
import { ADVANTAGE_PARAMS } from './advantage-params';
import { aggregateTokenLosses, type GrpoLossType } from './aggregate-token-losses';
import { clippedSurrogate } from './clipped-surrogate';
import { GROUP_POLICY_INPUTS } from './group-policy-inputs';
import { groupRelativeAdvantages, type ScaleRewards } from './group-relative-advantages';
import type { NormalizeAdvantages } from './normalize-advantages-globally';
import { resolveAdvantages } from './resolve-advantages';

/** GRPO's hyperparameters (see {@link grpo}). */
export type GrpoParams = {
  /** ε_low, lower clip range: ratios below 1 − ε are clipped. Default 0.2, in (0, 1). */
  epsilon: number;
  /** ε_high, upper clip range: ratios above 1 + ε_high are clipped. Default `null` = ε; > 0. */
  epsilonHigh: number | null;
  /** β, weight of the k3 KL to the reference model. Default 0 (no reference needed); ≥ 0. */
  beta: number;
  /** Aggregation of the per-token losses. Default `dapo`. */
  lossType: GrpoLossType;
  /** L, the constant normalizer of `dr_grpo`. Default 512; integer ≥ 1. */
  maxCompletionLength: number;
  /** `token` ratios (GRPO) or one length-normalized `sequence` ratio per row (GSPO). Default `token`. */
  importanceSampling: 'token' | 'sequence';
  /** Reward scaling within groups: `group` (default), `batch` or `none`. */
  scaleRewards: ScaleRewards;
  /** `global` applies REINFORCE++ normalization to the advantages. Default `none`. */
  normalizeAdvantages: NormalizeAdvantages;
  /** G, completions per prompt (consecutive rows); needed with `rewards`. Default `null`; integer ≥ 2. */
  groupSize: number | null;
};

/**
 * **GRPO** — Group Relative Policy Optimization: Shao et al., "DeepSeekMath: Pushing the Limits
 * of Mathematical Reasoning in Open Language Models" (2024), Eq. 3 (objective) and §4.1.2
 * (outcome advantages), as computed by TRL's `GRPOTrainer`, with the variants
 * DAPO (Yu et al. 2025: clip-higher ε_high, token-level loss), Dr.GRPO (Liu et al.,
 * "Understanding R1-Zero-Like Training" 2025: constant normalizer, no std scaling) and
 * GSPO (Zheng et al., "Group Sequence Policy Optimization" 2025: sequence-level ratio).
 *
 * With advantages `A_i` (input, or from rewards, see {@link groupRelativeAdvantages}), counted
 * tokens `m`, current/old/reference token log-probs `l`, `l_old`, `l_ref`:
 * - ratio `ρ_t = exp(l_t − l_old,t)`; `sequence`: `ρ_t = exp(Σ_t m(l − l_old) / Σ_t m)` for every t;
 *   without `oldLogps`, `l_old` = detached `l` (ρ = 1, gradient `A·∇l`);
 * - per token `ℓ_t = −min(ρ_t·A, clip(ρ_t, 1−ε, 1+ε_high)·A) + β·KL_t`,
 *   `KL_t = exp(l_ref − l) − (l_ref − l) − 1` (k3 estimator, gradient through `l`);
 * - loss `= aggregate(ℓ)` by `lossType` (see {@link aggregateTokenLosses}): `grpo`
 *   `mean_i(Σ_t m·ℓ / Σ_t m)`, `bnpo` `Σ m·ℓ / Σ m` per worker, `dr_grpo` `Σ m·ℓ / (N·L)`,
 *   `dapo` (default) `Σ m·ℓ / Σ m` over the whole batch (token total all-reduced).
 *
 * Metrics (TRL's definitions, token means over the whole batch; row means with `sequence`):
 * `clip_ratio/low_mean` (ρ < 1−ε and A < 0), `clip_ratio/high_mean` (ρ > 1+ε_high and A > 0),
 * `clip_ratio/region_mean` (either), and `kl` (mean KL_t) when β > 0.
 *
 * Data parallelism: groups must not be split; each worker's rows must be a multiple of G
 * (checked, the error names `groupSize`). Batch-wide statistics (`scaleRewards: "batch"`,
 * `normalizeAdvantages: "global"`, the `dapo` token total, row counts) go through the reducer.
 *
 * | param | symbol | default | range |
 * | --- | --- | --- | --- |
 * | `epsilon` | ε (ε_low) | 0.2 | (0, 1) |
 * | `epsilonHigh` | ε_high | `null` (= ε) | > 0 |
 * | `beta` | β | 0 | ≥ 0 |
 * | `lossType` | | `dapo` | `grpo`, `bnpo`, `dr_grpo`, `dapo` |
 * | `maxCompletionLength` | L | 512 | integer ≥ 1 |
 * | `importanceSampling` | | `token` | `token`, `sequence` |
 * | `scaleRewards` | | `group` | `group`, `batch`, `none` |
 * | `normalizeAdvantages` | | `none` | `none`, `global` |
 * | `groupSize` | G | `null` | integer ≥ 2 |
 *
 * Presets: `deepseekmath` (β 0.04, `grpo`), `dapo` (ε_high 0.28), `dr_grpo` (`dr_grpo`, no std
 * scaling), `gspo` (`sequence`, `grpo`, ε 3e-4, ε_high 4e-4), `reinforce_pp_baseline` (group
 * mean baseline without std scaling, then global normalization).
 */
export const grpo = defineObjective<GrpoParams, typeof GROUP_POLICY_INPUTS>({
  id: 'grpo',
  title: 'GRPO',
  summary: 'Clipped policy-gradient loss on sampled completions with group-relative advantages (GRPO, DAPO, Dr.GRPO, GSPO).',
  reference:
    'Shao et al. DeepSeekMath: Pushing the Limits of Mathematical Reasoning in Open Language Models. 2024, Eq. 3; ' +
    'variants: DAPO (Yu et al. 2025), Dr.GRPO (Liu et al. 2025), GSPO (Zheng et al. 2025).',
  inputs: GROUP_POLICY_INPUTS,
  params: {
    epsilon: {
      kind: 'number', default: 0.2, min: 0, max: 1, minExclusive: true, maxExclusive: true, symbol: 'ε',
      description: 'Lower clip range ε_low: the ratio is clipped below at 1 − ε.',
    },
    epsilonHigh: {
      kind: 'number', default: null, min: 0, minExclusive: true, symbol: 'ε_high',
      description: 'Upper clip range: the ratio is clipped above at 1 + ε_high. null = epsilon (symmetric); DAPO uses 0.28.',
    },
    beta: { kind: 'number', default: 0, min: 0, symbol: 'β', description: 'Weight of the per-token k3 KL to the reference model (needs refLogps when > 0).' },
    lossType: {
      kind: 'enum', values: ['grpo', 'bnpo', 'dr_grpo', 'dapo'], default: 'dapo',
      description: 'Aggregation: grpo (mean of row token means), bnpo (token mean per worker), dr_grpo (sum / (N·L)), dapo (token mean over the whole batch).',
    },
    maxCompletionLength: {
      kind: 'number', default: 512, min: 1, integer: true, symbol: 'L',
      description: 'Constant per-row token budget that dr_grpo divides by.',
    },
    importanceSampling: {
      kind: 'enum', values: ['token', 'sequence'], default: 'token',
      description: 'token: one ratio per token (GRPO); sequence: the length-normalized sequence ratio for every token (GSPO).',
    },
    scaleRewards: {
      kind: 'enum', values: ['group', 'batch', 'none'], default: 'group',
      description: 'Divide group-centred rewards by the group std, the batch std (+1e-4), or nothing (Dr.GRPO).',
    },
    ...ADVANTAGE_PARAMS,
  },
  presets: {
    deepseekmath: { description: 'The DeepSeekMath GRPO setting: KL weight 0.04, per-sequence token means.', values: { lossType: 'grpo', beta: 0.04 } },
    dapo: { description: 'DAPO: clip-higher (ε 0.2, ε_high 0.28), token-level loss over the batch, no KL.', values: { lossType: 'dapo', epsilon: 0.2, epsilonHigh: 0.28, beta: 0 } },
    dr_grpo: { description: 'Dr.GRPO: constant normalizer N·L and no std scaling of rewards, no KL.', values: { lossType: 'dr_grpo', scaleRewards: 'none', beta: 0 } },
    gspo: {
      description: 'GSPO: sequence-level ratio, per-sequence means, ε 3e-4, ε_high 4e-4, no KL.',
      values: { importanceSampling: 'sequence', lossType: 'grpo', epsilon: 3e-4, epsilonHigh: 4e-4, beta: 0 },
    },
    reinforce_pp_baseline: {
      description: 'REINFORCE++-baseline: group-mean baseline without std scaling, then normalization over the whole batch.',
      values: { scaleRewards: 'none', normalizeAdvantages: 'global' },
    },
  },
  metrics: ['clip_ratio/low_mean', 'clip_ratio/high_mean', 'clip_ratio/region_mean', 'kl'],
  stateful: false,
  forward(ctx, inputs, params) {
    const { ops } = ctx;
    const { mask, rows, steps } = inputs.policy;
    if (params.beta > 0 && !inputs.ref) {
      throw new PrefInputError('refLogps', `grpo: beta is ${params.beta} > 0, so refLogps [N, T] (reference-model token log-probs) is needed`);
    }
    // Masked-out values are arbitrary: replace them before any exp so no inf/NaN reaches a gradient.
    const logps = ops.where(mask, inputs.policy.logps, 0);
    const oldLogps = inputs.old ? ops.where(mask, inputs.old, 0) : ops.stopGradient(logps);
    const advantages = resolveAdvantages(ctx, 'grpo', inputs, params, (rewards, groupSize) =>
      groupRelativeAdvantages(ctx, rewards, { groupSize, scaleRewards: params.scaleRewards }),
    );
    const advantageColumn = ops.reshape(advantages, [rows, 1]);
    const logRatio = ops.sub(logps, oldLogps);
    const sequenceLevel = params.importanceSampling === 'sequence';
    const ratio = sequenceLevel
      ? ops.exp(ops.div(ops.sum(ops.where(mask, logRatio, 0), 1, true), ops.sum(mask, 1, true)))
      : ops.exp(logRatio);
    const epsilonHigh = params.epsilonHigh ?? params.epsilon;
    const surrogate = clippedSurrogate(ops, ratio, advantageColumn, params.epsilon, epsilonHigh);
    let perToken = ops.broadcastTo(surrogate.loss, [rows, steps]);
    const metrics: Record<string, Tensor> = {};
    if (params.beta > 0) {
      const refGap = ops.sub(ops.where(mask, inputs.ref!, 0), logps);
      const kl = ops.sub(ops.sub(ops.exp(refGap), refGap), 1);
      perToken = ops.add(perToken, ops.mul(kl, params.beta));
      metrics['kl'] = ctx.tokenMean(ops.stopGradient(kl), mask);
    }
    const loss = aggregateTokenLosses(ctx, perToken, mask, params.lossType, params.maxCompletionLength);
    const clipMean = (indicator: Tensor) =>
      sequenceLevel ? ctx.batchMean(ops.reshape(indicator, [rows])) : ctx.tokenMean(indicator, mask);
    metrics['clip_ratio/low_mean'] = clipMean(surrogate.lowClipped);
    metrics['clip_ratio/high_mean'] = clipMean(surrogate.highClipped);
    metrics['clip_ratio/region_mean'] = clipMean(ops.add(surrogate.lowClipped, surrogate.highClipped));
    const perExample = ops.div(ops.sum(ops.where(mask, perToken, 0), 1), ops.sum(mask, 1));
    return { loss, metrics, perExample };
  },
});
