import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { PrefBackend } from '@pref/core';
import type { WebGpuBackend } from '../src';
import { startWebGpu } from './web-gpu-under-test';
import { worstMismatch } from './compare-backends';

const IGNORE = -100;
const SHAPES = [
  [3, 4, 1],
  [2, 3, 3],
  [2, 5, 4],
  [1, 3, 255],
  [2, 2, 257],
  [3, 1000],
  [2, 9001],
  [2, 20000],
];
const variants = [
  { name: 'subgroups', options: {}, shapes: SHAPES },
  { name: 'shared-memory reduction', options: { subgroups: false }, shapes: SHAPES },
  // Several row chunks per call, each bound at an aligned offset with a shift (rows of 1200 bytes, 1004 bytes, ...).
  {
    name: 'chunked rows (maxBindingBytes 8 KiB)',
    options: { maxBindingBytes: 8192 },
    shapes: [
      [4, 5, 300],
      [3, 7, 251],
      [9, 1000],
      [40, 3],
    ],
  },
] as const;

const backends: { name: string; backend: WebGpuBackend; shapes: readonly (readonly number[])[] }[] = [];
let unavailable: string | null = null;
for (const variant of variants) {
  const started = await startWebGpu(variant.options);
  if ('unavailable' in started) unavailable = started.unavailable;
  else backends.push({ name: variant.name, backend: started, shapes: variant.shapes });
}
afterAll(() => backends.forEach(({ backend }) => backend.destroy()));

/** Logits with a spread that makes the softmax neither flat nor one-hot; some labels ignored. */
function tokenCase(rows: number, vocab: number, seed: number) {
  const logits = Array.from({ length: rows * vocab }, (_, i) => Math.fround(Math.sin(i * 12.9898 + seed) * 4 + ((i * 7) % 5)));
  const labels = Int32Array.from({ length: rows }, (_, r) => ((r + seed) % 5 === 4 ? IGNORE : (r * 7919 + seed) % vocab));
  const upstream = Array.from({ length: rows }, (_, r) => Math.fround(Math.cos(r + seed)));
  return { logits, labels, upstream };
}

/** Float64 log-probs, row log-sum-exps and gradient of `tokenCase` (ignored rows: 0, 0, zero row). */
function expectedTokenValues(rows: number, vocab: number, { logits, labels, upstream }: ReturnType<typeof tokenCase>) {
  const logps = new Float64Array(rows);
  const lse = new Float64Array(rows);
  const grad = new Float64Array(rows * vocab);
  for (let r = 0; r < rows; r++) {
    if (labels[r] === IGNORE) continue;
    const row = logits.slice(r * vocab, (r + 1) * vocab);
    const top = Math.max(...row);
    lse[r] = top + Math.log(row.reduce((s, v) => s + Math.exp(v - top), 0));
    logps[r] = row[labels[r]] - lse[r];
    for (let v = 0; v < vocab; v++) grad[r * vocab + v] = upstream[r] * ((v === labels[r] ? 1 : 0) - Math.exp(row[v] - lse[r]));
  }
  return { logps, lse, grad };
}

function expectClose(
  name: string,
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  rtol: number,
  atol: number,
  skip?: (i: number) => boolean,
) {
  const kept = (xs: ArrayLike<number>) => Array.from(xs).filter((_, i) => !skip?.(i));
  const mismatch = worstMismatch(kept(got), kept(want), rtol, atol);
  if (!(mismatch <= 1)) expect.fail(`${name} differs beyond tolerance (worst ${mismatch.toFixed(2)}×)`);
}

async function expectTokenKernelsMatch(backend: PrefBackend, shape: readonly number[], seed: number) {
  const vocab = shape[shape.length - 1];
  const rowShape = shape.slice(0, -1);
  const rows = rowShape.reduce((a, b) => a * b, 1);
  const data = tokenCase(rows, vocab, seed);
  const want = expectedTokenValues(rows, vocab, data);
  const x = backend.fromHost(data.logits, shape);
  const y = backend.fromHostInt(data.labels, rowShape);
  const up = backend.fromHost(data.upstream, rowShape);
  const { logps, logSumExp } = backend.tokenLogProbs(x, y, IGNORE);
  const grad = backend.tokenLogProbsGrad(x, y, logSumExp, up, IGNORE);
  expect(logps.shape).toEqual(rowShape);
  expect(logSumExp.shape).toEqual(rowShape);
  expect(grad.shape).toEqual(shape);
  const [gotLogps, gotLse, gotGrad] = await backend.read([logps, logSumExp, grad]);
  [x, y, up, logps, logSumExp, grad].forEach((t) => backend.dispose(t));
  const ignored = (r: number) => data.labels[r] === IGNORE;
  for (let r = 0; r < rows; r++) {
    if (ignored(r)) expect(gotLogps[r]).toBe(0);
    else expect(Number.isFinite(gotLse[r])).toBe(true);
  }
  expectClose('logps', gotLogps, want.logps, 1e-4, 1e-5);
  expectClose('logSumExp', gotLse, want.lse, 1e-5, 1e-5, ignored);
  expectClose('gradient', gotGrad, want.grad, 1e-4, 1e-6);
}

const suite = unavailable ? describe.skip : describe;
suite(unavailable ? `fused token log-probs (skipped: ${unavailable})` : 'fused token log-probs', () => {
  for (const { name, backend, shapes } of backends) {
    describe(name, () => {
      it('matches the reference at V = 1, odd V, V not a multiple of the workgroup, and V past workgroup storage', async () => {
        for (const shape of shapes) {
          await expectTokenKernelsMatch(backend, shape, shape.length + shape[shape.length - 1]);
          await expectTokenKernelsMatch(backend, shape, 3);
        }
      });

      it('matches the reference on random shapes (fast-check)', async () => {
        await fc.assert(
          fc.asyncProperty(
            fc.integer({ min: 1, max: 4 }),
            fc.integer({ min: 1, max: 6 }),
            fc.integer({ min: 1, max: 700 }),
            fc.nat(1000),
            async (n, t, v, seed) => {
              await expectTokenKernelsMatch(backend, [n, t, v], seed);
            },
          ),
          { numRuns: 12, seed: 20261203 },
        );
      });
    });
  }

  it('dispatches rows past one workgroup dimension in 2D (66,000 rows)', async () => {
    await expectTokenKernelsMatch(backends[0].backend, [66_000, 1], 1);
  });

  it('reports a label outside the vocabulary as an error, not as a number', async () => {
    const { backend } = backends[0];
    const logits = backend.fromHost([1, 2, 3, 4, 5, 6], [2, 3]);
    const out = backend.tokenLogProbs(logits, backend.fromHostInt(Int32Array.from([1, 3]), [2]), IGNORE).logps;
    await expect(backend.read([out])).rejects.toThrow(/label is outside \[0, vocabulary size\)/);
    const fine = backend.tokenLogProbs(logits, backend.fromHostInt(Int32Array.from([1, IGNORE]), [2]), IGNORE).logps;
    const [values] = await backend.read([fine]);
    expect(values[1]).toBe(0);
    expect(values[0]).toBeCloseTo(2 - Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3)), 5);
  });

  it('rejects a vocabulary whose single row exceeds the binding limit, naming the limit', async () => {
    const chunked = backends.find((b) => b.name.startsWith('chunked'))!.backend;
    const logits = chunked.fromHost(new Float32Array(4096), [1, 4096]);
    expect(() => chunked.tokenLogProbs(logits, chunked.fromHostInt(Int32Array.of(0), [1]), IGNORE)).toThrow(/maxStorageBufferBindingSize/);
  });
});
