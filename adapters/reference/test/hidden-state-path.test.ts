import { describe, expect, it } from 'vitest';
import { createReferenceBackend } from '@pref/adapter-reference';
import { valueAndGrad, type Batch } from '@pref/core';
import { installedObjectives, worstMismatch } from '@pref/testing';

const { objectives } = await installedObjectives();
const simpo = objectives['simpo'];

/** A SimPO pair batch on the hidden-state path, deterministic. */
function hiddenBatch(
  rows: number,
  steps: number,
  size: number,
  vocab: number,
  head: { bias?: boolean; softcap?: number; logitScale?: number } = {},
): Batch {
  let s = 7;
  const next = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
  const labels = () =>
    Array.from({ length: rows * steps }, (_, i) =>
      i % steps === steps - 1 && i % 3 === 0 ? -100 : Math.floor(((next() + 1) / 2) * vocab),
    );
  return {
    chosenHidden: { data: Float64Array.from({ length: rows * steps * size }, next), shape: [rows, steps, size] },
    chosenLabels: { data: labels(), shape: [rows, steps] },
    rejectedHidden: { data: Float64Array.from({ length: rows * steps * size }, next), shape: [rows, steps, size] },
    rejectedLabels: { data: labels(), shape: [rows, steps] },
    lmHead: {
      weight: { data: Float64Array.from({ length: vocab * size }, next), shape: [vocab, size] },
      ...(head.bias ? { bias: { data: Float64Array.from({ length: vocab }, next), shape: [vocab] } } : {}),
      ...(head.softcap ? { softcap: head.softcap } : {}),
      ...(head.logitScale ? { logitScale: head.logitScale } : {}),
    },
  };
}

/** Central differences of the loss with respect to one float array inside the batch. */
async function centralDifferences(batch: Batch, values: Float64Array, step = 1e-6): Promise<Float64Array> {
  const backend = createReferenceBackend({ kernels: 'js' });
  const grad = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    values[i] = x + step;
    const plus = (await valueAndGrad(simpo, batch, {}, { backend })).loss;
    values[i] = x - step;
    const minus = (await valueAndGrad(simpo, batch, {}, { backend })).loss;
    values[i] = x;
    grad[i] = (plus - minus) / (2 * step);
  }
  return grad;
}

describe.skipIf(!simpo)('hidden-state path on the reference backend (skipped when @pref/simpo is not installed)', () => {
  for (const kernels of ['js', 'wasm'] as const) {
    it(`gradients for hidden, weight and bias match central differences (${kernels}, softcap, logitScale, ignored labels)`, async () => {
      const batch = hiddenBatch(2, 3, 3, 13, { bias: true, softcap: 4, logitScale: 0.8 });
      const backend = createReferenceBackend({ kernels });
      const result = await valueAndGrad(simpo, batch, {}, { backend, lmHead: { chunkSize: 5 } });
      const head = batch['lmHead'] as { weight: { data: Float64Array }; bias: { data: Float64Array } };
      const checks: [string, Float64Array][] = [
        ['chosenHidden', (batch['chosenHidden'] as { data: Float64Array }).data],
        ['rejectedHidden', (batch['rejectedHidden'] as { data: Float64Array }).data],
        ['lmHead.weight', head.weight.data],
        ['lmHead.bias', head.bias.data],
      ];
      for (const [name, values] of checks) {
        const fd = await centralDifferences(batch, values);
        const got = result.grads[name as keyof typeof result.grads];
        expect(got, name).toBeDefined();
        expect(worstMismatch(got.data, fd, 1e-5, 1e-8), name).toBeLessThanOrEqual(1);
      }
    });
  }

  it('rejects a head without hidden inputs, a hidden size that differs from the head, and a bad chunk size', async () => {
    const backend = createReferenceBackend({ kernels: 'js' });
    const batch = hiddenBatch(2, 2, 3, 5);
    const { chosenHidden: _h, chosenLabels: _l, rejectedHidden: _r, rejectedLabels: _rl, ...headOnly } = batch;
    await expect(
      valueAndGrad(
        simpo,
        { ...headOnly, chosenLogps: [[-1]], chosenMask: [[1]], rejectedLogps: [[-1]], rejectedMask: [[1]] },
        {},
        { backend },
      ),
    ).rejects.toThrow(/lmHead goes with hidden-state inputs/);
    await expect(
      valueAndGrad(simpo, { ...batch, lmHead: { weight: { data: new Float64Array(10), shape: [5, 2] } } }, {}, { backend }),
    ).rejects.toThrow(/hidden size 3 but lmHead.weight is \[5, 2\]/);
    await expect(valueAndGrad(simpo, batch, {}, { backend, lmHead: { chunkSize: 0 } })).rejects.toThrow(
      /lmHead.chunkSize must be a positive integer/,
    );
    const { lmHead: _head, ...noHead } = batch;
    await expect(valueAndGrad(simpo, noHead, {}, { backend })).rejects.toThrow(/missing input lmHead/);
  });

  it('memory: logits of 256 MiB (float64) never exist; peak growth (arena and RSS) stays under a quarter of that', async () => {
    // Each side [2, 256] with H 4 and V 65536: its logits would be 512 × 65536 × 8 B = 256 MiB (and the gradient as much).
    const rows = 2,
      steps = 256,
      size = 4,
      vocab = 65536;
    const logitsBytes = rows * steps * vocab * 8;
    const backend = createReferenceBackend({ kernels: 'wasm' });
    const batch = hiddenBatch(rows, steps, size, vocab);
    // A small call first starts the kernels (their arena and threads) outside the measurement.
    await valueAndGrad(simpo, hiddenBatch(2, 4, size, 64), {}, { backend });
    (globalThis as { gc?: () => void }).gc?.();
    const rssBefore = process.memoryUsage().rss;
    const reservedBefore = backend.linearArenaStats()!.reservedBytes;
    let peakRss = rssBefore;
    const timer = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 2);
    const result = await valueAndGrad(simpo, batch, {}, { backend });
    clearInterval(timer);
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    const arena = backend.linearArenaStats()!;
    expect(Number.isFinite(result.loss)).toBe(true);
    expect(result.grads['lmHead.weight'].data.length).toBe(vocab * size);
    expect(arena.peakBytesInUse, 'arena peak bytes in use').toBeLessThan(logitsBytes / 4);
    // The arena's memory is part of the process's RSS: each growth on its own stays under a quarter.
    expect(arena.reservedBytes - reservedBefore, 'arena growth').toBeLessThan(logitsBytes / 4);
    expect(peakRss - rssBefore, 'peak RSS growth').toBeLessThan(logitsBytes / 4);
  }, 120_000);
});
