import type { Tensor, TensorOps } from '@pref/core';
import type { DpoLossType } from './dpo-params';

/** Per-pair quantities `[B]` every loss type is written with. */
export interface PairTerms {
  /** Policy sums `S_w`, `S_l` (LD-weighted when `ldAlpha` is set). */
  readonly policyChosen: Tensor;
  readonly policyRejected: Tensor;
  /** Reference sums `R_w`, `R_l` (0 when `referenceFree`). */
  readonly referenceChosen: Tensor;
  readonly referenceRejected: Tensor;
  /** Log-ratios `r = S − R`. */
  readonly logRatioChosen: Tensor;
  readonly logRatioRejected: Tensor;
  /** f-divergence scores `s = f′(e^r)` (`s = r` for reverse KL). */
  readonly scoreChosen: Tensor;
  readonly scoreRejected: Tensor;
  /** Completion lengths `n_w`, `n_l`. */
  readonly lengthChosen: Tensor;
  readonly lengthRejected: Tensor;
}

export interface PairLossSettings {
  readonly beta: number;
  readonly labelSmoothing: number;
  readonly discopopTau: number;
}

/** `−(1−ε)·logσ(z) − ε·logσ(−z)`: the Bradley-Terry loss with label smoothing ε (cDPO). */
export function smoothedSigmoidLoss(ops: TensorOps, z: Tensor, epsilon: number): Tensor {
  const preferred = ops.neg(ops.logSigmoid(z));
  if (epsilon === 0) return preferred;
  return ops.sub(ops.mul(preferred, 1 - epsilon), ops.mul(ops.logSigmoid(ops.neg(z)), epsilon));
}

/**
 * The per-pair loss `[B]` of one loss type (`sft` is not per pair; the caller adds it). For
 * `aot`/`aot_unpaired` entry k belongs to the k-th smallest sorted difference, not to pair k.
 */
export function pairLoss(ops: TensorOps, type: Exclude<DpoLossType, 'sft'>, terms: PairTerms, settings: PairLossSettings): Tensor {
  const { beta, labelSmoothing: eps, discopopTau: tau } = settings;
  const scoreMargin = ops.sub(terms.scoreChosen, terms.scoreRejected);
  const z = () => ops.mul(scoreMargin, beta);
  const normalizedMargin = () =>
    ops.sub(ops.div(terms.scoreChosen, terms.lengthChosen), ops.div(terms.scoreRejected, terms.lengthRejected));
  const negLogSigmoid = (x: Tensor) => ops.neg(ops.logSigmoid(x));
  switch (type) {
    case 'sigmoid':
      return smoothedSigmoidLoss(ops, z(), eps);
    case 'hinge':
      return ops.relu(ops.sub(1, z()));
    case 'ipo':
      return ops.square(ops.sub(normalizedMargin(), 1 / (2 * beta)));
    case 'sigmoid_norm':
      return negLogSigmoid(ops.mul(normalizedMargin(), beta));
    case 'robust': {
      const zz = z();
      const numerator = ops.add(ops.mul(negLogSigmoid(zz), 1 - eps), ops.mul(ops.logSigmoid(ops.neg(zz)), eps));
      return ops.div(numerator, 1 - 2 * eps);
    }
    case 'exo_pair': {
      const zz = z();
      const forward = ops.mul(ops.sigmoid(zz), ops.sub(ops.logSigmoid(zz), Math.log1p(-eps)));
      const backward = ops.mul(ops.sigmoid(ops.neg(zz)), ops.sub(ops.logSigmoid(ops.neg(zz)), Math.log(eps)));
      return ops.add(forward, backward);
    }
    case 'nca_pair': {
      const chosen = ops.mul(terms.scoreChosen, beta);
      const rejected = ops.mul(terms.scoreRejected, beta);
      const pushDown = ops.add(ops.logSigmoid(ops.neg(chosen)), ops.logSigmoid(ops.neg(rejected)));
      return ops.sub(negLogSigmoid(chosen), ops.mul(pushDown, 0.5));
    }
    case 'bco_pair':
      return ops.sub(negLogSigmoid(ops.mul(terms.scoreChosen, beta)), ops.logSigmoid(ops.neg(ops.mul(terms.scoreRejected, beta))));
    case 'sppo_hard': {
      const target = 1 / (2 * beta);
      return ops.add(ops.square(ops.sub(terms.scoreChosen, target)), ops.square(ops.add(terms.scoreRejected, target)));
    }
    case 'apo_zero':
      return ops.add(ops.sub(1, ops.sigmoid(ops.mul(terms.logRatioChosen, beta))), ops.sigmoid(ops.mul(terms.logRatioRejected, beta)));
    case 'apo_down':
      return ops.add(ops.sigmoid(ops.mul(terms.logRatioChosen, beta)), ops.sub(1, ops.sigmoid(z())));
    case 'discopop': {
      // −logσ(x)·(1 − σ(x/τ)) + e^{−x}·σ(x/τ), with e^{−x}·σ(x/τ) = exp(−x + logσ(x/τ)) (no overflow).
      const x = z();
      const scaled = ops.div(x, tau);
      const logistic = ops.mul(ops.softplus(ops.neg(x)), ops.sigmoid(ops.neg(scaled)));
      const exponential = ops.exp(ops.sub(ops.logSigmoid(scaled), x));
      return ops.add(logistic, exponential);
    }
    case 'aot': {
      const policy = ops.sort(ops.sub(terms.policyChosen, terms.policyRejected), 0);
      const reference = ops.sort(ops.sub(terms.referenceChosen, terms.referenceRejected), 0);
      return smoothedSigmoidLoss(ops, ops.mul(ops.sub(policy, reference), beta), eps);
    }
    case 'aot_unpaired': {
      const chosen = ops.sort(terms.logRatioChosen, 0);
      const rejected = ops.sort(terms.logRatioRejected, 0);
      return smoothedSigmoidLoss(ops, ops.mul(ops.sub(chosen, rejected), beta), eps);
    }
  }
}
