import {
  defineObjective,
  pairMetrics,
  PrefParamError,
  sequenceLength,
  tokenMeanNll,
  type SequenceTensors,
  type Tensor,
  type TensorOps,
  PAIR_METRIC_NAMES,
} from '@pref/core';
import { DPO_INPUTS } from './dpo-inputs';
import { BATCH_SORTING_LOSS_TYPES, DPO_PARAM_SCHEMA, lossTypeList, lossWeightList, validateDpoParams, type DpoParams } from './dpo-params';
import { fDivergenceScore } from './f-divergence-score';
import { lengthDesensitizedWeights, weightedSequenceSum } from './length-desensitized-weights';
import { pairLoss, type PairTerms } from './pair-loss';
import { wpoSequenceWeights } from './wpo-weights';

/**
 * **DPO** and its pairwise variants — Rafailov, Sharma, Mitchell, Ermon, Manning, Finn, "Direct
 * Preference Optimization: Your Language Model is Secretly a Reward Model" (NeurIPS 2023), Eq. 7,
 * with the loss types of TRL's `DPOTrainer` (HEAD semantics unless noted; see
 * `docs/objectives/dpo.md`).
 *
 * Sums `S = Σ_t m·l` (policy) and `R` (reference: `refChosenLogps`/`refRejectedLogps`, or the sum of
 * `refChosenTokenLogps`/`refRejectedTokenLogps`; 0 when `referenceFree`), log-ratios `r = S − R`,
 * scores `s = f′(e^r)` (`s = r` for the default reverse KL), `Δ = s_w − s_l`, `z = β·Δ`,
 * `Δn = s_w/n_w − s_l/n_l`. Per pair:
 * - `sigmoid` (DPO; ε > 0 is cDPO, Mitchell 2023): `−(1−ε)·logσ(z) − ε·logσ(−z)`
 * - `hinge` (SLiC, Zhao et al. 2023): `relu(1 − z)`
 * - `ipo` (Azar et al. 2023, "A General Theoretical Paradigm…"): `(Δn − 1/(2β))²`
 * - `sigmoid_norm` (DPO with length normalization, SimPO appendix / Tülu 3): `−logσ(β·Δn)`
 * - `robust` (Chowdhury et al. 2024, "Provably Robust DPO"): `(−(1−ε)·logσ(z) + ε·logσ(−z)) / (1−2ε)`
 * - `exo_pair` (Ji et al. 2024, "Towards Efficient Exact Optimization…"):
 *   `σ(z)·(logσ(z) − log(1−ε)) + σ(−z)·(logσ(−z) − log ε)`, ε > 0
 * - `nca_pair` (Chen et al. 2024, "Noise Contrastive Alignment"): `−logσ(βs_w) − ½logσ(−βs_w) − ½logσ(−βs_l)`
 * - `bco_pair` (Jung et al. 2024, "Binary Classifier Optimization"): `−logσ(βs_w) − logσ(−βs_l)`
 * - `sppo_hard` (Wu et al. 2024, "Self-Play Preference Optimization"): `(s_w − 1/(2β))² + (s_l + 1/(2β))²`
 * - `apo_zero`, `apo_down` (D'Oosterlinck et al. 2024, "Anchored Preference Optimization"):
 *   `1 − σ(βr_w) + σ(βr_l)`, `σ(βr_w) + 1 − σ(z)`
 * - `discopop` (Lu et al. 2024, "Discovering Preference Optimization Algorithms"):
 *   `x = z`, `w = σ(x/τ)`: `−logσ(x)·(1−w) + e^{−x}·w`
 * - `aot` (Melnyk et al. 2024, "Distributional Preference Alignment of LLMs via Optimal
 *   Transport"): `δ = sort_b(S_w − S_l) − sort_b(R_w − R_l)`, then the `sigmoid` form on `β·δ`;
 *   `aot_unpaired`: `δ = sort_b(r_w) − sort_b(r_l)`. They sort the whole batch: one worker only.
 * - `sft` (RPO, Pang et al. 2024): token-mean NLL of every chosen token of the batch.
 *
 * Loss `= Σ_k w_k · mean_b ℓ_k` over the listed `lossType`s with `lossWeights` `w_k`.
 *
 * Modifiers:
 * - LD-DPO (Liu et al. 2024, "Length Desensitization in DPO", `ldAlpha` α): with
 *   `l_p = min(n_w, n_l)` and completion-relative token positions `k = 1, 2, …`,
 *   `S = Σ_{k≤l_p} l + α·Σ_{k>l_p} l` for policy **and** reference (needs the token-level
 *   reference inputs).
 * - WPO (Zhou et al. 2024, `useWeighting`): every per-pair loss × detached `w(y_w)·w(y_l)`,
 *   `w(y) = exp((1/n)·Σ_t m_t [l_t − log Σ_v p_t(v)²])` (needs logits; no clamp, as TRL HEAD).
 * - f-DPO (Wang et al. 2023, "Beyond Reverse KL", `fDivergence`): `reverse_kl` `s = r`,
 *   `forward_kl` `s = 1 − e^{−r}`, `js_divergence` `s = log 2 + logσ(r)`, `alpha_divergence`
 *   `s = (e^{min((α−1)·r, 80)} − 1)/(α−1)`, with the constants TRL 1.13 keeps
 *   (`fDivergenceConstants: false`: `−e^{−r}`, `logσ(r)`, `e^{…}/(α−1)`, as earlier TRL; they
 *   differ only for `ipo` and `sigmoid_norm`). Scores feed every type that uses Δ or s; `apo_zero`,
 *   `apo_down`'s `σ(βr_w)` and `aot*` use raw log-ratios.
 *
 * Metrics: rewards `β·r` (raw: not normalized, not f-scored; LD-weighted under `ldAlpha`; `β·S`
 * when `referenceFree`), `logps/*` = mean `S`, `nll_loss` when `sft` is listed.
 *
 * | param | symbol | default | range |
 * | --- | --- | --- | --- |
 * | `beta` | β | 0.1 | > 0 |
 * | `labelSmoothing` | ε | 0 | [0, 0.5); > 0 for `exo_pair` |
 * | `lossType` | | `sigmoid` | a type above or a non-empty list of them |
 * | `lossWeights` | w_k | `null` (all 1) | one weight ≥ 0 per listed type |
 * | `referenceFree` | | false | boolean |
 * | `discopopTau` | τ | 0.05 | > 0 |
 * | `ldAlpha` | α_LD | `null` (off) | [0, 1] |
 * | `useWeighting` | | false | boolean; logits path; not with `aot*` |
 * | `fDivergence` | f | `reverse_kl` | `reverse_kl`, `forward_kl`, `js_divergence`, `alpha_divergence` |
 * | `fAlphaCoef` | α_f | 0.5 | any finite |
 * | `fDivergenceConstants` | | `true` | `true`, `false` |
 */
export const dpo = defineObjective({
  id: 'dpo',
  title: 'DPO',
  summary:
    'Direct preference optimization on the policy/reference log-ratio margin, with its pairwise variants (IPO, cDPO, robust, EXO, NCA, BCO, SPPO, APO, DiscoPOP, AOT) and the LD-DPO, WPO and f-DPO modifiers.',
  reference:
    'Rafailov et al. Direct Preference Optimization: Your Language Model is Secretly a Reward Model. NeurIPS 2023, Eq. 7; variants as in TRL DPOTrainer.',
  inputs: DPO_INPUTS,
  params: DPO_PARAM_SCHEMA,
  presets: {},
  metrics: [...PAIR_METRIC_NAMES, 'nll_loss'],
  stateful: false,
  validateParams: validateDpoParams,
  forward(ctx, inputs, params) {
    const { ops } = ctx;
    const types = lossTypeList(params);
    const weights = lossWeightList(params);
    const sorting = types.filter((t) => BATCH_SORTING_LOSS_TYPES.includes(t));
    if (sorting.length > 0 && ctx.worldSize > 1) {
      throw new PrefParamError(
        'lossType',
        `dpo: lossType ${sorting.join(', ')} sorts across the whole batch, which data-parallel workers cannot do with a sum all-reduce; run it with the batch on one worker (got worldSize ${ctx.worldSize})`,
      );
    }
    const lengthChosen = sequenceLength(ops, inputs.chosen);
    const lengthRejected = sequenceLength(ops, inputs.rejected);
    const { ldAlpha } = params;
    const commonLength = ldAlpha === null ? null : ops.minimum(lengthChosen, lengthRejected);
    const ldWeights = (seq: SequenceTensors) =>
      commonLength === null || ldAlpha === null ? null : lengthDesensitizedWeights(ops, seq.mask, commonLength, ldAlpha);
    const chosenWeights = ldWeights(inputs.chosen);
    const rejectedWeights = ldWeights(inputs.rejected);
    const policyChosen = weightedSequenceSum(ops, inputs.chosen.logps, inputs.chosen.mask, chosenWeights);
    const policyRejected = weightedSequenceSum(ops, inputs.rejected.logps, inputs.rejected.mask, rejectedWeights);
    const reference = (side: 'chosen' | 'rejected', seq: SequenceTensors, tokenWeights: Tensor | null) =>
      referenceSum(
        ops,
        params,
        seq,
        side === 'chosen' ? inputs.refChosen : inputs.refRejected,
        side === 'chosen' ? inputs.refChosenTokens : inputs.refRejectedTokens,
        tokenWeights,
      );
    const referenceChosen = reference('chosen', inputs.chosen, chosenWeights);
    const referenceRejected = reference('rejected', inputs.rejected, rejectedWeights);
    const logRatioChosen = ops.sub(policyChosen, referenceChosen);
    const logRatioRejected = ops.sub(policyRejected, referenceRejected);
    const score = (r: Tensor) => fDivergenceScore(ops, r, params.fDivergence, params.fAlphaCoef, params.fDivergenceConstants);
    const terms: PairTerms = {
      policyChosen,
      policyRejected,
      referenceChosen,
      referenceRejected,
      logRatioChosen,
      logRatioRejected,
      scoreChosen: score(logRatioChosen),
      scoreRejected: score(logRatioRejected),
      lengthChosen,
      lengthRejected,
    };
    const pairWeights = params.useWeighting
      ? ops.mul(wpoSequenceWeights(ops, inputs.chosen), wpoSequenceWeights(ops, inputs.rejected))
      : null;

    // Pair losses are averaged over the batch (linear in each row); the sft NLL is a batch-global
    // token mean already, so it is added outside the batch mean (inside it, data-parallel
    // workers would lose the other workers' share of its gradient).
    let pairTotal: Tensor | null = null;
    let sftWeight = 0;
    for (const [k, type] of types.entries()) {
      if (type === 'sft') {
        sftWeight += weights[k];
        continue;
      }
      const perPair = pairLoss(ops, type, terms, params);
      const weighted = weights[k] === 1 ? perPair : ops.mul(perPair, weights[k]);
      pairTotal = pairTotal ? ops.add(pairTotal, weighted) : weighted;
    }
    if (pairTotal && pairWeights) pairTotal = ops.mul(pairTotal, pairWeights);
    const rows = inputs.chosen.rows;
    let loss = pairTotal ? ctx.batchMean(pairTotal) : ops.scalar(0);
    let perExample = pairTotal ?? ops.fill([rows], 0);
    const nll = types.includes('sft') ? tokenMeanNll(ctx, inputs.chosen) : null;
    if (nll) {
      // WPO weights every pair's copy of the NLL: mean_b(w_b·NLL) = NLL·mean_b(w_b), w detached.
      const sftTerm = ops.mul(nll, sftWeight);
      loss = ops.add(loss, pairWeights ? ops.mul(sftTerm, ctx.batchMean(pairWeights)) : sftTerm);
      perExample = ops.add(perExample, pairWeights ? ops.mul(pairWeights, sftTerm) : ops.broadcastTo(sftTerm, [rows]));
    }

    const metrics = pairMetrics(
      ctx,
      { chosen: ops.mul(logRatioChosen, params.beta), rejected: ops.mul(logRatioRejected, params.beta) },
      { chosen: policyChosen, rejected: policyRejected },
    );
    if (nll) metrics['nll_loss'] = ops.stopGradient(nll);
    return { loss, metrics, perExample };
  },
});

/**
 * The reference sum `[B]` of one side: 0 when `referenceFree`; the (LD-weighted) sum of the
 * token-level input when given; else the summed input.
 */
function referenceSum(
  ops: TensorOps,
  params: DpoParams,
  seq: SequenceTensors,
  sums: Tensor | undefined,
  tokens: Tensor | undefined,
  tokenWeights: Tensor | null,
): Tensor {
  if (params.referenceFree) return ops.fill([seq.rows], 0);
  // prepareBatch has checked the alternatives (DPO_INPUTS): exactly one is present.
  if (tokens) return weightedSequenceSum(ops, tokens, seq.mask, tokenWeights);
  return sums!;
}
