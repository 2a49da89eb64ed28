import { defineObjective, defineParams, PrefParamError, type ParamsOf, type Tensor } from '@pref/core';
import { ADVANTAGE_PARAMS } from './advantage-params';
import { aggregateTokenLosses } from './aggregate-token-losses';
import { boundedExp } from './bounded-exp';
import { GRPO_INPUTS } from './grpo-inputs';
import { groupRelativeAdvantages } from './group-relative-advantages';
import { highEntropyMask } from './high-entropy-mask';
import { offPolicyMask } from './off-policy-mask';
import { policyTokenLoss } from './policy-token-loss';
import { resolveAdvantages } from './resolve-advantages';
import { samplerImportanceWeights } from './sampler-importance-weights';
import { tokenEntropies } from './token-entropies';

/** grpo's hyperparameters, resolved: derived from {@link GRPO_PARAMS} (see {@link grpo}). */
export type GrpoParams = ParamsOf<typeof GRPO_PARAMS>;

/**
 * grpo's parameter schema, written once: TRL 1.13 `GRPOConfig` names in camelCase with TRL's
 * defaults; the parameter type, defaults, docs table and CLI help derive from it.
 */
export const GRPO_PARAMS = defineParams({
  epsilon: {
    kind: 'number',
    default: 0.2,
    min: 0,
    max: 1,
    minExclusive: true,
    maxExclusive: true,
    symbol: 'ε',
    description: 'Lower clip range ε_low: the ratio is clipped below at 1 − ε.',
  },
  epsilonHigh: {
    kind: 'number',
    default: null,
    min: 0,
    minExclusive: true,
    symbol: 'ε_high',
    description:
      'Upper clip range: the ratio is clipped above at 1 + ε_high (cispo: the ratio itself is capped at ε_high). null = epsilon; DAPO uses 0.28, CISPO 5.',
  },
  delta: {
    kind: 'number',
    default: null,
    min: 0,
    minExclusive: true,
    symbol: 'δ',
    description:
      'Two-sided clipping (INTELLECT-2): the unclipped ratio is capped at δ, bounding the loss of negative advantages; null = off. Use > 1 + ε_high.',
  },
  beta: {
    kind: 'number',
    default: 0,
    min: 0,
    symbol: 'β',
    description: 'Weight of the per-token k3 KL to the reference model (needs refLogps when > 0).',
  },
  useBiasCorrectionKl: {
    kind: 'boolean',
    default: true,
    description:
      'Multiply the per-token KL by the importance ratio ρ (DeepSeek-V3.2: the unbiased reverse-KL gradient); changes the gradient even on-policy.',
  },
  lossType: {
    kind: 'enum',
    values: ['grpo', 'bnpo', 'dr_grpo', 'dapo', 'cispo', 'sapo', 'luspo', 'vespo'],
    default: 'dapo',
    description:
      'Per-token loss and aggregation: grpo (mean of row token means), bnpo (token mean per worker), dr_grpo (sum / (N·L)), dapo (token mean over the whole batch), ' +
      'cispo (clipped detached ratio × A × log-prob, dapo aggregation), sapo (soft sigmoid gate, grpo aggregation), luspo (mean of row sums), vespo (Gamma sequence weight × A × log-prob, dapo aggregation).',
  },
  maxCompletionLength: {
    kind: 'number',
    default: 512,
    min: 1,
    integer: true,
    symbol: 'L',
    description: 'Constant per-row token budget that dr_grpo divides by.',
  },
  importanceSampling: {
    kind: 'enum',
    values: ['token', 'sequence'],
    default: 'token',
    description:
      'token: one ratio per token (GRPO); sequence: the length-normalized sequence ratio for every token (GSPO; LUSPO expects it).',
  },
  sapoTemperaturePos: {
    kind: 'number',
    default: 1.0,
    min: 0,
    minExclusive: true,
    symbol: 'τ_pos',
    description: 'SAPO gate temperature for tokens with A > 0.',
  },
  sapoTemperatureNeg: {
    kind: 'number',
    default: 1.05,
    min: 0,
    minExclusive: true,
    symbol: 'τ_neg',
    description: 'SAPO gate temperature for tokens with A ≤ 0.',
  },
  vespoKPos: {
    kind: 'number',
    default: 2.0,
    symbol: 'k_pos',
    description: 'VESPO Gamma exponent k for A ≥ 0 (how fast low importance weights are down-weighted).',
  },
  vespoLambdaPos: {
    kind: 'number',
    default: 3.0,
    symbol: 'λ_pos',
    description: 'VESPO Gamma decay λ for A ≥ 0 (how fast high importance weights are down-weighted); clamped ≥ 1e-4.',
  },
  vespoKNeg: { kind: 'number', default: 3.0, symbol: 'k_neg', description: 'VESPO Gamma exponent k for A < 0.' },
  vespoLambdaNeg: { kind: 'number', default: 2.0, symbol: 'λ_neg', description: 'VESPO Gamma decay λ for A < 0; clamped ≥ 1e-4.' },
  topEntropyQuantile: {
    kind: 'number',
    default: 1.0,
    min: 0,
    max: 1,
    symbol: 'ρ_H',
    description:
      'Keep in the policy loss only the top-ρ_H fraction of counted tokens by entropy (Beyond the 80/20 Rule; 0.2 recommended); 1 keeps all. Needs entropies (or logits).',
  },
  entropyCoef: {
    kind: 'number',
    default: 0,
    symbol: 'c_H',
    description: 'Entropy bonus: the loss minus c_H × the mean entropy over the kept tokens. Needs entropies (or logits).',
  },
  maskTruncatedCompletions: {
    kind: 'boolean',
    default: false,
    description: 'Leave the tokens of rows with truncated = 1 out of the loss and its token counts (DAPO); needs the truncated input.',
  },
  vllmImportanceSamplingCorrection: {
    kind: 'boolean',
    default: true,
    description:
      'With samplerLogps: weight each token loss by the sampler importance ratio exp(l_old − l_sampler), bounded by the mode (TIS/MIS).',
  },
  vllmImportanceSamplingMode: {
    kind: 'enum',
    values: ['token_truncate', 'token_mask', 'sequence_truncate', 'sequence_mask'],
    default: 'sequence_mask',
    description:
      'truncate: clamp the sampler ratio to [C_min, C_max]; mask: set it to 0 outside; token: one ratio per token; sequence: exp of the row sum.',
  },
  vllmImportanceSamplingClipMax: {
    kind: 'number',
    default: 3.0,
    min: 0,
    minExclusive: true,
    symbol: 'C_max',
    description: 'Upper bound C_max of the sampler ratio; null = none.',
  },
  vllmImportanceSamplingClipMin: {
    kind: 'number',
    default: null,
    min: 0,
    symbol: 'C_min',
    description: 'Lower bound C_min of the sampler ratio; null = none.',
  },
  offPolicyMaskThreshold: {
    kind: 'number',
    default: null,
    symbol: 'δ_KL',
    description:
      'DeepSeek-V3.2 off-policy sequence mask: drop rows with A < 0 whose mean (l_sampler − l) exceeds it (l_old without samplerLogps); null = off.',
  },
  scaleRewards: {
    kind: 'enum',
    values: ['group', 'batch', 'none'],
    default: 'group',
    description: 'Divide group-centred rewards by the group std, the batch std (+1e-4), or nothing (Dr.GRPO).',
  },
  ...ADVANTAGE_PARAMS,
});

/**
 * **GRPO** — Group Relative Policy Optimization: Shao et al., "DeepSeekMath: Pushing the Limits
 * of Mathematical Reasoning in Open Language Models" (2024), Eq. 3 (objective) and §4.1.2
 * (outcome advantages), as computed by TRL 1.13's `GRPOTrainer`, with its variants:
 * DAPO (Yu et al. 2025: clip-higher ε_high, token-level loss), Dr.GRPO (Liu et al.,
 * "Understanding R1-Zero-Like Training" 2025: constant normalizer, no std scaling), GSPO
 * (Zheng et al., "Group Sequence Policy Optimization" 2025: sequence-level ratio), CISPO
 * (MiniMax-M1, arXiv 2506.13585), SAPO (arXiv 2511.20347), LUSPO (arXiv 2602.05261), VESPO
 * (arXiv 2602.10693), two-sided clipping δ (INTELLECT-2, arXiv 2505.07291), the KL bias
 * correction and off-policy sequence mask (DeepSeek-V3.2, arXiv 2512.02556), high-entropy token
 * selection (Wang et al., "Beyond the 80/20 Rule", arXiv 2506.01939), an entropy bonus,
 * truncated-completion masking (DAPO) and the sampler importance-sampling correction (Yao et
 * al., "Your Efficient RL Framework Secretly Brings You Off-Policy RL Training", 2025).
 *
 * With advantages `A_i` (input, or from rewards, see {@link groupRelativeAdvantages}), counted
 * tokens `m` (less the truncated rows under `maskTruncatedCompletions`), current/old/reference
 * token log-probs `l`, `l_old`, `l_ref`:
 * - ratio `ρ_t = exp(l_t − l_old,t)`; `sequence`: `ρ_t = exp(Σ_t m(l − l_old) / max(1, Σ_t m))`;
 *   without `oldLogps`, `l_old` = detached `l` (ρ = 1, gradient `A·∇l`);
 * - per-token policy loss by `lossType` (see {@link policyTokenLoss}), × the off-policy mask,
 *   × the high-entropy mask (`topEntropyQuantile` < 1), × the sampler weights (not `vespo`,
 *   which folds them into its weight);
 * - `+ β·KL_t`, `KL_t = exp(l_ref − l) − (l_ref − l) − 1` (k3), `× ρ_t` when `useBiasCorrectionKl`;
 * - aggregated by `lossType` (see {@link aggregateTokenLosses}), minus `entropyCoef ·` the mean
 *   entropy over the counted kept tokens (per worker, averaged over workers, as TRL).
 * Every exponent is capped at the largest finite one of the backend's precision, so a huge
 * log-ratio that a clip discards leaves the loss and the gradient finite.
 *
 * Metrics (TRL's names and definitions; token means over the whole batch, row means with
 * `sequence`): `clip_ratio/low_mean`, `clip_ratio/high_mean`, `clip_ratio/region_mean` (clipped
 * loss types), `cispo_clip_ratio`, `vespo/phi_seq_mean`, `kl` (mean `KL_t`, × ρ with the bias
 * correction) when β > 0, `entropy` when entropies are known, `policy_loss` with an entropy
 * bonus, `sampling/importance_sampling_ratio/mean` and `sampling/sampling_logp_difference/mean`
 * with the sampler correction.
 *
 * Data parallelism: groups must not be split; each worker's rows must be a multiple of G
 * (checked, the error names `groupSize`). Batch-wide statistics (`scaleRewards: "batch"`,
 * `normalizeAdvantages: "global"`, the `dapo` token total, row counts) go through the reducer;
 * `topEntropyQuantile` < 1 needs one worker (refused otherwise, naming it).
 *
 * Parameters: {@link GRPO_PARAMS} (the table in `docs/objectives/grpo.md` is rendered from it).
 *
 * Presets: `deepseekmath` (β 0.04, `grpo`, the paper's KL without the ratio), `dapo` (ε_high
 * 0.28), `dr_grpo` (`dr_grpo`, no std scaling), `gspo` (`sequence`, `grpo`, ε 3e-4, ε_high 4e-4),
 * `cispo` (ε_high 5, ScaleRL), `luspo` (`sequence`), `reinforce_pp_baseline` (group mean
 * baseline without std scaling, then global normalization).
 */
export const grpo = defineObjective({
  id: 'grpo',
  title: 'GRPO',
  summary:
    'Clipped policy-gradient loss on sampled completions with group-relative advantages (GRPO, DAPO, Dr.GRPO, GSPO, CISPO, SAPO, LUSPO, VESPO).',
  reference:
    'Shao et al. DeepSeekMath: Pushing the Limits of Mathematical Reasoning in Open Language Models. 2024, Eq. 3; ' +
    'variants: DAPO (Yu et al. 2025), Dr.GRPO (Liu et al. 2025), GSPO (Zheng et al. 2025), CISPO (MiniMax-M1 2025), ' +
    'SAPO (arXiv 2511.20347), LUSPO (arXiv 2602.05261), VESPO (arXiv 2602.10693).',
  inputs: GRPO_INPUTS,
  params: GRPO_PARAMS,
  presets: {
    deepseekmath: {
      description: "The DeepSeekMath GRPO setting: KL weight 0.04 (the paper's k3 KL, without the ratio), per-sequence token means.",
      values: { lossType: 'grpo', beta: 0.04, useBiasCorrectionKl: false },
    },
    dapo: {
      description: 'DAPO: clip-higher (ε 0.2, ε_high 0.28), token-level loss over the batch, no KL.',
      values: { lossType: 'dapo', epsilon: 0.2, epsilonHigh: 0.28, beta: 0 },
    },
    dr_grpo: {
      description: 'Dr.GRPO: constant normalizer N·L and no std scaling of rewards, no KL.',
      values: { lossType: 'dr_grpo', scaleRewards: 'none', beta: 0 },
    },
    gspo: {
      description: 'GSPO: sequence-level ratio, per-sequence means, ε 3e-4, ε_high 4e-4, no KL.',
      values: { importanceSampling: 'sequence', lossType: 'grpo', epsilon: 3e-4, epsilonHigh: 4e-4, beta: 0 },
    },
    cispo: {
      description: 'CISPO with the ScaleRL cap ε_max = 5 on the detached ratio, token-level loss, no KL.',
      values: { lossType: 'cispo', epsilonHigh: 5, beta: 0 },
    },
    luspo: {
      description: "LUSPO: GSPO's sequence-level ratio with each row's loss scaled by its length.",
      values: { lossType: 'luspo', importanceSampling: 'sequence' },
    },
    reinforce_pp_baseline: {
      description: 'REINFORCE++-baseline: group-mean baseline without std scaling, then normalization over the whole batch.',
      values: { scaleRewards: 'none', normalizeAdvantages: 'global' },
    },
  },
  metrics: [
    'clip_ratio/low_mean',
    'clip_ratio/high_mean',
    'clip_ratio/region_mean',
    'cispo_clip_ratio',
    'vespo/phi_seq_mean',
    'kl',
    'entropy',
    'policy_loss',
    'sampling/importance_sampling_ratio/mean',
    'sampling/sampling_logp_difference/mean',
  ],
  stateful: false,
  validateParams(params) {
    const { vllmImportanceSamplingClipMin: low, vllmImportanceSamplingClipMax: high } = params;
    if (low !== null && high !== null && low >= high) {
      throw new PrefParamError(
        'vllmImportanceSamplingClipMin',
        `grpo: vllmImportanceSamplingClipMin ${low} must be less than vllmImportanceSamplingClipMax ${high}`,
      );
    }
    if (params.vllmImportanceSamplingMode.endsWith('truncate') && low === null && high === null) {
      throw new PrefParamError(
        'vllmImportanceSamplingClipMax',
        'grpo: a *_truncate vllmImportanceSamplingMode needs vllmImportanceSamplingClipMin or vllmImportanceSamplingClipMax',
      );
    }
  },
  forward(ctx, inputs, params) {
    const { ops } = ctx;
    const { rows, steps } = inputs.policy;
    // Every input rule (refLogps when beta > 0, advantages or rewards with groupSize, rows in
    // whole groups, entropies, truncated, vespo's sampler mode) is GRPO_INPUTS', checked on the host.
    const mask = params.maskTruncatedCompletions
      ? ops.mul(inputs.policy.mask, ops.reshape(ops.sub(1, inputs.truncated!), [rows, 1]))
      : inputs.policy.mask;
    // Masked-out values are arbitrary: replace them before any exp so no inf/NaN reaches a gradient.
    const logps = ops.where(mask, inputs.policy.logps, 0);
    const oldLogps = inputs.old ? ops.where(mask, inputs.old, 0) : ops.stopGradient(logps);
    const samplerLogps = inputs.sampler ? ops.where(mask, inputs.sampler, 0) : null;
    const advantages = resolveAdvantages(ctx, inputs, params, (rewards, groupSize) =>
      groupRelativeAdvantages(ctx, rewards, { groupSize, scaleRewards: params.scaleRewards }),
    );
    const advantageColumn = ops.reshape(advantages, [rows, 1]);
    const needsEntropies = params.topEntropyQuantile < 1 || params.entropyCoef !== 0;
    let entropies: Tensor | null = inputs.entropies ?? null;
    if (!entropies && needsEntropies) {
      const { logits, hidden, head } = inputs.policy;
      if (logits) entropies = tokenEntropies(ops, logits);
      else if (hidden && head) entropies = ops.linearTokenEntropy(hidden, head.weight, head.bias, head.options);
    }
    const metrics: Record<string, Tensor> = {};
    const sampler =
      samplerLogps && params.vllmImportanceSamplingCorrection
        ? samplerImportanceWeights(ops, oldLogps, samplerLogps, mask, {
            mode: params.vllmImportanceSamplingMode,
            clipMin: params.vllmImportanceSamplingClipMin,
            clipMax: params.vllmImportanceSamplingClipMax,
          })
        : null;
    if (sampler && samplerLogps) {
      const weights = sampler.weights;
      metrics['sampling/importance_sampling_ratio/mean'] = sampler.sequenceLevel
        ? ctx.batchMean(ops.reshape(weights, [rows]))
        : tokenMean(weights);
      metrics['sampling/sampling_logp_difference/mean'] = tokenMean(ops.abs(ops.sub(ops.stopGradient(oldLogps), samplerLogps)));
    }

    const logRatio = ops.sub(logps, oldLogps);
    const sequenceLevel = params.importanceSampling === 'sequence';
    const logWeights = sequenceLevel ? ops.div(ops.sum(logRatio, 1, true), ops.maximum(ops.sum(mask, 1, true), 1)) : logRatio;
    const ratio = boundedExp(ops, logWeights);
    const epsilonHigh = params.epsilonHigh ?? params.epsilon;
    const policy = policyTokenLoss(
      ops,
      {
        ratio,
        logps,
        tokenLogRatio: logRatio,
        mask,
        advantages: advantageColumn,
        samplerLogWeights: sampler && params.lossType === 'vespo' ? ops.log(sampler.weights) : null,
      },
      {
        lossType: params.lossType,
        epsilonLow: params.epsilon,
        epsilonHigh,
        delta: params.delta,
        sapoTemperaturePos: params.sapoTemperaturePos,
        sapoTemperatureNeg: params.sapoTemperatureNeg,
        vespo: {
          kPositive: params.vespoKPos,
          lambdaPositive: params.vespoLambdaPos,
          kNegative: params.vespoKNeg,
          lambdaNegative: params.vespoLambdaNeg,
        },
      },
    );
    let perToken = policy.loss;
    if (params.offPolicyMaskThreshold !== null) {
      perToken = ops.mul(
        perToken,
        offPolicyMask(ops, logps, samplerLogps ?? oldLogps, mask, advantageColumn, params.offPolicyMaskThreshold),
      );
    }
    const entropyMask = params.topEntropyQuantile < 1 ? highEntropyMask(ctx, entropies!, mask, params.topEntropyQuantile) : null;
    if (entropyMask) perToken = ops.mul(perToken, entropyMask);
    if (sampler && params.lossType !== 'vespo') perToken = ops.mul(perToken, sampler.weights);
    perToken = ops.broadcastTo(perToken, [rows, steps]);
    if (params.beta > 0) {
      const refGap = ops.sub(ops.where(mask, inputs.ref!, 0), logps);
      let kl = ops.sub(ops.sub(boundedExp(ops, refGap), refGap), 1);
      if (params.useBiasCorrectionKl) kl = ops.mul(kl, ratio);
      perToken = ops.add(perToken, ops.mul(kl, params.beta));
      metrics['kl'] = tokenMean(ops.stopGradient(kl));
    }
    let loss = aggregateTokenLosses(ctx, perToken, mask, params.lossType, params.maxCompletionLength);
    if (entropies) metrics['entropy'] = tokenMean(ops.stopGradient(entropies));
    if (params.entropyCoef !== 0) {
      metrics['policy_loss'] = ops.stopGradient(loss);
      const kept = entropyMask ? ops.mul(mask, entropyMask) : mask;
      const local = ops.div(ops.sum(ops.where(kept, entropies!, 0)), ops.maximum(ops.sum(kept), 1));
      const entropyBonus = ctx.worldSize === 1 ? local : ops.div(ctx.allReduceSum(local), ctx.worldSize);
      loss = ops.sub(loss, ops.mul(entropyBonus, params.entropyCoef));
    }
    const indicatorMean = (indicator: Tensor) =>
      indicator.shape[1] === 1 ? ctx.batchMean(ops.reshape(indicator, [rows])) : tokenMean(indicator);
    if (policy.clip) {
      metrics['clip_ratio/low_mean'] = indicatorMean(policy.clip.low);
      metrics['clip_ratio/high_mean'] = indicatorMean(policy.clip.high);
      metrics['clip_ratio/region_mean'] = indicatorMean(ops.add(policy.clip.low, policy.clip.high));
    }
    if (policy.cispoClipped) metrics['cispo_clip_ratio'] = indicatorMean(policy.cispoClipped);
    if (policy.phi) metrics['vespo/phi_seq_mean'] = indicatorMean(policy.phi);
    const perExample = ops.div(ops.sum(ops.where(mask, perToken, 0), 1), ops.maximum(ops.sum(mask, 1), 1));
    return { loss, metrics, perExample };

    /** Mean over the counted tokens of every worker (count clamped at ≥ 1, as TRL). */
    function tokenMean(values: Tensor): Tensor {
      return ops.div(ctx.allReduceSum(ops.sum(ops.where(mask, values, 0))), ops.maximum(ctx.allReduceSum(ops.sum(mask)), 1));
    }
  },
});
