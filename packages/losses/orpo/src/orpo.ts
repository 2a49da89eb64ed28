import {
  defineObjective,
  PAIRWISE_INPUTS,
  pairMetrics,
  sequenceMean,
  tokenMeanNll,
  PAIR_METRIC_NAMES,
  defineParams,
  type InputSchema,
  type ParamsOf,
} from '@pref/core';
import { log1mexp } from './log1mexp';

/** orpo's hyperparameters, resolved: derived from {@link ORPO_PARAMS} (see {@link orpo}). */
export type OrpoParams = ParamsOf<typeof ORPO_PARAMS>;

/** orpo's parameter schema, written once: the parameter type, defaults, docs table and CLI help derive from it. */
export const ORPO_PARAMS = defineParams({
  beta: { kind: 'number', default: 0.1, min: 0, symbol: 'β', description: 'Weight of the odds-ratio term (λ of the paper).' },
});

/** What orpo reads: the pair, and optionally the tokens of the NLL term when they differ from `chosenMask`. */
export const ORPO_INPUTS = {
  ...PAIRWISE_INPUTS,
  chosenNll: {
    kind: 'tokens',
    name: 'chosenNllMask',
    sequence: 'chosen',
    optional: true,
    values: 'binary',
    description:
      'Tokens of the NLL term [B, Tc] (0/1; default chosenMask), separate from the tokens of the odds ratio: TRL counts prompt + completion ' +
      '(prompt tokens here, completion tokens in chosenMask). Log-probs at its positions must be valid log-probs; they are checked only where chosenMask is 1.',
  },
} as const satisfies InputSchema;

/**
 * **ORPO** — Hong, Lee, Thorne, "ORPO: Monolithic Preference Optimization without Reference
 * Model" (EMNLP 2024, arXiv:2403.07691), Section 3: `L_ORPO = L_SFT + λ·L_OR`,
 * `L_OR = −logσ(log(odds(y_w)/odds(y_l)))`, `odds(y) = P(y)/(1 − P(y))` with `P(y) = exp(A)`.
 *
 * With length-averaged log-probs `A = Σ_t m·l / Σ_t m`:
 * `log_odds = (A_w − A_l) − (log1mexp(A_w) − log1mexp(A_l))`, `log1mexp(x) = log(1 − eˣ)` (stable,
 * see {@link log1mexp}); loss `= NLL(chosen) − β·mean_b logσ(log_odds)`, NLL = token mean over
 * the chosen tokens of the batch given by `chosenNllMask` (default `chosenMask`). TRL's NLL
 * covers prompt + completion while its odds ratio covers the completion: give the prompt and
 * completion tokens in `chosenNllMask` and the completion tokens in `chosenMask` to reproduce it.
 *
 * Metrics: rewards `β·A`, `logps/*` = mean `A`, `nll_loss`, `log_odds_ratio` = mean logσ(log_odds),
 * `log_odds_chosen` = mean log_odds. `perExample`: the per-pair odds term `−β·logσ(log_odds)` (the NLL
 * is a batch token mean, not per pair).
 *
 * Parameters: {@link ORPO_PARAMS} (the table in `docs/objectives/orpo.md` is rendered from it).
 */
export const orpo = defineObjective({
  id: 'orpo',
  title: 'ORPO',
  summary: 'Reference-free NLL on the chosen completions plus a log-odds-ratio preference term.',
  reference: 'Hong, Lee, Thorne. ORPO: Monolithic Preference Optimization without Reference Model. EMNLP 2024 (arXiv:2403.07691), Sec. 3.',
  inputs: ORPO_INPUTS,
  params: ORPO_PARAMS,
  presets: {},
  metrics: [...PAIR_METRIC_NAMES, 'nll_loss', 'log_odds_ratio', 'log_odds_chosen'],
  stateful: false,
  forward(ctx, inputs, params) {
    const { ops } = ctx;
    const chosen = sequenceMean(ops, inputs.chosen);
    const rejected = sequenceMean(ops, inputs.rejected);
    const logOdds = ops.sub(ops.sub(chosen, rejected), ops.sub(log1mexp(ops, chosen), log1mexp(ops, rejected)));
    const ratio = ops.logSigmoid(logOdds);
    const nllMask = inputs.chosenNll;
    const nll = nllMask
      ? ops.neg(
          ops.div(
            ctx.allReduceSum(ops.sum(ops.where(nllMask, inputs.chosen.logps, 0))),
            ops.maximum(ctx.allReduceSum(ops.sum(nllMask)), 1),
          ),
        )
      : tokenMeanNll(ctx, inputs.chosen);
    const loss = ops.sub(nll, ops.mul(ctx.batchMean(ratio), params.beta));
    const metrics = pairMetrics(
      ctx,
      { chosen: ops.mul(chosen, params.beta), rejected: ops.mul(rejected, params.beta) },
      { chosen, rejected },
    );
    metrics['nll_loss'] = ops.stopGradient(nll);
    metrics['log_odds_ratio'] = ctx.batchMean(ops.stopGradient(ratio));
    metrics['log_odds_chosen'] = ctx.batchMean(ops.stopGradient(logOdds));
    return { loss, metrics, perExample: ops.mul(ratio, -params.beta) };
  },
});
