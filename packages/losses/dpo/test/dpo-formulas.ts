/**
 * The DPO family written again in plain float64 JavaScript, straight from the formulas of
 * `shared/spec/objectives.md` and reference-notes §4 (no TensorOps, no autodiff), so tests can
 * check the objective against an independent computation, modifiers included.
 */

export const logSigmoid = (x: number) => (x < 0 ? x - Math.log1p(Math.exp(x)) : -Math.log1p(Math.exp(-x)));
export const sigmoid = (x: number) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));
const softplus = (x: number) => -logSigmoid(-x);
const logSumExp = (xs: readonly number[]) => {
  const peak = Math.max(...xs);
  return peak + Math.log(xs.reduce((s, x) => s + Math.exp(x - peak), 0));
};

export interface FormulaBatch {
  chosenLogps?: number[][];
  chosenMask?: number[][];
  rejectedLogps?: number[][];
  rejectedMask?: number[][];
  chosenLogits?: number[][][];
  chosenLabels?: number[][];
  rejectedLogits?: number[][][];
  rejectedLabels?: number[][];
  refChosenLogps?: number[];
  refRejectedLogps?: number[];
  refChosenTokenLogps?: number[][];
  refRejectedTokenLogps?: number[][];
}

export interface FormulaParams {
  beta?: number;
  labelSmoothing?: number;
  lossType?: string | string[];
  lossWeights?: number[] | null;
  referenceFree?: boolean;
  discopopTau?: number;
  ldAlpha?: number | null;
  useWeighting?: boolean;
  fDivergence?: string;
  fAlphaCoef?: number;
  fDivergenceConstants?: boolean;
}

interface Side {
  logps: number[][];
  mask: number[][];
  /** log Σ_v p_t(v)² per token, on the logits path. */
  logSumSquares: number[][] | null;
}

function side(batch: FormulaBatch, name: 'chosen' | 'rejected'): Side {
  const logits = batch[`${name}Logits`];
  if (!logits) return { logps: batch[`${name}Logps`]!, mask: batch[`${name}Mask`]!, logSumSquares: null };
  const labels = batch[`${name}Labels`]!;
  const mask = labels.map((row) => row.map((label) => (label === -100 ? 0 : 1)));
  const logps = logits.map((row, b) => row.map((z, t) => (labels[b][t] === -100 ? 0 : z[labels[b][t]] - logSumExp(z))));
  const logSumSquares = logits.map((row) => row.map((z) => logSumExp(z.map((v) => 2 * v)) - 2 * logSumExp(z)));
  return { logps, mask, logSumSquares };
}

/** Per-token weights of LD-DPO for one row: 1 up to the common length, α after (completion-relative). */
function ldRowWeights(mask: number[], commonLength: number, alpha: number | null): number[] {
  let position = 0;
  return mask.map((m) => {
    if (!m) return 0;
    position++;
    return alpha === null || position <= commonLength ? 1 : alpha;
  });
}

function fScore(r: number, divergence: string, alpha: number, constants: boolean): number {
  switch (divergence) {
    case 'forward_kl':
      return (constants ? 1 : 0) - Math.exp(-r);
    case 'js_divergence':
      return (constants ? Math.LN2 : 0) + logSigmoid(r);
    case 'alpha_divergence':
      if (Math.abs(alpha - 1) < 1e-6) return r;
      return (constants ? Math.expm1(Math.min((alpha - 1) * r, 80)) : Math.exp(Math.min((alpha - 1) * r, 80))) / (alpha - 1);
    default:
      return r;
  }
}

export interface FormulaResult {
  loss: number;
  perExample: number[];
  sums: { chosen: number[]; rejected: number[]; refChosen: number[]; refRejected: number[] };
  wpoWeights: number[] | null;
  metrics: Record<string, number>;
}

/** Loss, per-pair values and metrics of `dpo` for `batch`, in float64. */
export function dpoByFormula(batch: FormulaBatch, params: FormulaParams = {}): FormulaResult {
  const beta = params.beta ?? 0.1;
  const eps = params.labelSmoothing ?? 0;
  const tau = params.discopopTau ?? 0.05;
  const types = typeof params.lossType === 'string' ? [params.lossType] : (params.lossType ?? ['sigmoid']);
  const weights = params.lossWeights ?? types.map(() => 1);
  const ldAlpha = params.ldAlpha ?? null;
  const chosen = side(batch, 'chosen');
  const rejected = side(batch, 'rejected');
  const rows = chosen.mask.length;
  const count = (mask: number[]) => mask.reduce((a, m) => a + m, 0);
  const nW = chosen.mask.map(count);
  const nL = rejected.mask.map(count);
  const tokenWeights = (s: Side, b: number) => ldRowWeights(s.mask[b], Math.min(nW[b], nL[b]), ldAlpha);
  const weightedSum = (values: number[], w: number[]) => values.reduce((a, v, t) => a + (w[t] ? w[t] * v : 0), 0);
  const sW = chosen.logps.map((row, b) => weightedSum(row, tokenWeights(chosen, b)));
  const sL = rejected.logps.map((row, b) => weightedSum(row, tokenWeights(rejected, b)));
  const reference = (tokens: number[][] | undefined, sums: number[] | undefined, s: Side) =>
    Array.from({ length: rows }, (_, b) => {
      if (params.referenceFree) return 0;
      if (tokens) return weightedSum(tokens[b], tokenWeights(s, b));
      return sums![b];
    });
  const rW = reference(batch.refChosenTokenLogps, batch.refChosenLogps, chosen);
  const rL = reference(batch.refRejectedTokenLogps, batch.refRejectedLogps, rejected);
  const ratioW = sW.map((s, b) => s - rW[b]);
  const ratioL = sL.map((s, b) => s - rL[b]);
  const divergence = params.fDivergence ?? 'reverse_kl';
  const fAlpha = params.fAlphaCoef ?? 0.5;
  const constants = params.fDivergenceConstants ?? true;
  const scoreW = ratioW.map((r) => fScore(r, divergence, fAlpha, constants));
  const scoreL = ratioL.map((r) => fScore(r, divergence, fAlpha, constants));
  const smoothed = (z: number) => -(1 - eps) * logSigmoid(z) - eps * logSigmoid(-z);
  const ascending = (xs: number[]) => [...xs].sort((a, b) => a - b);

  let tokenCount = 0;
  let nllSum = 0;
  chosen.logps.forEach((row, b) =>
    row.forEach((l, t) => {
      if (chosen.mask[b][t]) {
        tokenCount++;
        nllSum -= l;
      }
    }),
  );
  const nll = nllSum / tokenCount;

  const wpo = (s: Side, b: number) => {
    let total = 0;
    s.logps[b].forEach((l, t) => {
      if (s.mask[b][t]) total += l - s.logSumSquares![b][t];
    });
    return Math.exp(total / count(s.mask[b]));
  };
  const wpoWeights = params.useWeighting ? Array.from({ length: rows }, (_, b) => wpo(chosen, b) * wpo(rejected, b)) : null;

  const perType = (type: string): number[] => {
    if (type === 'aot') {
      const policy = ascending(sW.map((s, b) => s - sL[b]));
      const ref = ascending(rW.map((r, b) => r - rL[b]));
      return policy.map((p, k) => smoothed(beta * (p - ref[k])));
    }
    if (type === 'aot_unpaired') {
      const w = ascending(ratioW);
      const l = ascending(ratioL);
      return w.map((x, k) => smoothed(beta * (x - l[k])));
    }
    return Array.from({ length: rows }, (_, b) => {
      const z = beta * (scoreW[b] - scoreL[b]);
      const normalized = scoreW[b] / nW[b] - scoreL[b] / nL[b];
      switch (type) {
        case 'sigmoid':
          return smoothed(z);
        case 'hinge':
          return Math.max(0, 1 - z);
        case 'ipo':
          return (normalized - 1 / (2 * beta)) ** 2;
        case 'sigmoid_norm':
          return -logSigmoid(beta * normalized);
        case 'robust':
          return (-(1 - eps) * logSigmoid(z) + eps * logSigmoid(-z)) / (1 - 2 * eps);
        case 'exo_pair':
          return sigmoid(z) * (logSigmoid(z) - Math.log(1 - eps)) + sigmoid(-z) * (logSigmoid(-z) - Math.log(eps));
        case 'nca_pair':
          return -logSigmoid(beta * scoreW[b]) - 0.5 * logSigmoid(-beta * scoreW[b]) - 0.5 * logSigmoid(-beta * scoreL[b]);
        case 'bco_pair':
          return -logSigmoid(beta * scoreW[b]) - logSigmoid(-beta * scoreL[b]);
        case 'sppo_hard':
          return (scoreW[b] - 1 / (2 * beta)) ** 2 + (scoreL[b] + 1 / (2 * beta)) ** 2;
        case 'apo_zero':
          return 1 - sigmoid(beta * ratioW[b]) + sigmoid(beta * ratioL[b]);
        case 'apo_down':
          return sigmoid(beta * ratioW[b]) + 1 - sigmoid(z);
        case 'discopop': {
          const w = sigmoid(z / tau);
          return softplus(-z) * (1 - w) + Math.exp(-z) * w;
        }
        case 'sft':
          return nll;
        default:
          throw new Error(`no formula for ${type}`);
      }
    });
  };
  const perExample = new Array<number>(rows).fill(0);
  types.forEach((type, k) => {
    perType(type).forEach((v, b) => {
      perExample[b] += weights[k] * v * (wpoWeights ? wpoWeights[b] : 1);
    });
  });
  const mean = (xs: number[]) => xs.reduce((a, x) => a + x, 0) / xs.length;
  const rewardsW = ratioW.map((r) => beta * r);
  const rewardsL = ratioL.map((r) => beta * r);
  return {
    loss: mean(perExample),
    perExample,
    sums: { chosen: sW, rejected: sL, refChosen: rW, refRejected: rL },
    wpoWeights,
    metrics: {
      'rewards/chosen': mean(rewardsW),
      'rewards/rejected': mean(rewardsL),
      'rewards/margins': mean(rewardsW.map((r, b) => r - rewardsL[b])),
      'rewards/accuracies': mean(rewardsW.map((r, b) => (r > rewardsL[b] ? 1 : 0))),
      'logps/chosen': mean(sW),
      'logps/rejected': mean(sL),
    },
  };
}
