import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { median, quantileSorted, summarizeSamples } from '@pref/benchmarks';

describe('summarizeSamples', () => {
  it('gives the median of odd and even samples', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([7])).toBe(7);
  });

  it('gives quartiles by linear interpolation (NumPy default) and the IQR', () => {
    const s = summarizeSamples([4, 2, 1, 3]);
    expect(s).toMatchObject({ count: 4, min: 1, max: 4, median: 2.5, mean: 2.5, q1: 1.75, q3: 3.25, iqr: 1.5 });
    expect(quantileSorted([10, 20, 30, 40, 50], 0.25)).toBe(20);
    expect(quantileSorted([10, 20], 0.9)).toBeCloseTo(19, 12);
  });

  it('rejects empty and non-finite samples and bad quantiles', () => {
    expect(() => summarizeSamples([])).toThrow(/empty/);
    expect(() => summarizeSamples([1, Number.NaN])).toThrow(/finite/);
    expect(() => quantileSorted([1], 1.5)).toThrow(/\[0, 1\]/);
  });

  it('is order-free and ordered min ≤ q1 ≤ median ≤ q3 ≤ max', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 40 }), (values) => {
        const s = summarizeSamples(values);
        const reversed = summarizeSamples([...values].reverse());
        expect(reversed.median).toBe(s.median);
        expect(s.min).toBeLessThanOrEqual(s.q1);
        expect(s.q1).toBeLessThanOrEqual(s.median);
        expect(s.median).toBeLessThanOrEqual(s.q3);
        expect(s.q3).toBeLessThanOrEqual(s.max);
        const sorted = [...values].sort((a, b) => a - b);
        const n = sorted.length;
        const brute = n % 2 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
        expect(s.median).toBeCloseTo(brute, 6);
      }),
      { numRuns: 30 },
    );
  });
});
