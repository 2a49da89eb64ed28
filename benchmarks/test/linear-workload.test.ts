import { describe, expect, it } from 'vitest';
import { PrefInputError, valueAndGrad } from '@pref/core';
import { createReferenceBackend } from '@pref/adapter-reference';
import {
  LINEAR_UNAVAILABLE,
  benchReportProblems,
  createLinearBatch,
  probeHiddenStatePath,
  runBenchmarks,
  type BenchBackendSpec,
  type ValueAndGradFn,
} from '@pref/benchmarks';

const importModule = (name: string) => import(/* @vite-ignore */ name);
const spec = (id: string): BenchBackendSpec => ({
  id,
  config: { backend: id },
  create: async () => createReferenceBackend({ precision: 32 }),
});

async function linearReport(vag?: ValueAndGradFn) {
  return runBenchmarks({
    backends: [
      spec('ref'),
      {
        id: 'absent',
        config: { backend: 'absent' },
        create: async () => {
          throw new Error('not here');
        },
      },
    ],
    workloads: ['linear'],
    linearShapes: [{ name: 'linear-tiny', shape: [4, 8, 16, 300] }],
    bandwidth: null,
    importModule,
    ...(vag && { valueAndGrad: vag }),
  });
}

describe('linear (hidden-state) workload', () => {
  it('builds the batch core is to accept: hidden halves [B/2,T,H], labels [B/2,T], lmHead.weight [V,H]', () => {
    const batch = createLinearBatch([4, 3, 5, 7]) as Record<
      string,
      { shape: number[]; data: ArrayLike<number> } & { weight?: { shape: number[] } }
    >;
    expect(Object.keys(batch)).toEqual(['chosenHidden', 'chosenLabels', 'rejectedHidden', 'rejectedLabels', 'lmHead']);
    expect(batch.chosenHidden.shape).toEqual([2, 3, 5]);
    expect(batch.rejectedLabels.shape).toEqual([2, 3]);
    expect(batch.lmHead.weight!.shape).toEqual([7, 5]);
    expect(Array.from(batch.chosenLabels.data).every((l) => l >= 0 && l < 7)).toBe(true);
    expect(() => createLinearBatch([3, 1, 1, 2])).toThrow(/B even/);
  });

  it('a core that rejects the hidden-state inputs: every cell is skipped as not available', async () => {
    const rejecting: ValueAndGradFn = async (objective, batch, params, options) => {
      if ('chosenHidden' in batch) throw new PrefInputError('chosenHidden', 'unknown input chosenHidden; this objective takes chosenLogps');
      return valueAndGrad(objective, batch, params, options);
    };
    const support = await probeHiddenStatePath(createReferenceBackend(), rejecting);
    expect(support.available === false && support.reason).toBe(`${LINEAR_UNAVAILABLE} (core: unknown input chosenHidden)`);
    const report = await linearReport(rejecting);
    expect(benchReportProblems(JSON.parse(JSON.stringify(report)))).toEqual([]);
    expect(report.results.map((c) => [c.case, c.backend, c.status, c.reason])).toEqual([
      ['linear-tiny', 'absent', 'skipped', 'backend did not start: not here'],
      ['linear-tiny', 'ref', 'skipped', `${LINEAR_UNAVAILABLE} (core: unknown input chosenHidden)`],
    ]);
  });

  it('this core takes them: the cell is checked against the float64 oracle, then timed', async () => {
    expect(await probeHiddenStatePath(createReferenceBackend(), valueAndGrad)).toEqual({ available: true });
    const report = await linearReport();
    expect(benchReportProblems(JSON.parse(JSON.stringify(report)))).toEqual([]);
    const cell = report.results.find((c) => c.backend === 'ref')!;
    expect(cell).toMatchObject({ workload: 'linear', case: 'linear-tiny', status: 'ok', shape: [4, 8, 16, 300], precision: 32 });
    expect(cell.check?.passed).toBe(true);
    expect(cell.timing?.median).toBeGreaterThan(0);
    expect(cell.notes?.some((n) => n.includes('[4, 8, 300] logits'))).toBe(true);
  });

  it('a wrong weight gradient fails the check and is not timed', async () => {
    const wrong: ValueAndGradFn = async (objective, batch, params, options) => {
      const result = await valueAndGrad(objective, batch, params, options);
      const g = result.grads['lmHead.weight' as keyof typeof result.grads] as { data: Float32Array } | undefined;
      if (g && options.backend.capabilities.precision === 32) g.data[0] += 1;
      return result;
    };
    const report = await linearReport(wrong);
    const cell = report.results.find((c) => c.backend === 'ref')!;
    expect(cell.status).toBe('failed');
    expect(cell.reason).toMatch(/lmHead\.weight/);
    expect(cell.timing).toBeUndefined();
  });

  it('reports another error from the probe as it is', async () => {
    const failing: ValueAndGradFn = async () => {
      throw new Error('device lost');
    };
    expect(await probeHiddenStatePath(createReferenceBackend(), failing)).toEqual({
      available: false,
      reason: 'the hidden-state probe failed on this backend: device lost',
    });
  });
});
