import { describe, expect, it } from 'vitest';
import { simulateCollectives, sliceBatchRows } from '../src';

describe('simulateCollectives', () => {
  it('sums over every worker, round after round', async () => {
    const workers = simulateCollectives(3);
    const round = (values: number[][]) => Promise.all(workers.map((w, r) => w.allReduceSum(Float64Array.from(values[r]))));
    const first = await round([
      [1, 2],
      [10, 20],
      [100, 200],
    ]);
    for (const sum of first) expect(Array.from(sum)).toEqual([111, 222]);
    const second = await round([[1], [1], [1]]);
    expect(second.map((s) => s[0])).toEqual([3, 3, 3]);
  });
});

describe('sliceBatchRows', () => {
  it('cuts every row-indexed input and keeps the rest', () => {
    const sliced = sliceBatchRows(
      {
        a: [
          [1, 2],
          [3, 4],
          [5, 6],
        ],
        b: [7, 8, 9],
        c: [[0]],
      },
      3,
      1,
      3,
    );
    expect(sliced.a).toEqual({ data: [3, 4, 5, 6], shape: [2, 2] });
    expect(sliced.b).toEqual({ data: [8, 9], shape: [2] });
    expect(sliced.c).toEqual([[0]]);
  });
});
