import { describe, expect, it } from 'vitest';
import { valueAndGrad } from '@pref/core';
import { createReferenceBackend } from '@pref/adapter-reference';
import {
  LINEAR_NOT_MEASURED, LINEAR_UNAVAILABLE, benchReportProblems, createLinearBatch, probeHiddenStatePath, runBenchmarks,
  type BenchBackendSpec, type ValueAndGradFn,
} from '@pref/benchmarks';

const importModule = (name: string) => import(/* @vite-ignore */ name);
const spec = (id: string): BenchBackendSpec => ({ id, config: { backend: id }, create: async () => createReferenceBackend({ precision: 32 }) });

async function linearReport(vag?: ValueAndGradFn) {
  return runBenchmarks({
    backends: [spec('ref'), { id: 'absent', config: { backend: 'absent' }, create: async () => { throw new Error('not here'); } }],
    workloads: ['linear'],
    linearShapes: [{ name: 'linear-small', shape: [8, 128, 64, 4096] }, { name: 'linear-vocab', shape: [4, 512, 64, 128256] }],
    bandwidth: null,
    importModule,
    ...(vag && { valueAndGrad: vag }),
  });
}

describe('linear (hidden-state) workload skeleton', () => {
  it('builds the batch core is to accept: hidden halves [B/2,T,H], labels [B/2,T], lmHead.weight [V,H]', () => {
    const batch = createLinearBatch([4, 3, 5, 7]) as Record<string, { shape: number[]; data: ArrayLike<number> } & { weight?: { shape: number[] } }>;
    expect(Object.keys(batch)).toEqual(['chosenHidden', 'chosenLabels', 'rejectedHidden', 'rejectedLabels', 'lmHead']);
    expect(batch.chosenHidden.shape).toEqual([2, 3, 5]);
    expect(batch.rejectedLabels.shape).toEqual([2, 3]);
    expect(batch.lmHead.weight!.shape).toEqual([7, 5]);
    expect(Array.from(batch.chosenLabels.data).every((l) => l >= 0 && l < 7)).toBe(true);
    expect(() => createLinearBatch([3, 1, 1, 2])).toThrow(/B even/);
  });

  it('this core rejects the hidden-state inputs: every cell is skipped as not available', async () => {
    const support = await probeHiddenStatePath(createReferenceBackend(), valueAndGrad);
    expect(support.available).toBe(false);
    expect(support.available === false && support.reason).toBe(`${LINEAR_UNAVAILABLE} (core: unknown input chosenHidden)`);

    const report = await linearReport();
    expect(benchReportProblems(JSON.parse(JSON.stringify(report)))).toEqual([]);
    expect(report.settings.workloads).toEqual(['linear']);
    expect(report.results.map((c) => [c.case, c.backend, c.status, c.reason])).toEqual([
      ['linear-small', 'absent', 'skipped', 'backend did not start: not here'],
      ['linear-small', 'ref', 'skipped', `${LINEAR_UNAVAILABLE} (core: unknown input chosenHidden)`],
      ['linear-vocab', 'absent', 'skipped', 'backend did not start: not here'],
      ['linear-vocab', 'ref', 'skipped', `${LINEAR_UNAVAILABLE} (core: unknown input chosenHidden)`],
    ]);
    expect(report.results[1]).toMatchObject({ workload: 'linear', shape: [8, 128, 64, 4096], precision: 32 });
  });

  it('once core accepts them, the cells say the measurement is the extension point still to write', async () => {
    const accepting: ValueAndGradFn = async (objective, batch, params, options) =>
      'chosenHidden' in batch ? { loss: 0, grads: {}, metrics: {}, state: null, perExample: null } : valueAndGrad(objective, batch, params, options);
    const report = await linearReport(accepting);
    expect(report.results.filter((c) => c.backend === 'ref').map((c) => c.reason)).toEqual([LINEAR_NOT_MEASURED, LINEAR_NOT_MEASURED]);
  });

  it('reports another error from the probe as it is', async () => {
    const failing: ValueAndGradFn = async () => {
      throw new Error('device lost');
    };
    expect(await probeHiddenStatePath(createReferenceBackend(), failing)).toEqual({ available: false, reason: 'the hidden-state probe failed on this backend: device lost' });
  });
});
