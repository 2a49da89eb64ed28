import { describe, expect, it } from 'vitest';
import {
  defineObjective,
  PrefError,
  simulateCollectives,
  valueAndGrad,
  type AnyObjective,
  type BackendTensor,
  type Batch,
  type Collective,
  type PrefBackend,
} from '@pref/core';
import type { BackendUnderTest } from './describe-conformance';

/** A backend that counts the tensors it created and has not yet disposed. */
export interface CountingBackend {
  readonly backend: PrefBackend;
  /** Tensors created through `backend` and not disposed. */
  live(): number;
}

function isTensor(value: unknown): value is BackendTensor {
  return typeof value === 'object' && value !== null && 'shape' in value && 'dtype' in value;
}

/**
 * Wraps `backend` so every tensor a primitive returns (also those inside a result object, such
 * as `{ logps, logSumExp }`) is counted until it is disposed. Views (`reshape`) count as tensors
 * of their own: each must be disposed.
 */
export function countingBackend(backend: PrefBackend): CountingBackend {
  const alive = new Set<BackendTensor>();
  const track = (value: unknown): unknown => {
    if (isTensor(value)) alive.add(value);
    else if (typeof value === 'object' && value !== null && !ArrayBuffer.isView(value)) {
      for (const v of Object.values(value)) if (isTensor(v)) alive.add(v);
    }
    return value;
  };
  const proxy = new Proxy(backend, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      const method = value as (...args: unknown[]) => unknown;
      if (prop === 'dispose') {
        return (x: BackendTensor) => {
          alive.delete(x);
          return method.call(target, x);
        };
      }
      if (prop === 'read') return (...args: unknown[]) => method.apply(target, args);
      return (...args: unknown[]) => track(method.apply(target, args));
    },
  });
  return { backend: proxy, live: () => alive.size };
}

const rows = 2;
const steps = 3;
const vocab = 4;
/** A pair batch on the logits path: every call creates logits, labels, masks and log-probs. */
const LEAK_BATCH: Batch = {
  chosenLogits: { data: Array.from({ length: rows * steps * vocab }, (_, i) => Math.sin(i)), shape: [rows, steps, vocab] },
  chosenLabels: [
    [1, 2, -100],
    [3, 0, 0],
  ],
  rejectedLogits: { data: Array.from({ length: rows * steps * vocab }, (_, i) => Math.cos(i)), shape: [rows, steps, vocab] },
  rejectedLabels: [
    [0, 0, 1],
    [2, -100, -100],
  ],
};

const PAIR = {
  chosen: { kind: 'sequence', prefix: 'chosen', description: 'Preferred completion.' },
  rejected: { kind: 'sequence', prefix: 'rejected', description: 'Dispreferred completion.' },
} as const;

class ForwardFailure extends PrefError {
  override name = 'ForwardFailure';
}

/** An objective whose forward computes a little, then fails the way `failure` says. */
function failingObjective(failure: 'throws' | 'shape error' | 'non-scalar loss' | 'none'): AnyObjective {
  return defineObjective({
    id: `leak-${failure.replace(/ /g, '-')}`,
    title: 'Leak probe',
    summary: 'Computes a margin, then fails.',
    reference: 'none',
    inputs: PAIR,
    params: {},
    presets: {},
    metrics: ['margin'],
    stateful: false,
    forward(ctx, inputs) {
      const { ops } = ctx;
      const chosen = ops.sum(ops.mul(inputs.chosen.logps, inputs.chosen.mask), 1);
      const rejected = ops.sum(ops.mul(inputs.rejected.logps, inputs.rejected.mask), 1);
      const margin = ops.softplus(ops.sub(rejected, chosen));
      if (failure === 'throws') throw new ForwardFailure('forward failed after computing the margin');
      if (failure === 'shape error') ops.concat([margin, inputs.chosen.logps], 0);
      const loss = failure === 'non-scalar loss' ? margin : ctx.batchMean(margin);
      return { loss, metrics: { margin: ctx.batchMean(margin) } };
    },
  });
}

/** A collective whose all-reduce fails (a worker dropped out). */
function failingCollective(): Collective {
  return { worldSize: 2, rank: 0, allReduceSum: () => Promise.reject(new ForwardFailure('all-reduce failed')) };
}

/**
 * A `valueAndGrad` that fails (a forward that throws, a shape error inside forward, a loss
 * that is not a scalar, an all-reduce that fails on the data-parallel path) leaves zero live
 * tensors on the backend, counted by a counting wrapper and, where the adapter has one, by
 * its own counter (`ownLive`); a successful call leaves zero too. Unavailable backends skip,
 * saying why.
 */
export function describeLeakBattery(
  backendUnderTest: BackendUnderTest,
  options: { readonly ownLive?: (backend: PrefBackend) => number } = {},
): void {
  describe(`no tensors left alive on failure on ${backendUnderTest.name}`, async () => {
    const created = await backendUnderTest.create().catch((error: Error) => ({ unavailable: error.message }));
    if ('unavailable' in created) {
      it.skip(`skipped: ${backendUnderTest.name} unavailable: ${created.unavailable}`, () => {});
      return;
    }
    const backend = created;
    const expectNoLeak = async (run: (backend: PrefBackend) => Promise<unknown>, expected: RegExp | null) => {
      const counting = countingBackend(backend);
      const ownBefore = options.ownLive?.(backend);
      let error: unknown = null;
      await run(counting.backend).catch((e: unknown) => (error = e));
      if (expected) expect(String(error)).toMatch(expected);
      else expect(error).toBeNull();
      expect(counting.live(), 'tensors created and not disposed').toBe(0);
      if (ownBefore !== undefined) expect(options.ownLive!(backend), "the adapter's own count of live tensors").toBe(ownBefore);
    };
    const single = (objective: AnyObjective) => (b: PrefBackend) => valueAndGrad(objective, LEAK_BATCH, {}, { backend: b });

    it('a successful call (the baseline)', () => expectNoLeak(single(failingObjective('none')), null));
    it('a forward that throws', () => expectNoLeak(single(failingObjective('throws')), /forward failed/));
    it('a shape error inside forward', () => expectNoLeak(single(failingObjective('shape error')), /PrefShapeError: concat/));
    it('a forward whose loss is not a scalar', () => expectNoLeak(single(failingObjective('non-scalar loss')), /expected a scalar/));
    it('a forward that throws on two data-parallel workers', () =>
      expectNoLeak(async (b) => {
        const [first, second] = simulateCollectives(2);
        const objective = failingObjective('throws');
        const results = await Promise.allSettled(
          [first, second].map((collective) => valueAndGrad(objective, LEAK_BATCH, {}, { backend: b, collective })),
        );
        const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
        if (failed) throw failed.reason;
      }, /forward failed/));
    it('an all-reduce that fails on the data-parallel path', () =>
      expectNoLeak(
        (b) => valueAndGrad(failingObjective('none'), LEAK_BATCH, {}, { backend: b, collective: failingCollective() }),
        /all-reduce failed/,
      ));
  });
}
