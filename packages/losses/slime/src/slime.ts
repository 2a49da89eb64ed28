import {
  defineObjective,
  PAIRWISE_INPUTS,
  pairMetrics,
  sequenceMean,
  type ForwardContext,
  type SequenceTensors,
  type Tensor,
  PAIR_METRIC_NAMES,
  defineParams,
  type ParamsOf,
} from '@pref/core';

/** slime's hyperparameters, resolved: derived from {@link SLIME_PARAMS} (see {@link slime}). */
export type SlimeParams = ParamsOf<typeof SLIME_PARAMS>;

/** slime's parameter schema, written once: the parameter type, defaults, docs table and CLI help derive from it. */
export const SLIME_PARAMS = defineParams({
  lambdaW: { kind: 'number', default: 0.1, min: 0, symbol: 'λw', description: 'Weight of the chosen anchor −mean A_w.' },
  lambdaL: { kind: 'number', default: 0.1, min: 0, symbol: 'λl', description: 'Weight of the rejected-token stabilizer.' },
  lambdaD: { kind: 'number', default: 1.0, min: 0, symbol: 'λd', description: 'Weight of the dual margin.' },
  delta: { kind: 'number', default: 1.25, symbol: 'δ', description: 'Shift of the stabilizer softplus(−l − δ).' },
  p: { kind: 'number', default: 2.5, min: 0, minExclusive: true, symbol: 'p', description: 'Power of the stabilizer penalty.' },
  hardMargin: { kind: 'number', default: 1.5, symbol: 'm_h', description: 'Hard margin: relu(m_h − Δ).' },
  softMargin: { kind: 'number', default: 1.0, symbol: 'm_s', description: 'Soft margin: centre of the gate σ(−κ(Δ − m_s)).' },
  kappa: { kind: 'number', default: 2.5, min: 0, symbol: 'κ', description: 'Sharpness of the sigmoid gate.' },
  tokenReduction: {
    kind: 'enum',
    values: ['batch', 'sequence'],
    default: 'batch',
    description: 'Stabilizer mean over every rejected token of the batch (batch) or per sequence then over pairs (sequence).',
  },
  useChosenTerm: { kind: 'boolean', default: true, description: 'Ablation (Table 4): include the anchor L_w.' },
  useRejectedTerm: { kind: 'boolean', default: true, description: 'Ablation (Table 4): include the stabilizer L_l.' },
  useSoftMargin: { kind: 'boolean', default: true, description: 'Ablation (Table 4): include the sigmoid gate in L_d.' },
  useHardMargin: { kind: 'boolean', default: true, description: 'Ablation (Table 4): include the hinge relu(m_h − Δ) in L_d.' },
  rejectedMaskFromValues: {
    kind: 'boolean',
    default: false,
    description: 'Reference trainer: drop rejected tokens whose log-prob is exactly 0 from the stabilizer.',
  },
});

/**
 * **SLIME** — Afanasyev, Iov, "SLIME: Stabilized Likelihood Implicit Margin Enforcement for
 * Preference Optimization" (arXiv:2602.02383, 2026), Eq. 5–10, with the length-averaged Δ of its Appendix A and reference trainer.
 *
 * With length-averaged log-probs `A = Σ_t m·l / Σ_t m` and `Δ = A_w − A_l`:
 * - anchor `L_w = −λw · mean_b A_w`
 * - stabilizer `L_l = λl · mean over rejected tokens of softplus(−l − δ)^p` (one mean over every
 *   rejected token of the batch, or per sequence then over the batch: `tokenReduction`)
 * - dual margin `L_d = λd · mean_b relu(m_h − Δ) · σ(−κ(Δ − m_s))`
 *
 * `L = L_w + L_l + L_d`. Reference-free (no reference model, no β). Once `Δ ≥ m_h` the margin term
 * and its gradient are exactly zero while the anchor and stabilizer keep pulling.
 *
 * The reference trainer (fpsigma/trl-slime) optimizes **3×** this loss through a bug in how it
 * loops over `loss_type` (reference-notes §2.5(1)); we do not reproduce the factor (multiply the
 * loss by 3 yourself to match its gradient-clipping behaviour). Its value-derived rejected mask is
 * `rejectedMaskFromValues`.
 *
 * Metrics: rewards are `A` (no β), `logps/*` = mean `A`, plus `loss/anchor`, `loss/stabilizer`,
 * `loss/margin` (each term as it enters the loss; 0 when ablated).
 *
 * Parameters: {@link SLIME_PARAMS} (the table in `docs/objectives/slime.md` is rendered from it).
 *
 * Presets: `paper` (the defaults), `trl-slime-config` (`SlimeConfig` defaults: λw 0.8, λl 0.0005,
 * δ 0.5, value-derived mask), `trl-slime-script` (`scripts/slime/train.py`: λw 0.1, λl 0.0005,
 * δ 1.25, value-derived mask, per-sequence stabilizer: the script trains one sequence per device),
 * and the ablations of the paper's Table 4 on the defaults: `ablation-no-anchor`,
 * `ablation-no-stabilizer`, `ablation-no-hard-margin`, `ablation-no-soft-margin`.
 */
export const slime = defineObjective({
  id: 'slime',
  title: 'SLIME',
  summary:
    'Reference-free preference loss: a likelihood anchor on the chosen answer, a token-level stabilizer on the rejected one, and a dual hard/soft margin on the length-averaged log-prob gap.',
  reference:
    'Afanasyev, Iov. SLIME: Stabilized Likelihood Implicit Margin Enforcement for Preference Optimization (arXiv:2602.02383), Eq. 5-10 with the length-averaged Δ of Appendix A.',
  inputs: PAIRWISE_INPUTS,
  params: SLIME_PARAMS,
  presets: {
    paper: { description: 'The paper (Sec. 4.1): λw 0.1, λl 0.1, λd 1, δ 1.25, m_h 1.5, m_s 1, κ 2.5, p 2.5.', values: {} },
    'trl-slime-config': {
      description: 'trl-slime SlimeConfig defaults: λw 0.8, λl 0.0005, δ 0.5, value-derived rejected mask (3× loss factor not reproduced).',
      values: { lambdaW: 0.8, lambdaL: 0.0005, delta: 0.5, rejectedMaskFromValues: true },
    },
    'trl-slime-script': {
      description:
        'trl-slime scripts/slime/train.py: λw 0.1, λl 0.0005, δ 1.25, value-derived rejected mask, per-sequence stabilizer (one sequence per device; 3× loss factor not reproduced).',
      values: { lambdaW: 0.1, lambdaL: 0.0005, delta: 1.25, rejectedMaskFromValues: true, tokenReduction: 'sequence' },
    },
    'ablation-no-anchor': {
      description: 'Paper Table 4, w/o chosen term: the paper defaults without L_w.',
      values: { useChosenTerm: false },
    },
    'ablation-no-stabilizer': {
      description: 'Paper Table 4, w/o rejected term: the paper defaults without L_l.',
      values: { useRejectedTerm: false },
    },
    'ablation-no-hard-margin': {
      description: 'Paper Table 4, w/o hard margin: L_d = λd·mean σ(−κ(Δ − m_s)).',
      values: { useHardMargin: false },
    },
    'ablation-no-soft-margin': {
      description: 'Paper Table 4, w/o soft distance margin: L_d = λd·mean relu(m_h − Δ).',
      values: { useSoftMargin: false },
    },
  },
  metrics: [...PAIR_METRIC_NAMES, 'loss/anchor', 'loss/stabilizer', 'loss/margin'],
  stateful: false,
  forward(ctx, inputs, params) {
    const { ops } = ctx;
    const chosen = sequenceMean(ops, inputs.chosen);
    const rejected = sequenceMean(ops, inputs.rejected);
    const gap = ops.sub(chosen, rejected);
    const zeroRows = ops.zerosLike(chosen);

    const anchorRows = params.useChosenTerm ? ops.mul(chosen, -params.lambdaW) : zeroRows;
    const marginRows = ops.mul(dualMargin(ctx, gap, params), params.lambdaD);
    const stabilizer = params.useRejectedTerm ? stabilizerTerm(ctx, inputs.rejected, params) : { rows: zeroRows, loss: ops.scalar(0) };
    const stabilizerRows = ops.mul(stabilizer.rows, params.lambdaL);

    const anchor = ctx.batchMean(anchorRows);
    const margin = ctx.batchMean(marginRows);
    const stabilizerLoss = ops.mul(stabilizer.loss, params.lambdaL);
    const loss = ops.add(ops.add(anchor, stabilizerLoss), margin);

    const metrics = pairMetrics(ctx, { chosen, rejected }, { chosen, rejected });
    metrics['loss/anchor'] = ops.stopGradient(anchor);
    metrics['loss/stabilizer'] = ops.stopGradient(stabilizerLoss);
    metrics['loss/margin'] = ops.stopGradient(margin);
    const perExample = ops.stopGradient(ops.add(ops.add(anchorRows, stabilizerRows), marginRows));
    return { loss, metrics, perExample };
  },
});

/** `relu(m_h − Δ) · σ(−κ(Δ − m_s))` per pair, with either factor dropped by its ablation switch. */
function dualMargin(ctx: ForwardContext, gap: Tensor, params: SlimeParams): Tensor {
  const { ops } = ctx;
  const hinge = ops.relu(ops.sub(params.hardMargin, gap));
  const gate = ops.sigmoid(ops.mul(ops.sub(gap, params.softMargin), -params.kappa));
  if (params.useHardMargin && params.useSoftMargin) return ops.mul(hinge, gate);
  if (params.useHardMargin) return hinge;
  if (params.useSoftMargin) return gate;
  return ops.zerosLike(gap);
}

/**
 * The unweighted stabilizer: `rows` is each pair's share (the batch value on every row for
 * `batch`, the sequence mean for `sequence`) and `loss` the term itself, so `mean(rows) = loss`.
 * Counted tokens: the mask, minus tokens with log-prob exactly 0 under `rejectedMaskFromValues`.
 * A row (or batch) with no counted token contributes 0.
 */
function stabilizerTerm(ctx: ForwardContext, seq: SequenceTensors, params: SlimeParams): { rows: Tensor; loss: Tensor } {
  const { ops } = ctx;
  const counted = params.rejectedMaskFromValues ? ops.where(ops.equal(seq.logps, 0), 0, seq.mask) : seq.mask;
  // Masked-out values are arbitrary: select them away before any arithmetic so they cannot
  // produce inf/NaN in the penalty or its gradient.
  const logps = ops.where(counted, seq.logps, 0);
  const penalty = ops.where(counted, ops.pow(ops.softplus(ops.sub(ops.neg(logps), params.delta)), params.p), 0);
  if (params.tokenReduction === 'sequence') {
    const rows = ops.div(ops.sum(penalty, 1), ops.maximum(ops.sum(counted, 1), 1));
    return { rows, loss: ctx.batchMean(rows) };
  }
  // One token mean over every worker's rejected tokens; max(count, 1) only matters when no token
  // is counted anywhere (then the numerator is 0 too).
  const loss = ops.div(ctx.allReduceSum(ops.sum(penalty)), ops.maximum(ctx.allReduceSum(ops.sum(counted)), 1));
  return { rows: ops.broadcastTo(loss, [seq.rows]), loss };
}
