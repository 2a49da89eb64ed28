import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { LinearHeadOptions } from '@pref/core/backend';
import type { WebGpuBackend } from '../src';
import { startWebGpu } from './web-gpu-under-test';
import { worstMismatch } from './compare-backends';

const IGNORE = -100;
const started = await startWebGpu();
const unavailable = 'unavailable' in started ? started.unavailable : null;
const gpu = started as WebGpuBackend;
// A device whose bindings hold only 16 KiB: the default chunk size comes from that limit.
const smallStarted = unavailable ? null : await startWebGpu({ maxBindingBytes: 16384 });
const small = smallStarted as WebGpuBackend | null;
afterAll(() => {
  if (unavailable) return;
  gpu.destroy();
  small?.destroy();
});

interface HeadCase {
  readonly rows: number;
  readonly hiddenSize: number;
  readonly vocab: number;
  readonly hidden: Float32Array;
  readonly weight: Float32Array;
  readonly bias: Float32Array | null;
  readonly labels: Int32Array;
  readonly upstream: Float32Array;
}

function headCase(rows: number, hiddenSize: number, vocab: number, seed: number, withBias: boolean): HeadCase {
  const wave = (i: number, k: number) => Math.fround(Math.sin(seed * 1.37 + i * 12.9898 + k * 0.731) * 0.8);
  return {
    rows,
    hiddenSize,
    vocab,
    hidden: Float32Array.from({ length: rows * hiddenSize }, (_, i) => wave(i, 1)),
    weight: Float32Array.from({ length: vocab * hiddenSize }, (_, i) => wave(i, 2)),
    bias: withBias ? Float32Array.from({ length: vocab }, (_, i) => wave(i, 3)) : null,
    labels: Int32Array.from({ length: rows }, (_, r) => ((r + seed) % 4 === 3 ? IGNORE : (r * 7919 + seed * 31) % vocab)),
    upstream: Float32Array.from({ length: rows }, (_, r) => Math.fround(Math.cos(r + seed))),
  };
}

/** The logits path in float64 on the host: z = softcap(scale·(h·Wᵀ + b)), its log-probs and gradients. */
function expectedHead(c: HeadCase, options: LinearHeadOptions) {
  const { rows, hiddenSize: h, vocab } = c;
  const logps = new Float64Array(rows);
  const lse = new Float64Array(rows);
  const dHidden = new Float64Array(rows * h);
  const dWeight = new Float64Array(vocab * h);
  const dBias = new Float64Array(vocab);
  for (let r = 0; r < rows; r++) {
    const z = new Float64Array(vocab);
    const slope = new Float64Array(vocab);
    for (let v = 0; v < vocab; v++) {
      let pre = c.bias ? c.bias[v] : 0;
      for (let k = 0; k < h; k++) pre += c.hidden[r * h + k] * c.weight[v * h + k];
      const u = options.logitScale * pre;
      const cap = options.softcap;
      if (cap === null) {
        z[v] = u;
        slope[v] = options.logitScale;
      } else {
        const t = Math.tanh(u / cap);
        z[v] = cap * t;
        slope[v] = options.logitScale * (1 - t * t);
      }
    }
    const top = Math.max(...z);
    lse[r] = top + Math.log(z.reduce((s, x) => s + Math.exp(x - top), 0));
    const label = c.labels[r];
    if (label === options.ignoreIndex) continue;
    logps[r] = z[label] - lse[r];
    for (let v = 0; v < vocab; v++) {
      const g = c.upstream[r] * ((v === label ? 1 : 0) - Math.exp(z[v] - lse[r])) * slope[v];
      dBias[v] += g;
      for (let k = 0; k < h; k++) {
        dHidden[r * h + k] += g * c.weight[v * h + k];
        dWeight[v * h + k] += g * c.hidden[r * h + k];
      }
    }
  }
  return { logps, lse, dHidden, dWeight, dBias };
}

function expectClose(
  name: string,
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  rtol: number,
  atol: number,
  keep?: (i: number) => boolean,
) {
  const kept = (xs: ArrayLike<number>) => Array.from(xs).filter((_, i) => keep?.(i) ?? true);
  const mismatch = worstMismatch(kept(got), kept(want), rtol, atol);
  if (!(mismatch <= 1)) expect.fail(`${name} differs beyond tolerance (worst ${mismatch.toFixed(2)}×)`);
}

async function expectHeadMatches(backend: WebGpuBackend, c: HeadCase, options: LinearHeadOptions) {
  const want = expectedHead(c, options);
  const hidden = backend.fromHost(c.hidden, [c.rows, c.hiddenSize]);
  const weight = backend.fromHost(c.weight, [c.vocab, c.hiddenSize]);
  const bias = c.bias ? backend.fromHost(c.bias, [c.vocab]) : null;
  const labels = backend.fromHostInt(c.labels, [c.rows]);
  const upstream = backend.fromHost(c.upstream, [c.rows]);
  const { logps, logSumExp } = backend.linearTokenLogProbs(hidden, weight, bias, labels, options);
  const grads = backend.linearTokenLogProbsGrad(hidden, weight, bias, labels, logSumExp, upstream, options);
  expect(grads.hidden.shape).toEqual([c.rows, c.hiddenSize]);
  expect(grads.weight.shape).toEqual([c.vocab, c.hiddenSize]);
  expect(grads.bias?.shape ?? null).toEqual(c.bias ? [c.vocab] : null);
  const outputs = [logps, logSumExp, grads.hidden, grads.weight, ...(grads.bias ? [grads.bias] : [])];
  const got = await backend.read(outputs);
  [hidden, weight, labels, upstream, ...(bias ? [bias] : []), ...outputs].forEach((t) => backend.dispose(t));
  const kept = (r: number) => c.labels[r] !== options.ignoreIndex;
  for (let r = 0; r < c.rows; r++) if (!kept(r)) expect(got[0][r]).toBe(0);
  expectClose('logps', got[0], want.logps, 1e-4, 2e-5);
  expectClose('logSumExp', got[1], want.lse, 1e-4, 2e-5, kept);
  expectClose('dHidden', got[2], want.dHidden, 1e-3, 2e-5);
  expectClose('dWeight', got[3], want.dWeight, 1e-3, 2e-5);
  if (c.bias) expectClose('dBias', got[4], want.dBias, 1e-3, 2e-5);
}

const plain: LinearHeadOptions = { ignoreIndex: IGNORE, logitScale: 1, softcap: null };
const suite = unavailable ? describe.skip : describe;
suite(unavailable ? `hidden-state path (skipped: ${unavailable})` : 'hidden-state path', () => {
  it('equals the logits path for one chunk, with and without bias, several tiles in both directions', async () => {
    await expectHeadMatches(gpu, headCase(3, 5, 7, 1, true), plain);
    await expectHeadMatches(gpu, headCase(70, 33, 300, 2, false), plain);
    await expectHeadMatches(gpu, headCase(130, 80, 513, 3, true), plain);
  });

  it('equals the logits path when the chunk size does not divide V (1, 7, 63, 65, 100 rows per chunk)', async () => {
    for (const chunkSize of [1, 7, 63, 65, 100]) {
      await expectHeadMatches(gpu, headCase(9, 6, 201, chunkSize, true), { ...plain, chunkSize });
    }
  });

  it('equals the logits path with logit scale and final-logit softcapping', async () => {
    await expectHeadMatches(gpu, headCase(17, 12, 150, 4, true), { ...plain, logitScale: 2.5, softcap: 1.5, chunkSize: 40 });
    await expectHeadMatches(gpu, headCase(5, 64, 96, 5, false), { ...plain, logitScale: 0.5, softcap: 30 });
  });

  it('zeroes ignored rows (every row ignored, and an ignore index inside the vocabulary)', async () => {
    const allIgnored = { ...headCase(6, 4, 20, 6, true), labels: new Int32Array(6).fill(IGNORE) };
    await expectHeadMatches(gpu, allIgnored, plain);
    const ignoreInside = headCase(8, 4, 20, 7, true);
    await expectHeadMatches(
      gpu,
      { ...ignoreInside, labels: Int32Array.from(ignoreInside.labels, (l, r) => (r % 3 === 0 ? 2 : l === IGNORE ? 5 : l)) },
      { ...plain, ignoreIndex: 2 },
    );
  });

  it('picks a chunk size from the binding limit when none is given, and results do not change', async () => {
    expect(small!.linearChunkSize(4, 32, 1000)).toBe(64);
    await expectHeadMatches(small!, headCase(4, 32, 1000, 8, true), plain);
  });

  it('matches the logits path on random shapes and chunk sizes (fast-check)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 200 }),
        fc.integer({ min: 1, max: 90 }),
        fc.nat(1000),
        fc.boolean(),
        async (rows, hiddenSize, vocab, chunkSize, seed, withBias) => {
          await expectHeadMatches(gpu, headCase(rows, hiddenSize, vocab, seed, withBias), { ...plain, chunkSize });
        },
      ),
      { numRuns: 12, seed: 20261203 },
    );
  });

  it('rejects a chunk size that is not a positive integer, and flags a label outside the vocabulary', async () => {
    const c = headCase(2, 3, 4, 9, false);
    const hidden = gpu.fromHost(c.hidden, [2, 3]);
    const weight = gpu.fromHost(c.weight, [4, 3]);
    const labels = gpu.fromHostInt(Int32Array.of(1, 4), [2]);
    expect(() => gpu.linearTokenLogProbs(hidden, weight, null, labels, { ...plain, chunkSize: 0 })).toThrow(
      /chunkSize must be a positive integer, got 0/,
    );
    const { logps, logSumExp } = gpu.linearTokenLogProbs(hidden, weight, null, labels, plain);
    await expect(gpu.read([logps])).rejects.toThrow(/label is outside/);
    [hidden, weight, labels, logps, logSumExp].forEach((t) => gpu.dispose(t));
  });
});
