import { afterAll, describe, expect, it } from 'vitest';
import { createCpuKernels, type CpuKernels } from '../src';
import { FloatOf, rng } from './helpers';

const made: CpuKernels[] = [];
afterAll(() => made.forEach((k) => k.dispose()));

/** max |x| of each row in plain TypeScript (NaN when the row holds one). */
function expected(data: ArrayLike<number>, rows: number, width: number): number[] {
  return Array.from({ length: rows }, (_, r) => {
    let m = 0;
    for (let i = r * width; i < (r + 1) * width; i++) m = Number.isNaN(data[i]) || Number.isNaN(m) ? NaN : Math.max(m, Math.abs(data[i]));
    return m;
  });
}

describe('rowMaxAbs: the host check scan', () => {
  for (const precision of [32, 64] as const) {
    for (const threads of [1, 2]) {
      it(`float${precision}, ${threads} thread(s): every row's max |x|, NaN and ±Infinity at any position (tails included)`, () => {
        const kernels = createCpuKernels({ precision, threads, sharedMemory: threads > 1 });
        made.push(kernels);
        const random = rng(precision * 10 + threads);
        for (const [rows, width] of [
          [1, 1],
          [3, 7],
          [17, 33],
          [64, 2048],
          [5, 40_000],
        ]) {
          const Float = FloatOf(precision);
          const data = kernels.arena.allocate('float', rows * width).view as InstanceType<typeof Float32Array> | Float64Array;
          for (let i = 0; i < data.length; i++) data[i] = (random() - 0.5) * 10;
          const specials = [NaN, Infinity, -Infinity, -1e30, 3e38];
          for (let r = 0; r < rows; r += 2) data[r * width + Math.floor(random() * width)] = specials[r % specials.length];
          const got = kernels.rowMaxAbs(data, rows, width);
          const want = expected(data, rows, width);
          expect(Array.from(got), `${rows} × ${width}`).toEqual(want);
          // A plain array (outside the arena) is copied in and gives the same answer.
          expect(Array.from(kernels.rowMaxAbs(Float.from(data), rows, width))).toEqual(want);
        }
      });
    }
  }

  it('rejects a bad shape and a wrong array type', () => {
    const kernels = createCpuKernels({ precision: 32, threads: 1 });
    made.push(kernels);
    expect(() => kernels.rowMaxAbs(new Float32Array(4), 2, 0)).toThrow(/rows and width/);
    expect(() => kernels.rowMaxAbs(new Float32Array(4), 3, 2)).toThrow(/has 4 elements, expected 6/);
    expect(() => kernels.rowMaxAbs(new Float64Array(4) as never, 2, 2)).toThrow(/Float32Array/);
  });
});
