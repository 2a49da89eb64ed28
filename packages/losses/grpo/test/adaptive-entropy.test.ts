import { describe, expect, it } from 'vitest';
import { appliedEntropyCoef, nextAdaptiveEntropy } from '../src';

describe('adaptive entropy control (TRL use_adaptive_entropy)', () => {
  it('applies nothing before the first step, then moves the coefficient by delta within its bounds', () => {
    let state = { entropyCoef: 0.01, lastWorldEntropy: Infinity };
    expect(appliedEntropyCoef(state)).toBe(0);
    state = nextAdaptiveEntropy(state, 0.1); // at or below the 0.2 target: up by 0.005
    expect(state.entropyCoef).toBeCloseTo(0.015, 15);
    expect(appliedEntropyCoef(state)).toBeCloseTo(0.015, 15);
    state = nextAdaptiveEntropy(state, 0.5); // above: down, and not applied
    expect(state.entropyCoef).toBeCloseTo(0.01, 15);
    expect(appliedEntropyCoef(state)).toBe(0);
    expect(nextAdaptiveEntropy({ entropyCoef: 0.002, lastWorldEntropy: 1 }, 1).entropyCoef).toBe(0);
    expect(nextAdaptiveEntropy({ entropyCoef: 0.999, lastWorldEntropy: 0 }, 0).entropyCoef).toBe(1);
    const custom = { entropyCoefMin: 0.1, entropyCoefMax: 0.2, entropyCoefDelta: 0.05, entropyTarget: 2 };
    expect(nextAdaptiveEntropy({ entropyCoef: 0.12, lastWorldEntropy: 3 }, 3, custom).entropyCoef).toBe(0.1);
    expect(appliedEntropyCoef({ entropyCoef: 0.12, lastWorldEntropy: 1.5 }, custom)).toBe(0.12);
  });
});
