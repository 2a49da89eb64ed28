import type { PrefBackend } from '@pref/core';
import type { UnaryOp } from '@pref/core/backend';
import { ReferenceBackend, type ReferenceTensor } from '@pref/adapter-reference';

/** How a deliberately broken backend gets things wrong. */
export type Breakage = 'none' | 'logits-gradient' | 'log-sigmoid' | 'throws';

/**
 * A reference backend (float64 or float32) with one primitive made wrong: the fused logits
 * gradient scaled by 1.01, `logSigmoid` off by 1e-3, or `tokenLogProbs` throwing.
 */
export function brokenBackend(breakage: Breakage, precision: 32 | 64 = 64): PrefBackend {
  const backend = new ReferenceBackend({ precision });
  const base = Object.getPrototypeOf(backend) as ReferenceBackend;
  return Object.assign(backend, {
    name: `broken(${breakage})`,
    tokenLogProbsGrad(
      logits: ReferenceTensor,
      labels: ReferenceTensor,
      logSumExp: ReferenceTensor,
      upstream: ReferenceTensor,
      ignoreIndex: number,
    ) {
      const grad = base.tokenLogProbsGrad.call(backend, logits, labels, logSumExp, upstream, ignoreIndex);
      if (breakage === 'logits-gradient') grad.data.forEach((v, i) => (grad.data[i] = v * 1.01));
      return grad;
    },
    unary(op: UnaryOp, x: ReferenceTensor) {
      const y = base.unary.call(backend, op, x);
      if (breakage === 'log-sigmoid' && op === 'logSigmoid') y.data.forEach((v, i) => (y.data[i] = v + 1e-3));
      return y;
    },
    tokenLogProbs(logits: ReferenceTensor, labels: ReferenceTensor, ignoreIndex: number) {
      if (breakage === 'throws') throw new Error('broken backend: tokenLogProbs is not available');
      return base.tokenLogProbs.call(backend, logits, labels, ignoreIndex);
    },
  });
}
