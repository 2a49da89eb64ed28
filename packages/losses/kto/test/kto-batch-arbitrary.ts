import fc from 'fast-check';
import { sequenceArbitrary } from '@pref/testing';

/** A KTO batch of `rows` unpaired completions on the log-prob path, with mismatched-pair sums. */
export function ktoBatchArbitrary(rows: number) {
  const rowValues = (min: number, max: number) => fc.array(fc.double({ min, max, noNaN: true }), { minLength: rows, maxLength: rows });
  return fc
    .record({
      completion: sequenceArbitrary({ rows, minLogp: -5 }),
      refLogps: rowValues(-30, -0.01),
      desirable: fc.array(fc.constantFrom(0, 1), { minLength: rows, maxLength: rows }),
      klLogps: rowValues(-30, -0.01),
      klRefLogps: rowValues(-30, -0.01),
    })
    .map(({ completion, ...rest }) => ({ logps: completion.logps, mask: completion.mask, ...rest }));
}

export type KtoBatch = {
  logps: number[][];
  mask: number[][];
  refLogps: number[];
  desirable: number[];
  klLogps: number[];
  klRefLogps: number[];
};
