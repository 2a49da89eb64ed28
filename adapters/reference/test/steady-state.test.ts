import { describe, expect, it } from 'vitest';
import { createReferenceBackend } from '@pref/adapter-reference';
import { PrefParamError, valueAndGrad, type Batch } from '@pref/core';
import { installedObjectives } from '@pref/testing';

const { objectives } = await installedObjectives();
const simpo = objectives['simpo'];

// [4, 32, 4096] float32 logits per side: 2 MiB each, so every logits-sized buffer counts as large.
const [ROWS, STEPS, VOCAB] = [4, 32, 4096];
const SHAPE = [ROWS, STEPS, VOCAB];
const SIZE = ROWS * STEPS * VOCAB;

/** Normwise error over the tolerance: max |a − e| / (rtol · max |e|) (≤ 1 passes). */
function normwise(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol: number): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    diff = Math.max(diff, Math.abs(actual[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return diff / (rtol * scale);
}

function labels(seed: number): { data: number[]; shape: number[] } {
  const data = Array.from({ length: ROWS * STEPS }, (_, i) => (i % STEPS === STEPS - 1 ? -100 : (i * 7919 + seed * 104729) % VOCAB));
  return { data, shape: [ROWS, STEPS] };
}

/** Deterministic logits for `call`, written in place. */
function fill(values: Float32Array | Float64Array, call: number): void {
  let s = 12345 + call * 977;
  for (let i = 0; i < values.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    values[i] = (s / 2 ** 32) * 8 - 4;
  }
}

describe.skipIf(!simpo)('steady state on the reference backend (skipped when @pref/simpo is not installed)', () => {
  const backend = createReferenceBackend({ precision: 32 });
  const oracle = createReferenceBackend({ precision: 64, kernels: 'js' });

  it('runs the WebAssembly kernels on tensors resident in their memory', () => {
    expect(backend.kernelName).toBe('wasm');
    expect(backend.arenaStats()).not.toBeNull();
  });

  it('50 calls with the same shapes create no large buffer and never grow the arena; logits rewritten in place give the new numbers', async () => {
    const chosenLogits = backend.allocate(SHAPE);
    const rejectedLogits = backend.allocate(SHAPE);
    const gradients = { chosenLogits: backend.allocate(SHAPE), rejectedLogits: backend.allocate(SHAPE) };
    const batch: Batch = {
      chosenLogits: { data: chosenLogits, shape: SHAPE },
      chosenLabels: labels(1),
      rejectedLogits: { data: rejectedLogits, shape: SHAPE },
      rejectedLabels: labels(2),
    };
    let before: { stats: ReturnType<typeof backend.stats>; arena: NonNullable<ReturnType<typeof backend.arenaStats>> } | null = null;
    const losses = new Set<number>();
    for (let call = 0; call < 50; call++) {
      fill(chosenLogits, 2 * call);
      fill(rejectedLogits, 2 * call + 1);
      const result = await valueAndGrad(simpo!, batch, {}, { backend, gradients });
      expect(result.grads.chosenLogits.data).toBe(gradients.chosenLogits);
      expect(result.grads.rejectedLogits.data).toBe(gradients.rejectedLogits);
      losses.add(result.loss);
      if (call === 0) before = { stats: backend.stats(), arena: backend.arenaStats()! };
      if (call % 10 === 9) {
        // The numbers follow the rewritten logits: equal to the float64 oracle on this call's values.
        const expected = await valueAndGrad(simpo!, batch, {}, { backend: oracle });
        expect(Math.abs(result.loss - expected.loss)).toBeLessThan(1e-4 * (1 + Math.abs(expected.loss)));
        for (const name of ['chosenLogits', 'rejectedLogits'] as const) {
          expect(normwise(result.grads[name].data, expected.grads[name].data, 1e-4), `${name} on call ${call}`).toBeLessThanOrEqual(1);
        }
      }
    }
    expect(losses.size).toBe(50);
    const after = { stats: backend.stats(), arena: backend.arenaStats()! };
    expect(after.stats.largeBufferAllocations - before!.stats.largeBufferAllocations).toBe(0);
    expect(after.stats.largeBufferBytes - before!.stats.largeBufferBytes).toBe(0);
    expect(after.arena.grows - before!.arena.grows).toBe(0);
    expect(after.arena.blocksCreated - before!.arena.blocksCreated).toBe(0);
    // Nothing logits-sized was copied in or out of the kernels' memory after the first call.
    expect(after.arena.stagedBytes - before!.arena.stagedBytes).toBeLessThan(SIZE);
  });

  it('host arrays are copied once into reused memory: no large buffer after the first call besides the returned gradients', async () => {
    const chosen = new Float32Array(SIZE);
    const rejected = new Float32Array(SIZE);
    const batch: Batch = {
      chosenLogits: { data: chosen, shape: SHAPE },
      chosenLabels: labels(3),
      rejectedLogits: { data: rejected, shape: SHAPE },
      rejectedLabels: labels(4),
    };
    const gradients = { chosenLogits: new Float32Array(SIZE), rejectedLogits: new Float32Array(SIZE) };
    fill(chosen, 1000);
    fill(rejected, 1001);
    await valueAndGrad(simpo!, batch, {}, { backend, gradients });
    const before = { stats: backend.stats(), arena: backend.arenaStats()! };
    for (let call = 0; call < 5; call++) {
      fill(chosen, 1002 + call);
      const result = await valueAndGrad(simpo!, batch, {}, { backend, gradients });
      expect(result.grads.chosenLogits.data).toBe(gradients.chosenLogits);
    }
    const after = { stats: backend.stats(), arena: backend.arenaStats()! };
    expect(after.stats.largeBufferAllocations - before.stats.largeBufferAllocations).toBe(0);
    expect(after.arena.grows - before.arena.grows).toBe(0);
  });

  it('gradients returned without the option are the caller’s: a later call does not overwrite them', async () => {
    const values = new Float32Array(SIZE);
    const batch = (): Batch => ({
      chosenLogits: { data: values, shape: SHAPE },
      chosenLabels: labels(5),
      rejectedLogits: { data: values.slice(), shape: SHAPE },
      rejectedLabels: labels(6),
    });
    fill(values, 2000);
    const first = await valueAndGrad(simpo!, batch(), {}, { backend });
    const kept = Float32Array.from(first.grads.chosenLogits.data);
    fill(values, 2001);
    const second = await valueAndGrad(simpo!, batch(), {}, { backend });
    expect(second.loss).not.toBe(first.loss);
    expect(first.grads.chosenLogits.data).toEqual(kept);
    expect(second.grads.chosenLogits.data).not.toBe(first.grads.chosenLogits.data);
  });

  it('the hidden-state path writes its gradients into caller buffers and reaches a steady state', async () => {
    const [H, V] = [64, 4096];
    const hidden = () => {
      const data = backend.allocate([ROWS, STEPS, H]);
      fill(data, 3000 + data.length);
      return data;
    };
    const weight = backend.allocate([V, H]);
    fill(weight, 3100);
    for (let i = 0; i < weight.length; i++) weight[i] *= 0.05;
    const batch: Batch = {
      chosenHidden: { data: hidden(), shape: [ROWS, STEPS, H] },
      chosenLabels: labels(7),
      rejectedHidden: { data: hidden(), shape: [ROWS, STEPS, H] },
      rejectedLabels: labels(8),
      lmHead: { weight: { data: weight, shape: [V, H] } },
    };
    const gradients = { chosenHidden: backend.allocate([ROWS, STEPS, H]), 'lmHead.weight': backend.allocate([V, H]) };
    const first = await valueAndGrad(simpo!, batch, {}, { backend, gradients });
    expect(first.grads.chosenHidden.data).toBe(gradients.chosenHidden);
    expect(first.grads['lmHead.weight'].data).toBe(gradients['lmHead.weight']);
    const expected = await valueAndGrad(simpo!, batch, {}, { backend: oracle });
    for (const name of ['chosenHidden', 'rejectedHidden', 'lmHead.weight'] as const) {
      expect(normwise(first.grads[name].data, expected.grads[name].data, 1e-4), name).toBeLessThanOrEqual(1);
    }
    const before = backend.arenaStats()!;
    for (let call = 0; call < 5; call++) await valueAndGrad(simpo!, batch, {}, { backend, gradients });
    const after = backend.arenaStats()!;
    expect(after.grows - before.grows).toBe(0);
    expect(after.blocksCreated - before.blocksCreated).toBe(0);
  });

  it('rejects gradient buffers that do not fit, naming the option', async () => {
    const batch: Batch = {
      chosenLogits: { data: new Float32Array(SIZE), shape: SHAPE },
      chosenLabels: labels(9),
      rejectedLogits: { data: new Float32Array(SIZE), shape: SHAPE },
      rejectedLabels: labels(10),
    };
    const call = (gradients: unknown) => valueAndGrad(simpo!, batch, {}, { backend, gradients: gradients as never });
    await expect(call({ chosenLogps: new Float32Array(SIZE) })).rejects.toThrow(
      /names "chosenLogps", which is not a differentiable input.*"chosenLogits"/,
    );
    await expect(call({ chosenLogits: new Float32Array(3) })).rejects.toThrow(
      /has 3 elements; chosenLogits has shape \[4, 32, 4096\], so it needs 524288/,
    );
    await expect(call({ chosenLogits: new Array(SIZE).fill(0) })).rejects.toThrow(/must be a Float32Array or Float64Array, got object/);
    const shared = new Float32Array(SIZE);
    await expect(call({ chosenLogits: shared, rejectedLogits: shared })).rejects.toThrow(/same array as options\.gradients\.chosenLogits/);
    await expect(call('grads')).rejects.toBeInstanceOf(PrefParamError);
    // A float64 buffer on a float32 backend is filled by a copy (converted), not rejected.
    const wide = new Float64Array(SIZE);
    const result = await call({ chosenLogits: wide });
    expect(result.grads.chosenLogits.data).toBe(wide);
    expect(wide.some((v) => v !== 0)).toBe(true);
  });
});
