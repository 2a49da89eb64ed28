/** The adaptive entropy controller's state between optimizer steps. */
export interface AdaptiveEntropyState {
  /** The coefficient the controller holds (TRL's `entropy_coef`, moved each step). */
  readonly entropyCoef: number;
  /** The window-global mean entropy of the last step (`Infinity` before the first). */
  readonly lastWorldEntropy: number;
}

/** TRL `GRPOConfig`'s adaptive-entropy settings, with its defaults. */
export interface AdaptiveEntropyOptions {
  readonly entropyCoefMin?: number;
  readonly entropyCoefMax?: number;
  readonly entropyCoefDelta?: number;
  readonly entropyTarget?: number;
}

/**
 * Adaptive entropy control (Skywork-OR1, He et al. 2025, arXiv:2505.22312; TRL
 * `use_adaptive_entropy`), as a host-side step between `grpo` calls. Start from
 * `{ entropyCoef: <initial>, lastWorldEntropy: Infinity }`; for each optimizer step pass
 * {@link appliedEntropyCoef}`(state)` as `grpo`'s `entropyCoef` (the coefficient applies only while
 * the last step's entropy was at or below the target), then call `nextAdaptiveEntropy(state, H)`
 * with `H` the step's mean entropy over the tokens the bonus acted on (all workers, all
 * micro-batches): the coefficient rises by `entropyCoefDelta` (up to `entropyCoefMax`) when
 * `H ≤ entropyTarget`, else falls (down to `entropyCoefMin`). Defaults 0, 1, 0.005, 0.2 (TRL's).
 */
export function nextAdaptiveEntropy(
  state: AdaptiveEntropyState,
  worldEntropy: number,
  options: AdaptiveEntropyOptions = {},
): AdaptiveEntropyState {
  const { entropyCoefMin = 0, entropyCoefMax = 1, entropyCoefDelta = 0.005, entropyTarget = 0.2 } = options;
  const entropyCoef =
    worldEntropy <= entropyTarget
      ? Math.min(state.entropyCoef + entropyCoefDelta, entropyCoefMax)
      : Math.max(state.entropyCoef - entropyCoefDelta, entropyCoefMin);
  return { entropyCoef, lastWorldEntropy: worldEntropy };
}

/** The `entropyCoef` to pass to `grpo` for the next step: the held coefficient, or 0 while the entropy is above the target. */
export function appliedEntropyCoef(state: AdaptiveEntropyState, options: AdaptiveEntropyOptions = {}): number {
  return state.lastWorldEntropy <= (options.entropyTarget ?? 0.2) ? state.entropyCoef : 0;
}
