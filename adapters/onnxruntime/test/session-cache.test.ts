import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { valueAndGrad } from '@pref/core';
import { pairBatchArbitrary } from '@pref/testing';
import { simpo } from '@pref/simpo';
import { createOnnxruntimeBackend } from '../src';

const options = { sessionOptions: { intraOpNumThreads: 1 } };

function logitsBatch(rows: number, steps: number, vocab: number, seed: number) {
  let state = seed;
  const next = () => ((state = (state * 1103515245 + 12345) % 2147483648) / 2147483648);
  const side = () => ({
    logits: { data: Float32Array.from({ length: rows * steps * vocab }, () => next() * 6 - 3), shape: [rows, steps, vocab] },
    labels: Array.from({ length: rows }, () => Array.from({ length: steps }, (_, t) => (t === steps - 1 && steps > 1 ? -100 : Math.floor(next() * vocab)))),
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
    const sizes = [[2, 3, 5], [4, 3, 5], [2, 7, 5], [3, 4, 11], [5, 6, 17], [2, 3, 5]];
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
