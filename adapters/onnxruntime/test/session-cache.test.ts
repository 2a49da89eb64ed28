import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { valueAndGrad } from '@pref/core';
import { pairBatchArbitrary } from '@pref/testing';
import { simpo } from '@pref/simpo';
import { createOnnxruntimeBackend } from '../src';

const options = { sessionOptions: { intraOpNumThreads: 1 } };

function logitsBatch(rows: number, steps: number, vocab: number, seed: number) {
  let state = seed;
  const next = () => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648;
  const side = () => ({
    logits: { data: Float32Array.from({ length: rows * steps * vocab }, () => next() * 6 - 3), shape: [rows, steps, vocab] },
    labels: Array.from({ length: rows }, () =>
      Array.from({ length: steps }, (_, t) => (t === steps - 1 && steps > 1 ? -100 : Math.floor(next() * vocab))),
    ),
  });
  const chosen = side();
  const rejected = side();
  return { chosenLogits: chosen.logits, chosenLabels: chosen.labels, rejectedLogits: rejected.logits, rejectedLabels: rejected.labels };
}

describe('compiled sessions are cached by graph structure', () => {
  it('repeated calls with the same structure and new data or parameter values reuse one session (fast-check)', async () => {
    const backend = await createOnnxruntimeBackend(options);
    let calls = 0;
    // Sequences of one step make core skip a broadcast (a different structure): see the next test.
    const batches = pairBatchArbitrary(3, { maxSteps: 7 }).filter((b) => b.chosenMask[0].length > 1 && b.rejectedMask[0].length > 1);
    await fc.assert(
      fc.asyncProperty(batches, fc.double({ min: 0.5, max: 4, noNaN: true }), async (batch, beta) => {
        const result = await valueAndGrad(simpo, batch, { beta, gamma: 0.5 }, { backend });
        calls++;
        expect(Number.isFinite(result.loss)).toBe(true);
      }),
      { numRuns: 15 },
    );
    expect(calls).toBe(15);
    expect(backend.sessionRuns).toBe(15);
    expect(backend.sessionsCreated).toBe(1);
  });

  it('new batch, sequence and vocabulary sizes reuse the session (symbolic dimensions)', async () => {
    const backend = await createOnnxruntimeBackend(options);
    const sizes = [
      [2, 3, 5],
      [4, 3, 5],
      [2, 7, 5],
      [3, 4, 11],
      [5, 6, 17],
      [2, 3, 5],
    ];
    const losses = [];
    for (const [k, [rows, steps, vocab]] of sizes.entries()) {
      const result = await valueAndGrad(simpo, logitsBatch(rows, steps, vocab, (k % 5) + 1), {}, { backend });
      expect(result.grads.chosenLogits.shape).toEqual([rows, steps, vocab]);
      losses.push(result.loss);
    }
    expect(new Set(losses).size).toBe(sizes.length - 1); // different data, the last repeats the first
    expect(backend.sessionRuns).toBe(sizes.length);
    expect(backend.sessionsCreated).toBe(1);
  });

  it('a size-1 sequence, where core itself skips a broadcast, compiles one more session that is then reused', async () => {
    const backend = await createOnnxruntimeBackend(options);
    for (const steps of [3, 1, 4, 1, 2]) await valueAndGrad(simpo, logitsBatch(2, steps, 5, steps), {}, { backend });
    expect(backend.sessionRuns).toBe(5);
    expect(backend.sessionsCreated).toBe(2);
  });

  it('a different structure compiles a new session, and the cache keeps both', async () => {
    const backend = await createOnnxruntimeBackend(options);
    const batch = { chosenLogps: [[-1, -2]], chosenMask: [[1, 1]], rejectedLogps: [[-3, -1]], rejectedMask: [[1, 1]] };
    await valueAndGrad(simpo, batch, { lossType: 'sigmoid' }, { backend });
    await valueAndGrad(simpo, batch, { lossType: 'hinge' }, { backend });
    await valueAndGrad(simpo, batch, { lossType: 'sigmoid' }, { backend });
    await valueAndGrad(simpo, batch, { lossType: 'hinge' }, { backend });
    expect(backend.sessionsCreated).toBe(2);
    expect(backend.cachedSessions).toBe(2);
  });

  it('evicts the least recently used session beyond maxCachedSessions', async () => {
    const backend = await createOnnxruntimeBackend({ ...options, maxCachedSessions: 1 });
    const x = () => backend.fromHost([1, 2, 3], [3]);
    await backend.read([backend.unary('exp', x())]);
    await backend.read([backend.unary('log', x())]);
    await backend.read([backend.unary('exp', x())]);
    expect(backend.sessionsCreated).toBe(3);
    expect(backend.cachedSessions).toBe(1);
    await backend.releaseSessions();
    expect(backend.cachedSessions).toBe(0);
  });
});

describe('steady state: one graph, one session and no new output buffers over repeated calls', () => {
  const shape = [2, 6, 50];
  it('50 same-shaped valueAndGrad calls build one graph and, with reuseOutputs, allocate output buffers once', async () => {
    const backend = await createOnnxruntimeBackend({ ...options, reuseOutputs: true });
    const batch = logitsBatch(2, 6, 50, 3);
    const chosen = batch.chosenLogits.data;
    let afterFirst = 0;
    let previousLoss = Number.NaN;
    for (let call = 0; call < 50; call++) {
      // The caller rewrites the logits in place between calls and must get the new numbers.
      for (let i = 0; i < chosen.length; i++) chosen[i] = Math.sin(i * 0.37 + call);
      const result = await valueAndGrad(simpo, batch, {}, { backend });
      expect(result.grads.chosenLogits.shape).toEqual(shape);
      expect(result.loss).not.toBe(previousLoss);
      previousLoss = result.loss;
      if (call === 0) afterFirst = backend.outputBytesAllocated;
    }
    expect(backend.sessionsCreated).toBe(1);
    expect(backend.sessionRuns).toBe(50);
    expect(afterFirst).toBeGreaterThan(2 * 6 * 50 * 4 * 2); // both logits gradients
    expect(backend.outputBytesAllocated).toBe(afterFirst);
  });

  it("reused outputs hold the latest call's values; fresh outputs (the default) are new arrays each call", async () => {
    const reusing = await createOnnxruntimeBackend({ ...options, reuseOutputs: true });
    const fresh = await createOnnxruntimeBackend(options);
    const first = logitsBatch(2, 6, 50, 4);
    const second = logitsBatch(2, 6, 50, 5);
    const a = await valueAndGrad(simpo, first, {}, { backend: reusing });
    const kept = Float32Array.from(a.grads.chosenLogits.data);
    const b = await valueAndGrad(simpo, second, {}, { backend: reusing });
    const expected = await valueAndGrad(simpo, second, {}, { backend: fresh });
    expect(Array.from(b.grads.chosenLogits.data)).toEqual(Array.from(expected.grads.chosenLogits.data));
    expect(Array.from(kept)).not.toEqual(Array.from(b.grads.chosenLogits.data));
    const again = await valueAndGrad(simpo, first, {}, { backend: fresh });
    expect(again.grads.chosenLogits.data).not.toBe(expected.grads.chosenLogits.data);
    expect(Array.from(again.grads.chosenLogits.data)).toEqual(Array.from(kept));
    expect(fresh.outputBytesAllocated).toBeGreaterThan(2 * reusing.outputBytesAllocated * 0.9);
  });

  it('new shapes get new buffers once, then reuse them', async () => {
    const backend = await createOnnxruntimeBackend({ ...options, reuseOutputs: true });
    const x = (n: number) =>
      backend.fromHost(
        Float32Array.from({ length: n }, (_, i) => i / n),
        [n],
      );
    await backend.read([backend.unary('exp', x(4))]);
    await backend.read([backend.unary('exp', x(4))]);
    expect(backend.outputBytesAllocated).toBe(16);
    const [five] = await backend.read([backend.unary('exp', x(5))]);
    Array.from(five).forEach((value, i) => expect(value).toBeCloseTo(Math.exp(i / 5), 6));
    await backend.read([backend.unary('exp', x(5))]);
    expect(backend.outputBytesAllocated).toBe(36);
    expect(backend.sessionsCreated).toBe(1);
  });
});
