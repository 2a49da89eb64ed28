import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_PROPERTY_SEED, propertySeed } from '../src/property-seed';

describe('property seed', () => {
  it('every property test runs from the fixed seed (or PREF_PROPERTY_SEED) set up for the project', () => {
    expect(fc.readConfigureGlobal().seed).toBe(propertySeed());
    expect(propertySeed({})).toBe(DEFAULT_PROPERTY_SEED);
    expect(propertySeed({ PREF_PROPERTY_SEED: '-17' })).toBe(-17);
    expect(() => propertySeed({ PREF_PROPERTY_SEED: 'abc' })).toThrow(/PREF_PROPERTY_SEED must be an integer/);
  });

  it('the same seed draws the same values, and a failure names the seed and path to replay', () => {
    const draw = () => fc.sample(fc.integer(), { numRuns: 5, seed: propertySeed() });
    expect(draw()).toEqual(draw());
    let message = '';
    try {
      fc.assert(fc.property(fc.integer({ min: 0, max: 1000 }), (n) => n < 500));
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(new RegExp(`seed: ${propertySeed()}, path: "[\\d:]+"`));
  });
});
