import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { PrefBackend } from '@pref/core';
import type { WebGpuBackend } from '../src';
import { startWebGpu } from './web-gpu-under-test';
import { expectSameAsReference } from './compare-backends';

const IGNORE = -100;
const SHAPES = [[3, 4, 1], [2, 3, 3], [2, 5, 4], [1, 3, 255], [2, 2, 257], [3, 1000], [2, 9001], [2, 20000]];
const variants = [
  { name: 'subgroups', options: {}, shapes: SHAPES },
  { name: 'shared-memory reduction', options: { subgroups: false }, shapes: SHAPES },
  // Several row chunks per call, each bound at an aligned offset with a shift (rows of 1200 bytes, 1004 bytes, ...).
  { name: 'chunked rows (maxBindingBytes 8 KiB)', options: { maxBindingBytes: 8192 }, shapes: [[4, 5, 300], [3, 7, 251], [9, 1000], [40, 3]] },
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

async function expectTokenKernelsMatch(backend: PrefBackend, shape: readonly number[], seed: number, fresh = false) {
  const vocab = shape[shape.length - 1];
  const rowShape = shape.slice(0, -1);
  const rows = rowShape.reduce((a, b) => a * b, 1);
  const { logits, labels, upstream } = tokenCase(rows, vocab, seed);
  await expectSameAsReference(backend, (b) => b.tokenLogProbs(b.fromHost(logits, shape), b.fromHostInt(labels, rowShape), IGNORE));
  await expectSameAsReference(backend, (b) => {
    const x = b.fromHost(logits, shape);
    const y = b.fromHostInt(labels, rowShape);
    // With a forward first, the gradient kernel reuses its saved log-sum-exp; `fresh` recomputes it.
    if (!fresh) b.dispose(b.tokenLogProbs(x, y, IGNORE));
    return b.tokenLogProbsGrad(x, y, b.fromHost(upstream, rowShape), IGNORE);
  }, 1e-4, 1e-6);
}

const suite = unavailable ? describe.skip : describe;
suite(unavailable ? `fused token log-probs (skipped: ${unavailable})` : 'fused token log-probs', () => {
  for (const { name, backend, shapes } of backends) {
    describe(name, () => {
      it('matches the reference at V = 1, odd V, V not a multiple of the workgroup, and V past workgroup storage', async () => {
        for (const shape of shapes) {
          await expectTokenKernelsMatch(backend, shape, shape.length + shape[shape.length - 1]);
          await expectTokenKernelsMatch(backend, shape, 3, true);
        }
      });

      it('matches the reference on random shapes (fast-check)', async () => {
        await fc.assert(
          fc.asyncProperty(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 700 }), fc.nat(1000), fc.boolean(), async (n, t, v, seed, fresh) => {
            await expectTokenKernelsMatch(backend, [n, t, v], seed, fresh);
          }),
          { numRuns: 12 },
        );
      });
    });
  }

  it('dispatches rows past one workgroup dimension in 2D (66,000 rows)', async () => {
    await expectTokenKernelsMatch(backends[0].backend, [66_000, 1], 1, true);
  });

  it('reports a label outside the vocabulary as an error, not as a number', async () => {
    const { backend } = backends[0];
    const logits = backend.fromHost([1, 2, 3, 4, 5, 6], [2, 3]);
    const out = backend.tokenLogProbs(logits, backend.fromHostInt(Int32Array.from([1, 3]), [2]), IGNORE);
    await expect(backend.read([out])).rejects.toThrow(/label is outside \[0, vocabulary size\)/);
    const fine = backend.tokenLogProbs(logits, backend.fromHostInt(Int32Array.from([1, IGNORE]), [2]), IGNORE);
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
