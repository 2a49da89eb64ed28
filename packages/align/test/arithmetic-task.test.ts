import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { generateArithmeticTask, longestAnswer } from '../src/arithmetic-task';

const operands = (prompt: string) => prompt.slice(0, -1).split('+').map(Number);
const pairKey = (prompt: string) =>
  operands(prompt)
    .sort((a, b) => a - b)
    .join('+');

describe('arithmetic task', () => {
  it('is deterministic: the same seed gives the same data, another seed other data', () => {
    const a = generateArithmeticTask({ seed: 7 });
    expect(generateArithmeticTask({ seed: 7 })).toEqual(a);
    expect(generateArithmeticTask({ seed: 8 })).not.toEqual(a);
  });

  it('splits SFT, preference and held-out prompts disjointly, both orders of a sum together', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1_000_000 }), fc.integer({ min: 5, max: 40 }), (seed, maxOperand) => {
        const task = generateArithmeticTask({ seed, maxOperand, heldOutSize: 20 });
        const sft = new Set(task.sft.map((e) => pairKey(e.prompt)));
        const preference = new Set(task.preference.map((p) => pairKey(p.prompt)));
        const heldOut = new Set(task.heldOut.map((p) => pairKey(p.prompt)));
        for (const key of preference) expect(sft.has(key) || heldOut.has(key)).toBe(false);
        for (const key of heldOut) expect(sft.has(key)).toBe(false);
        const total = task.sft.length + task.preference.length + task.heldOut.length;
        expect(total).toBe((maxOperand + 1) ** 2);
      }),
      { numRuns: 20 },
    );
  });

  it('follows the 34% / 66% split of the training prompts', () => {
    const task = generateArithmeticTask({ seed: 1 });
    const share = task.sft.length / (task.sft.length + task.preference.length);
    expect(share).toBeGreaterThan(0.3);
    expect(share).toBeLessThan(0.38);
    expect(task.heldOut.length).toBeGreaterThanOrEqual(256);
  });

  it('pairs the correct sum with a near miss that differs by 1 or 10', () => {
    const task = generateArithmeticTask({ seed: 3, maxOperand: 49 });
    for (const pair of [...task.preference, ...task.heldOut]) {
      const [a, b] = operands(pair.prompt);
      expect(Number(pair.chosen)).toBe(a + b);
      expect([1, 10]).toContain(Math.abs(Number(pair.rejected) - (a + b)));
      expect(Number(pair.rejected)).toBeGreaterThanOrEqual(0);
      expect(pair.rejected.length).toBeLessThanOrEqual(longestAnswer(49));
    }
    for (const example of task.sft) {
      const [a, b] = operands(example.prompt);
      expect(Number(example.answer)).toBe(a + b);
    }
  });

  it('rejects bad options, naming them', () => {
    expect(() => generateArithmeticTask({ seed: 1, maxOperand: 1 })).toThrow(/maxOperand/);
    expect(() => generateArithmeticTask({ seed: 1, sftFraction: 1 })).toThrow(/sftFraction/);
    expect(() => generateArithmeticTask({ seed: 1, maxOperand: 5, heldOutSize: 1000 })).toThrow(/heldOutSize/);
  });
});
