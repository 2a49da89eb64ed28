import type { Tensor, TensorOps } from '@pref/core';
import type { FDivergence } from './dpo-params';

/** Exponent cap of the alpha-divergence score (TRL's float32/bfloat16 value). */
export const ALPHA_DIVERGENCE_EXPONENT_CAP = 80;

/**
 * The f-DPO score `s = f′(u)` of a log-ratio `r = log u = S − S_ref` (Wang et al. 2023, "Beyond
 * Reverse KL", Table 1; TRL's parameterization). With `constants` (TRL 1.13, the default):
 * `reverse_kl` `s = r` · `forward_kl` `s = 1 − e^{−r}` · `js_divergence` `s = log 2 + logσ(r)` ·
 * `alpha_divergence` `s = (e^{min((α−1)·r, 80)} − 1) / (α−1)` (`s = r` when |α − 1| < 1e-6).
 * Without them (earlier TRL): `−e^{−r}`, `logσ(r)`, `e^{min((α−1)·r, 80)} / (α−1)`. The constants
 * cancel in `s_w − s_l` but not once each side is divided by its length (`ipo`, `sigmoid_norm`).
 */
export function fDivergenceScore(ops: TensorOps, logRatio: Tensor, divergence: FDivergence, alpha: number, constants = true): Tensor {
  switch (divergence) {
    case 'reverse_kl':
      return logRatio;
    case 'forward_kl': {
      const decay = ops.exp(ops.neg(logRatio));
      return constants ? ops.sub(1, decay) : ops.neg(decay);
    }
    case 'js_divergence': {
      const score = ops.logSigmoid(logRatio);
      return constants ? ops.add(score, Math.LN2) : score;
    }
    case 'alpha_divergence': {
      if (Math.abs(alpha - 1) < 1e-6) return logRatio;
      const exponent = ops.minimum(ops.mul(logRatio, alpha - 1), ALPHA_DIVERGENCE_EXPONENT_CAP);
      const power = constants ? ops.expm1(exponent) : ops.exp(exponent);
      return ops.div(power, alpha - 1);
    }
  }
}
