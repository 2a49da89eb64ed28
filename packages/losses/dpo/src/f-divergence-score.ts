import type { Tensor, TensorOps } from '@pref/core';
import type { FDivergence } from './dpo-params';

/** Exponent cap of the alpha-divergence score (TRL HEAD's float32/bfloat16 value). */
export const ALPHA_DIVERGENCE_EXPONENT_CAP = 80;

/**
 * The f-DPO score `s = f′(u)` of a log-ratio `r = log u = S − S_ref`, constants dropped (Wang et
 * al. 2023, "Beyond Reverse KL", Table 1; TRL HEAD's parameterization):
 * `reverse_kl` `s = r` · `forward_kl` `s = −e^{−r}` · `js_divergence` `s = logσ(r)` ·
 * `alpha_divergence` `s = e^{min((α−1)·r, 80)} / (α−1)` (`s = r` when |α − 1| < 1e-6).
 */
export function fDivergenceScore(ops: TensorOps, logRatio: Tensor, divergence: FDivergence, alpha: number): Tensor {
  switch (divergence) {
    case 'reverse_kl':
      return logRatio;
    case 'forward_kl':
      return ops.neg(ops.exp(ops.neg(logRatio)));
    case 'js_divergence':
      return ops.logSigmoid(logRatio);
    case 'alpha_divergence': {
      if (Math.abs(alpha - 1) < 1e-6) return logRatio;
      const exponent = ops.minimum(ops.mul(logRatio, alpha - 1), ALPHA_DIVERGENCE_EXPONENT_CAP);
      return ops.div(ops.exp(exponent), alpha - 1);
    }
  }
}
