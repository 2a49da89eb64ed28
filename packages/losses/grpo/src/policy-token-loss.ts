import type { Tensor, TensorOps } from '@pref/core';
import type { GrpoLossType } from './aggregate-token-losses';
import { clippedSurrogate } from './clipped-surrogate';
import { gammaWeights, type GammaWeightShape } from './gamma-weights';

/** What {@link policyTokenLoss} reads. Ratios and log-ratios are `[N, T]` (token level) or `[N, 1]` (sequence level). */
export interface PolicyTokenLossInputs {
  /** `ρ = exp(log-ratio)`, with gradient. */
  readonly ratio: Tensor;
  /** Current token log-probs `[N, T]` (0 at uncounted tokens), with gradient. */
  readonly logps: Tensor;
  /** Token log-ratios `l − l_old` `[N, T]` (VESPO's sequence weight sums them). */
  readonly tokenLogRatio: Tensor;
  readonly mask: Tensor;
  /** `[N, 1]`, detached. */
  readonly advantages: Tensor;
  /** Log of the sampler importance weights (VESPO folds them into its weight), or null. */
  readonly samplerLogWeights: Tensor | null;
}

/** The loss-type hyperparameters {@link policyTokenLoss} needs. */
export interface PolicyTokenLossOptions {
  readonly lossType: GrpoLossType;
  readonly epsilonLow: number;
  readonly epsilonHigh: number;
  readonly delta: number | null;
  readonly sapoTemperaturePos: number;
  readonly sapoTemperatureNeg: number;
  readonly vespo: GammaWeightShape;
}

/** The per-token policy loss and the loss type's own metrics (detached per-token or per-row values). */
export interface PolicyTokenLoss {
  readonly loss: Tensor;
  /** Clip indicators of the clipped family (`grpo`, `bnpo`, `dr_grpo`, `dapo`, `luspo`). */
  readonly clip?: { readonly low: Tensor; readonly high: Tensor };
  /** `cispo`: 1 where `ρ > ε_high` and `A > 0`. */
  readonly cispoClipped?: Tensor;
  /** `vespo`: the sequence weights `φ` `[N, 1]`. */
  readonly phi?: Tensor;
}

/**
 * The per-token policy loss of each TRL `loss_type`, before masking and aggregation:
 * - `grpo`, `bnpo`, `dr_grpo`, `dapo`, `luspo`: the clipped surrogate `−min(ρ̃A, clip(ρ)A)`;
 * - `cispo` (MiniMax-M1, arXiv 2506.13585): `−sg(min(ρ, ε_high))·A·l` (the ratio itself is clipped
 *   and detached, so every token keeps a gradient);
 * - `sapo` (Soft Adaptive Policy Optimization, arXiv 2511.20347): `−(4/τ)·σ(τ(ρ − 1))·A`, τ =
 *   `sapoTemperaturePos` when A > 0, else `sapoTemperatureNeg`;
 * - `vespo` (arXiv 2602.10693): `−φ·A·l` with VESPO's detached Gamma sequence weight φ.
 */
export function policyTokenLoss(ops: TensorOps, inputs: PolicyTokenLossInputs, options: PolicyTokenLossOptions): PolicyTokenLoss {
  const { ratio, logps, advantages } = inputs;
  switch (options.lossType) {
    case 'cispo': {
      const weight = ops.stopGradient(ops.minimum(ratio, options.epsilonHigh));
      const cispoClipped = ops.mul(ops.greater(ratio, options.epsilonHigh), ops.greater(advantages, 0));
      return { loss: ops.neg(ops.mul(ops.mul(weight, advantages), logps)), cispoClipped };
    }
    case 'sapo': {
      const temperature = ops.where(ops.greater(advantages, 0), options.sapoTemperaturePos, options.sapoTemperatureNeg);
      const gate = ops.div(ops.mul(ops.sigmoid(ops.mul(temperature, ops.sub(ratio, 1))), 4), temperature);
      return { loss: ops.neg(ops.mul(gate, advantages)) };
    }
    case 'vespo': {
      const phi = gammaWeights(ops, inputs.tokenLogRatio, inputs.mask, advantages, inputs.samplerLogWeights, options.vespo);
      return { loss: ops.neg(ops.mul(ops.mul(phi, advantages), logps)), phi };
    }
    default: {
      const surrogate = clippedSurrogate(ops, ratio, advantages, options.epsilonLow, options.epsilonHigh, options.delta);
      return { loss: surrogate.loss, clip: { low: surrogate.lowClipped, high: surrogate.highClipped } };
    }
  }
}
