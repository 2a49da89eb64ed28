// The options GRPO and RLOO took from TRL 1.13, through the gradient, masked-value and
// data-parallel properties (their values against TRL itself: trl-parity.test.ts).
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createReferenceBackend } from '@pref/adapter-reference';
import { PrefInputError, PrefParamError, valueAndGrad, type Batch } from '@pref/core';
import { finiteDifferenceGrad, runDataParallel, worstMismatch } from '@pref/testing';
import { grpo, rloo } from '../src';
import { awayFromClipBounds, groupBatchArbitrary, hostRatios, type GroupBatch } from './group-batch';

const backend = createReferenceBackend();
const backend32 = createReferenceBackend({ precision: 32 });
const ROWS = 8;
const BOUNDARIES = [0, 2, 6, 8];

type TrlBatch = GroupBatch & { samplerLogps: number[][]; entropies: number[][]; truncated: number[] };

/** A group batch with sampler log-probs (±0.3 of the old ones), entropies in [0.05, 3] and truncation flags. */
function trlBatchArbitrary(rows: number): fc.Arbitrary<TrlBatch> {
  return groupBatchArbitrary(rows).chain((batch) => {
    const steps = batch.logps[0].length;
    const grid = (min: number, max: number) =>
      fc.array(fc.array(fc.integer({ min, max }), { minLength: steps, maxLength: steps }), { minLength: rows, maxLength: rows });
    return fc
      .record({
        shift: grid(-300, 300),
        entropy: grid(50, 3000),
        truncated: fc.array(fc.constantFrom(0, 1), { minLength: rows, maxLength: rows }),
      })
      .map(({ shift, entropy, truncated }) => ({
        ...batch,
        samplerLogps: batch.oldLogps.map((row, i) => row.map((l, t) => Math.min(l + shift[i][t] / 1000, -1e-3))),
        entropies: entropy.map((row) => row.map((e) => e / 1000)),
        truncated: truncated.map((x, i) => (i === 0 ? 0 : x)),
      }));
  });
}

/** The differentiable options (every ratio enters the loss through its value). */
const differentiableOptions = fc.oneof(
  fc.record({ lossType: fc.constant('sapo'), sapoTemperaturePos: fc.constantFrom(1, 0.5), sapoTemperatureNeg: fc.constantFrom(1.05, 2) }),
  fc.record({ lossType: fc.constantFrom('dapo', 'grpo', 'luspo'), delta: fc.constant(1.15) }),
  fc.record({
    lossType: fc.constantFrom('dapo', 'bnpo', 'dr_grpo'),
    beta: fc.constant(0.2),
    useBiasCorrectionKl: fc.boolean(),
    importanceSampling: fc.constantFrom('token', 'sequence'),
  }),
  fc.record({
    lossType: fc.constantFrom('dapo', 'grpo'),
    topEntropyQuantile: fc.constantFrom(0.3, 0.7),
    entropyCoef: fc.constantFrom(0, 0.1),
  }),
  fc.record({ lossType: fc.constantFrom('dapo', 'grpo', 'luspo'), maskTruncatedCompletions: fc.constant(true) }),
  fc.record({
    lossType: fc.constantFrom('dapo', 'sapo'),
    vllmImportanceSamplingMode: fc.constantFrom('token_truncate', 'token_mask', 'sequence_truncate', 'sequence_mask'),
    vllmImportanceSamplingClipMax: fc.constant(1.2),
    vllmImportanceSamplingClipMin: fc.constant(0.8),
  }),
);

function batchFor(batch: TrlBatch, params: Record<string, unknown>): Batch {
  const { samplerLogps, entropies, truncated, ...rest } = batch;
  const out: Record<string, unknown> = { ...rest };
  if ('vllmImportanceSamplingMode' in params) out.samplerLogps = samplerLogps;
  if ('topEntropyQuantile' in params || 'entropyCoef' in params) out.entropies = entropies;
  if (params.maskTruncatedCompletions) out.truncated = truncated;
  return out;
}

const awayFromKinks = (batch: GroupBatch, params: Record<string, unknown>) => {
  const ratios = hostRatios(batch, params.importanceSampling === 'sequence' || params.lossType === 'luspo' ? 'sequence' : 'token');
  const delta = typeof params.delta === 'number' ? params.delta : null;
  return awayFromClipBounds(ratios, 0.2, 0.2) && (delta === null || ratios.every((r) => Math.abs(r - delta) > 1e-3));
};

describe('grpo TRL 1.13 options: properties', () => {
  it('gradients match central finite differences (off-policy, away from the clip bounds)', async () => {
    await fc.assert(
      fc.asyncProperty(trlBatchArbitrary(4), differentiableOptions, async (trlBatch, options) => {
        const params = { ...options, groupSize: 2 } as Record<string, unknown>;
        if ('lossType' in options && options.lossType === 'luspo') params.importanceSampling = 'sequence';
        fc.pre(awayFromKinks(trlBatch, params));
        const batch = batchFor(trlBatch, params);
        const result = await valueAndGrad(grpo, batch, params, { backend });
        const numeric = await finiteDifferenceGrad(grpo, batch, params, 'logps');
        expect(worstMismatch(result.grads.logps.data, numeric, 1e-4, 1e-6)).toBeLessThanOrEqual(1);
      }),
      { numRuns: 30 },
    );
  });

  it('cispo and vespo (detached weights): on-policy gradients match finite differences', async () => {
    await fc.assert(
      fc.asyncProperty(
        trlBatchArbitrary(4),
        fc.constantFrom('cispo', 'vespo'),
        fc.constantFrom(0.2, 5),
        async (trlBatch, lossType, epsilonHigh) => {
          const { oldLogps: _old, samplerLogps: _s, entropies: _e, truncated: _t, ...onPolicy } = trlBatch;
          const params = { lossType, epsilonHigh, groupSize: 2 };
          const result = await valueAndGrad(grpo, onPolicy, params, { backend });
          const numeric = await finiteDifferenceGrad(grpo, onPolicy, params, 'logps');
          expect(worstMismatch(result.grads.logps.data, numeric, 1e-4, 1e-6)).toBeLessThanOrEqual(1);
        },
      ),
      { numRuns: 12 },
    );
  });

  it('values at masked positions of every per-token input change nothing', async () => {
    await fc.assert(
      fc.asyncProperty(trlBatchArbitrary(4), differentiableOptions, fc.integer({ min: -50, max: -1 }), async (trlBatch, options, junk) => {
        const params = { ...options, groupSize: 2, offPolicyMaskThreshold: 0.05 } as Record<string, unknown>;
        const batch = batchFor(trlBatch, params);
        const scramble = (values: unknown, value: number) =>
          (values as number[][]).map((row, i) => row.map((v, t) => (trlBatch.mask[i][t] ? v : value)));
        const scrambled: Record<string, unknown> = { ...batch };
        for (const name of ['logps', 'oldLogps', 'refLogps', 'samplerLogps'])
          if (name in batch) scrambled[name] = scramble(batch[name], junk);
        if ('entropies' in batch) scrambled.entropies = scramble(batch.entropies, -junk * 10);
        const base = await valueAndGrad(grpo, batch, params, { backend });
        const again = await valueAndGrad(grpo, scrambled, params, { backend });
        expect(again.loss).toBe(base.loss);
        expect(again.metrics).toEqual(base.metrics);
        expect(Array.from(again.grads.logps.data)).toEqual(Array.from(base.grads.logps.data));
      }),
      { numRuns: 25 },
    );
  });

  it('a truncated row counts for nothing (as if its mask were empty, with its row still in the grpo mean)', async () => {
    const [trlBatch] = fc.sample(trlBatchArbitrary(4), { numRuns: 1 });
    const batch = { ...batchFor(trlBatch, {}), truncated: [0, 1, 0, 0] };
    const result = await valueAndGrad(grpo, batch, { groupSize: 2, maskTruncatedCompletions: true, lossType: 'grpo' }, { backend });
    const steps = trlBatch.logps[0].length;
    expect(Array.from(result.grads.logps.data.slice(steps, 2 * steps))).toEqual(new Array(steps).fill(0));
    expect(result.perExample![1]).toBe(0);
  });
});

describe('grpo and rloo TRL 1.13 options over 3 simulated workers', () => {
  it('every option except topEntropyQuantile equals one worker', async () => {
    const options = fc.oneof(
      // bnpo is per worker by design (TRL's local normalization; its own data-parallel test covers it).
      differentiableOptions.filter((o) => !('topEntropyQuantile' in o) && o.lossType !== 'bnpo'),
      fc.record({ lossType: fc.constantFrom('cispo', 'vespo') }),
      fc.record({ entropyCoef: fc.constant(0.1), lossType: fc.constant('dapo') }),
      fc.record({ offPolicyMaskThreshold: fc.constant(0.01), vllmImportanceSamplingMode: fc.constant('token_truncate') }),
    );
    await fc.assert(
      fc.asyncProperty(trlBatchArbitrary(ROWS), options, async (trlBatch, option) => {
        fc.pre(trlBatch.rewards.every((r, i) => i % 2 === 1 || Math.abs(r - trlBatch.rewards[i + 1]) > 1e-6));
        const params = { ...option, groupSize: 2 } as Record<string, unknown>;
        const batch = batchFor(trlBatch, params);
        const single = await valueAndGrad(grpo, batch, params, { backend });
        const { workers, grads } = await runDataParallel(grpo, batch, params, { backend, rows: ROWS, boundaries: BOUNDARIES });
        const entropyBonusIsLocal = params.entropyCoef !== undefined && params.entropyCoef !== 0;
        for (const worker of workers) {
          // TRL's entropy bonus is a per-worker mean (averaged by data parallelism), like bnpo.
          if (!entropyBonusIsLocal) expect(worker.loss).toBeCloseTo(single.loss, 12);
          for (const [name, value] of Object.entries(single.metrics)) {
            if (name !== 'policy_loss') expect(worker.metrics[name], name).toBeCloseTo(value, 12);
          }
        }
        expect(worstMismatch(grads.logps, single.grads.logps.data, 1e-10, 1e-13)).toBeLessThanOrEqual(1);
      }),
      { numRuns: 20 },
    );
  });

  it('topEntropyQuantile < 1 is refused with more than one worker, naming it', async () => {
    const [trlBatch] = fc.sample(trlBatchArbitrary(ROWS), { numRuns: 1 });
    const params = { groupSize: 2, topEntropyQuantile: 0.2 };
    const attempt = runDataParallel(grpo, batchFor(trlBatch, params), params, { backend, rows: ROWS, boundaries: BOUNDARIES });
    await expect(attempt).rejects.toThrow(PrefParamError);
    await expect(attempt).rejects.toThrow(/topEntropyQuantile 0.2 < 1 needs the entropies of every worker/);
  });

  it('rloo epsilonHigh and its token-mean kl equal one worker', async () => {
    await fc.assert(
      fc.asyncProperty(groupBatchArbitrary(ROWS), async (batch) => {
        fc.pre(batch.rewards.every((r, i) => i % 2 === 1 || Math.abs(r - batch.rewards[i + 1]) > 1e-6));
        const params = { groupSize: 2, epsilonHigh: 0.28, beta: 0.05 };
        const single = await valueAndGrad(rloo, batch, params, { backend });
        const { workers, grads } = await runDataParallel(rloo, batch, params, { backend, rows: ROWS, boundaries: BOUNDARIES });
        for (const worker of workers) {
          expect(worker.loss).toBeCloseTo(single.loss, 12);
          expect(worker.metrics['kl']).toBeCloseTo(single.metrics['kl'], 12);
        }
        expect(worstMismatch(grads.logps, single.grads.logps.data, 1e-10, 1e-13)).toBeLessThanOrEqual(1);
      }),
      { numRuns: 10 },
    );
  });
});

describe('grpo and rloo numerics beyond exp overflow', () => {
  // log-ratio 800 (float64 exp overflows past ~709, float32 past ~88): the clip discards the ratio.
  const batch = {
    logps: [
      [-0.1, -0.2],
      [-0.3, -0.4],
    ],
    mask: [
      [1, 1],
      [1, 1],
    ],
    oldLogps: [
      [-800.1, -0.2],
      [-0.3, -0.4],
    ],
    refLogps: [
      [-0.1, -0.2],
      [-0.3, -0.4],
    ],
    advantages: [1, -1],
  };
  for (const [name, b] of [
    ['float64', backend],
    ['float32', backend32],
  ] as const) {
    it(`${name}: a positive-advantage token far past the upper clip leaves loss, metrics and gradients finite`, async () => {
      for (const lossType of ['dapo', 'grpo', 'cispo', 'sapo', 'vespo'] as const) {
        const result = await valueAndGrad(grpo, batch, { lossType, beta: 0.04 }, { backend: b });
        expect(Number.isFinite(result.loss), lossType).toBe(true);
        expect(Array.from(result.grads.logps.data).every(Number.isFinite), lossType).toBe(true);
        expect(Object.values(result.metrics).every(Number.isFinite), lossType).toBe(true);
      }
      const { refLogps: _ref, advantages: _a, ...rest } = batch;
      const rl = await valueAndGrad(rloo, { ...rest, advantages: [1, -1] }, {}, { backend: b });
      expect(Number.isFinite(rl.loss)).toBe(true);
      expect(Array.from(rl.grads.logps.data).every(Number.isFinite)).toBe(true);
    });
  }
});

describe('grpo TRL 1.13 options: errors', () => {
  const base = {
    logps: [
      [-0.5, -1.0],
      [-0.3, -0.2],
    ],
    mask: [
      [1, 1],
      [1, 0],
    ],
    advantages: [1, -1],
  };
  const errorOf = async (batch: Batch, params: Record<string, unknown>) => {
    try {
      await valueAndGrad(grpo, batch, params, { backend });
    } catch (error) {
      return error as Error;
    }
    throw new Error('expected an error');
  };

  it('name entropies when the entropy options have neither entropies nor logits', async () => {
    for (const params of [{ topEntropyQuantile: 0.2 }, { entropyCoef: 0.01 }]) {
      const error = await errorOf(base, params);
      expect(error).toBeInstanceOf(PrefInputError);
      expect((error as PrefInputError).input).toBe('entropies');
    }
  });

  it('name truncated when maskTruncatedCompletions is on without it, and check it is 0/1', async () => {
    expect(((await errorOf(base, { maskTruncatedCompletions: true })) as PrefInputError).input).toBe('truncated');
    expect(((await errorOf({ ...base, truncated: [0, 2] }, { maskTruncatedCompletions: true })) as PrefInputError).input).toBe('truncated');
  });

  it('name the sampler parameters at fault', async () => {
    const withSampler = {
      ...base,
      samplerLogps: [
        [-0.4, -1.1],
        [-0.3, -0.9],
      ],
    };
    expect(((await errorOf(withSampler, { lossType: 'vespo' })) as PrefParamError).param).toBe('vllmImportanceSamplingMode');
    expect(((await errorOf(withSampler, { vllmImportanceSamplingClipMin: 3 })) as PrefParamError).param).toBe(
      'vllmImportanceSamplingClipMin',
    );
    const truncateWithoutBounds = { vllmImportanceSamplingMode: 'token_truncate', vllmImportanceSamplingClipMax: null };
    expect(((await errorOf(withSampler, truncateWithoutBounds)) as PrefParamError).param).toBe('vllmImportanceSamplingClipMax');
    expect(((await errorOf(base, { topEntropyQuantile: 1.5 })) as PrefParamError).param).toBe('topEntropyQuantile');
    expect(((await errorOf(base, { lossType: 'ppo' })) as PrefParamError).param).toBe('lossType');
  });
});

describe('grpo entropies from logits', () => {
  it('entropyCoef on the logits path: gradients through the entropies match finite differences', async () => {
    const logits = [
      [
        [0.3, -1.2, 2.0],
        [1.5, 0.1, -0.4],
      ],
      [
        [-0.7, 0.9, 0.2],
        [0.0, 0.4, 1.0],
      ],
    ];
    const batch = {
      logits,
      labels: [
        [2, 0],
        [1, -100],
      ],
      advantages: [0.7, -0.4],
      oldLogps: [
        [-0.2, -0.5],
        [-0.4, -0.1],
      ],
    };
    const params = { entropyCoef: 0.3, topEntropyQuantile: 0.5 };
    const result = await valueAndGrad(grpo, batch, params, { backend });
    const numeric = await finiteDifferenceGrad(grpo, batch, params, 'logits');
    expect(worstMismatch(result.grads.logits.data, numeric, 1e-5, 1e-7)).toBeLessThanOrEqual(1);
    const withoutBonus = await valueAndGrad(grpo, batch, { topEntropyQuantile: 0.5, entropyCoef: 0 }, { backend });
    expect(result.metrics['entropy']).toBe(withoutBonus.metrics['entropy']);
    expect(result.loss).toBeLessThan(result.metrics['policy_loss']);
  });
});
