import {
  defineObjective,
  PAIRWISE_INPUTS,
  pairMetrics,
  sequenceLength,
  sequenceMean,
  type ForwardContext,
  type Tensor,
  PAIR_METRIC_NAMES,
  PrefParamError,
  defineParams,
  type ParamsOf,
} from '@pref/core';
import { lengthControlledMargin } from './length-controlled-margin';
import { LMPO_STATE_SCHEMA, updateRunningMoments, type RunningMoments } from './running-moments';

/** lmpo's hyperparameters, resolved: derived from {@link LMPO_PARAMS} (see {@link lmpo}). */
export type LmpoParams = ParamsOf<typeof LMPO_PARAMS>;

/** lmpo's parameter schema, written once: the parameter type, defaults, docs table and CLI help derive from it. */
export const LMPO_PARAMS = defineParams({
  beta: { kind: 'number', default: 2.0, min: 0, minExclusive: true, symbol: 'β', description: 'Reward scale.' },
  gamma: { kind: 'number', default: 1.0, symbol: 'γ', description: 'Target margin; the home advantage is h = e^γ.' },
  lambda: { kind: 'number', default: 0.2, min: 0, symbol: 'λ', description: 'Weight of the z-scored margin m̄.' },
  marginFunction: {
    kind: 'enum',
    values: ['power', 'log', 'sigmoid'],
    default: 'power',
    symbol: 'g',
    description: 'g(x), x = p_w − p_l: power 1 − x^k, log (1/α)·log((1−x)/(1+x)) + 0.5, sigmoid σ(−x/τ).',
  },
  marginExponent: {
    kind: 'number',
    default: 5,
    min: 0,
    minExclusive: true,
    symbol: 'k',
    description: 'Exponent of the power margin (3: cube ablation). Non-integer k uses sign(x)·|x|^k.',
  },
  marginAlpha: { kind: 'number', default: 1, min: 0, minExclusive: true, symbol: 'α', description: 'α of the log margin.' },
  marginTemperature: { kind: 'number', default: 1, min: 0, minExclusive: true, symbol: 'τ', description: 'τ of the sigmoid margin.' },
  marginScale: {
    kind: 'number',
    default: 1,
    min: 0,
    minExclusive: true,
    symbol: 's',
    description: 'Factor on m (the reference code halves it; with zero-initialized moments the z-score cancels it).',
  },
  lengthNormalization: { kind: 'boolean', default: true, description: 'p_y = exp(A_y·(n_w+n_l)/(2n_y)) (true) or exp(A_y) (false).' },
  zscore: { kind: 'enum', values: ['ema', 'none'], default: 'ema', description: 'Z-score m by running moments (ema) or not (none).' },
  emaDecay: { kind: 'number', default: 0.9, min: 0, max: 1, symbol: 'ρ', description: 'Decay of the running mean and std.' },
  emaInit: {
    kind: 'enum',
    values: ['first-batch', 'zero'],
    default: 'first-batch',
    description: "Initial running moments: the first batch's μ, s, or 0 (reference code, no bias correction).",
  },
  emaUpdate: {
    kind: 'enum',
    values: ['before', 'after'],
    default: 'before',
    description:
      'Normalize with a, b updated by this batch (before, reference code) or with the moments of past batches, updating after (after, paper Eq. 20-24).',
  },
  marginGradient: {
    kind: 'boolean',
    default: true,
    description: 'Gradient through m̄ with a, b constant (paper) or m̄ detached (reference code).',
  },
  eps: { kind: 'number', default: 1e-6, min: 0, minExclusive: true, symbol: 'ε', description: 'Floor of the running std b.' },
});

/**
 * **LMPO** — Li, Xia, Chang, Wu, "Length-Controlled Margin-Based Preference Optimization
 * without Reference Model" (arXiv:2502.14643), Eq. 3–11 and Appendix A.
 *
 * With length-averaged log-probs `A = Σ_t m·l / Σ_t m` and lengths `n`:
 * - `p_y = exp(A_y·(n_w + n_l)/(2·n_y))` (`lengthNormalization`; else `exp(A_y)`)
 * - `m = s·(1 − p_w)·g(p_w − p_l)` with `s` = `marginScale` and `g` = `1 − x^k` (`power`),
 *   `(1/α)·log((1−x)/(1+x)) + 0.5` (`log`) or `σ(−x/τ)` (`sigmoid`)
 * - z-score (`zscore: "ema"`): batch mean μ and unbiased std s of m over the whole batch (every
 *   worker), no gradient; `a ← ρa + (1−ρ)μ`, `b ← ρb + (1−ρ)s`; `m̄ = (m − a)/max(b, ε)` with the
 *   updated a, b (`emaUpdate: "before"`, reference code) or with the a, b passed in, updating after
 *   (`"after"`, the paper's Eq. 20–24). The first call starts at μ, s (`first-batch`) or at 0
 *   (`zero`, only with `before`). A global batch of one pair has no std: b keeps its value (b = 1
 *   when there is none yet).
 * - `d = β·(A_w − A_l) − λ·m̄`, per-pair loss `softplus(γ − d)` (= `−log(1/(1 + e^γ·e^{−d}))`), mean over pairs.
 *
 * `marginGradient` true: the gradient flows through m̄ (a, b constant); false: m̄ is detached (reference code).
 *
 * Stateful: the result's `state` `{ mean, std, steps }` (plain numbers; a, b and the number of
 * updates) goes back in as `valueAndGrad(..., { state })` on the next call; store it as JSON next
 * to the model checkpoint to resume. `zscore: "none"` returns no state.
 *
 * Metrics: rewards `β·A`, `logps/*` = mean `A`, `margin/mean` = mean m, `margin/zscore-mean` = mean m̄.
 *
 * Parameters: {@link LMPO_PARAMS} (the table in `docs/objectives/lmpo.md` is rendered from it).
 *
 * Presets: `mistral-base` (β 2.0, γ 1.6, λ 1.0), `mistral-instruct` (2.5, 0.25, 0.2), `llama3-base`
 * (2.0, 1.0, 0.2), `llama3-instruct` (2.5, 1.4, 0.2), `reference-code` (gengxuli/LMPO: margin
 * detached, zero-initialized moments, m halved, β 2.0, γ 1.0), and the ablations of the paper's
 * Table 2 on the defaults: `ablation-no-zscore`, `ablation-no-length-normalization`,
 * `ablation-log`, `ablation-cube`, `ablation-sigmoid`.
 */
export const lmpo = defineObjective({
  id: 'lmpo',
  title: 'LMPO',
  summary:
    'Reference-free preference loss on the length-averaged log-prob margin, shifted by a z-scored length-controlled margin with a home advantage e^γ.',
  reference:
    'Li, Xia, Chang, Wu. Length-Controlled Margin-Based Preference Optimization without Reference Model (arXiv:2502.14643), Eq. 3-11.',
  inputs: PAIRWISE_INPUTS,
  params: LMPO_PARAMS,
  presets: {
    'mistral-base': { description: 'Paper, Mistral-Base: β 2.0, γ 1.6, λ 1.0.', values: { beta: 2.0, gamma: 1.6, lambda: 1.0 } },
    'mistral-instruct': { description: 'Paper, Mistral-Instruct: β 2.5, γ 0.25, λ 0.2.', values: { beta: 2.5, gamma: 0.25, lambda: 0.2 } },
    'llama3-base': {
      description: 'Paper, Llama-3-Base (the defaults): β 2.0, γ 1.0, λ 0.2.',
      values: { beta: 2.0, gamma: 1.0, lambda: 0.2 },
    },
    'llama3-instruct': { description: 'Paper, Llama-3-Instruct: β 2.5, γ 1.4, λ 0.2.', values: { beta: 2.5, gamma: 1.4, lambda: 0.2 } },
    'reference-code': {
      description: 'gengxuli/LMPO trainer: margin detached, zero-initialized moments, m halved, β 2.0, γ 1.0 (γ/β 0.5).',
      values: { beta: 2.0, gamma: 1.0, lambda: 0.2, marginGradient: false, emaInit: 'zero', marginScale: 0.5 },
    },
    'ablation-no-zscore': {
      description: 'Paper Table 2, w/o Z-score normalization: m used as is (zscore none).',
      values: { zscore: 'none' },
    },
    'ablation-no-length-normalization': {
      description: 'Paper Table 2, w/o avg-length normalization: p_y = exp(A_y).',
      values: { lengthNormalization: false },
    },
    'ablation-log': {
      description: 'Paper Table 2, log function: g(x) = (1/α)·log((1−x)/(1+x)) + 0.5, α 1 (the paper gives no α).',
      values: { marginFunction: 'log' },
    },
    'ablation-cube': {
      description: 'Paper Table 2, cube function: g(x) = 1 − x³.',
      values: { marginFunction: 'power', marginExponent: 3 },
    },
    'ablation-sigmoid': {
      description: 'Paper Table 2, sigmoid function: g(x) = σ(−x/τ), τ 1 (the paper names it β and gives no value).',
      values: { marginFunction: 'sigmoid' },
    },
  },
  metrics: [...PAIR_METRIC_NAMES, 'margin/mean', 'margin/zscore-mean'],
  stateful: true,
  stateSchema: LMPO_STATE_SCHEMA,
  validateParams(params) {
    if (params.zscore === 'ema' && params.emaUpdate === 'after' && params.emaInit === 'zero') {
      throw new PrefParamError(
        'emaUpdate',
        'lmpo: emaUpdate "after" with emaInit "zero" would normalize the first batch by max(0, eps); use emaInit "first-batch" (the batch\'s own moments) or emaUpdate "before"',
      );
    }
  },
  forward(ctx, inputs, params, state) {
    const { ops } = ctx;
    const chosen = sequenceMean(ops, inputs.chosen);
    const rejected = sequenceMean(ops, inputs.rejected);
    const probabilities = params.lengthNormalization
      ? lengthNormalizedProbabilities(
          ctx,
          { chosen, rejected },
          { chosen: sequenceLength(ops, inputs.chosen), rejected: sequenceLength(ops, inputs.rejected) },
        )
      : { chosen: ops.exp(chosen), rejected: ops.exp(rejected) };
    const margin = ops.mul(lengthControlledMargin(ops, probabilities.chosen, probabilities.rejected, params), params.marginScale);

    let normalized = margin;
    let nextState: RunningMoments['state'] | undefined;
    if (params.zscore === 'ema') {
      const moments = updateRunningMoments(ctx, ops.stopGradient(margin), state, params);
      const used =
        params.emaUpdate === 'after' && moments.previous
          ? { mean: ops.scalar(moments.previous.mean), std: ops.scalar(moments.previous.std) }
          : moments;
      normalized = ops.div(ops.sub(margin, used.mean), ops.maximum(used.std, params.eps));
      nextState = moments.state;
    }
    const marginTerm = params.marginGradient ? normalized : ops.stopGradient(normalized);
    const d = ops.sub(ops.mul(ops.sub(chosen, rejected), params.beta), ops.mul(marginTerm, params.lambda));
    const perPair = ops.softplus(ops.sub(params.gamma, d));
    const loss = ctx.batchMean(perPair);

    const metrics = pairMetrics(
      ctx,
      { chosen: ops.mul(chosen, params.beta), rejected: ops.mul(rejected, params.beta) },
      { chosen, rejected },
    );
    metrics['margin/mean'] = ctx.batchMean(ops.stopGradient(margin));
    metrics['margin/zscore-mean'] = ctx.batchMean(ops.stopGradient(normalized));
    return { loss, metrics, perExample: ops.stopGradient(perPair), ...(nextState ? { state: nextState } : {}) };
  },
});

/** `p_y = exp(A_y·(n_w + n_l)/(2·n_y))` for both sides of each pair. */
function lengthNormalizedProbabilities(
  ctx: ForwardContext,
  averages: { readonly chosen: Tensor; readonly rejected: Tensor },
  lengths: { readonly chosen: Tensor; readonly rejected: Tensor },
): { chosen: Tensor; rejected: Tensor } {
  const { ops } = ctx;
  const meanLength = ops.div(ops.add(lengths.chosen, lengths.rejected), 2);
  return {
    chosen: ops.exp(ops.mul(averages.chosen, ops.div(meanLength, lengths.chosen))),
    rejected: ops.exp(ops.mul(averages.rejected, ops.div(meanLength, lengths.rejected))),
  };
}
