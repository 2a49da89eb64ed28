import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { meanInterval, pairedDifference, studentTCdf, studentTQuantile } from '../src/seed-statistics';
import { parseSeedList } from '../src/seed-list';

describe('Student t', () => {
  it('gives the tabulated two-sided 95% quantiles t(0.975, df)', () => {
    const table: [number, number][] = [
      [1, 12.7062],
      [2, 4.3027],
      [3, 3.1824],
      [4, 2.7764],
      [5, 2.5706],
      [9, 2.2622],
      [30, 2.0423],
      [1000, 1.9623],
    ];
    for (const [df, t] of table) expect(studentTQuantile(0.975, df)).toBeCloseTo(t, 3);
  });

  it('its CDF is symmetric and inverts the quantile', () => {
    expect(studentTCdf(0, 3)).toBeCloseTo(0.5, 12);
    fc.assert(
      fc.property(fc.double({ min: 0.01, max: 0.99, noNaN: true }), fc.integer({ min: 1, max: 50 }), (p, df) => {
        const t = studentTQuantile(p, df);
        expect(studentTCdf(t, df)).toBeCloseTo(p, 8);
        expect(studentTQuantile(1 - p, df)).toBeCloseTo(-t, 8);
      }),
      { numRuns: 50 },
    );
  });
});

describe('meanInterval', () => {
  it('is mean ± t(0.975, n − 1)·s/√n on known inputs', () => {
    const e = meanInterval([1, 2, 3, 4, 5]);
    const s = Math.sqrt(2.5);
    expect(e.mean).toBe(3);
    expect(e.std).toBeCloseTo(s, 12);
    expect(e.n).toBe(5);
    expect(e.low).toBeCloseTo(3 - (2.776445 * s) / Math.sqrt(5), 5);
    expect(e.high).toBeCloseTo(3 + (2.776445 * s) / Math.sqrt(5), 5);
    // Two seeds: t(0.975, 1) = 12.706; values 0.4 and 0.6: s = 0.1414, half-width 12.706 · 0.1 = 1.2706.
    const two = meanInterval([0.4, 0.6]);
    expect(two.mean).toBeCloseTo(0.5, 12);
    expect(two.high! - two.mean).toBeCloseTo(1.27062, 4);
  });

  it('has no interval for one seed, and a zero-width one for equal values', () => {
    expect(meanInterval([0.7])).toEqual({ mean: 0.7, low: null, high: null, std: null, n: 1 });
    const same = meanInterval([2, 2, 2]);
    expect([same.low, same.high, same.std]).toEqual([2, 2, 0]);
    expect(() => meanInterval([])).toThrow(/no values/);
  });
});

describe('pairedDifference', () => {
  it('counts the seeds that agree with the sign of the mean paired difference', () => {
    const p = pairedDifference([0.5, 0.6, 0.4, 0.7], [0.4, 0.5, 0.5, 0.6]);
    expect(p.differences.map((d) => Number(d.toFixed(12)))).toEqual([0.1, 0.1, -0.1, 0.1]);
    expect(p.difference.mean).toBeCloseTo(0.05, 12);
    expect(p.sign).toBe(1);
    expect(p.seedsAgreeing).toBe(3);
    expect(p.difference.n).toBe(4);
    const worse = pairedDifference([1, 2, 3], [2, 4, 3]);
    expect(worse.sign).toBe(-1);
    expect(worse.seedsAgreeing).toBe(2); // the third seed ties
    const tie = pairedDifference([1, 2], [1, 2]);
    expect([tie.sign, tie.seedsAgreeing]).toEqual([0, 2]);
  });

  it('is the interval of the differences, not of either side', () => {
    const objective = [0.61, 0.52, 0.7, 0.58, 0.66];
    const baseline = objective.map((v, i) => v - 0.02 - 0.001 * i);
    const p = pairedDifference(objective, baseline);
    expect(p.difference).toEqual(meanInterval(p.differences));
    expect(p.difference.low!).toBeGreaterThan(0);
    expect(p.seedsAgreeing).toBe(5);
    expect(() => pairedDifference([1, 2], [1])).toThrow(/one per seed/);
  });
});

describe('--seeds', () => {
  it('reads a count as seeds 1..N and a list as given', () => {
    expect(parseSeedList('5')).toEqual([1, 2, 3, 4, 5]);
    expect(parseSeedList('1')).toEqual([1]);
    expect(parseSeedList('1,2,3')).toEqual([1, 2, 3]);
    expect(parseSeedList(' 7, 11 ')).toEqual([7, 11]);
  });

  it('rejects bad lists, naming --seeds', () => {
    for (const text of ['0', 'five', '1,,2', '1.5', '1,1', '']) expect(() => parseSeedList(text)).toThrow(/seed/);
  });
});

describe('direction (summary.md)', () => {
  it('says lowers or raises only when the whole interval is on one side of 0', async () => {
    const { direction } = await import('../src/summary-markdown');
    expect(direction(meanInterval([-0.2, -0.3, -0.25]))).toMatch(/^lowers -0\.250 \[/);
    expect(direction(meanInterval([0.2, 0.3, 0.25]))).toMatch(/^raises \+0\.250 \[/);
    expect(direction(meanInterval([-0.2, 0.3, 0.1]))).toMatch(/^unclear /);
    expect(direction(meanInterval([-0.2]))).toBe('unclear (one seed: -0.200)');
  });
});
