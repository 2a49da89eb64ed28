import { describe, expect, it } from 'vitest';
import { valueAndGrad } from '@pref/core';
import { createReferenceBackend } from '@pref/adapter-reference';
import { simpo } from '@pref/simpo';
import {
  benchReportProblems,
  buildObjectiveWorkload,
  compareWithOracle,
  createLogitsWorkload,
  installedObjectives,
  measureCell,
  placeLogitsBatch,
  runBenchmarks,
  type BenchBackendSpec,
} from '@pref/benchmarks';
import { brokenBackend, type Breakage } from './broken-backend';

const plan = { warmup: 1, repeats: 2, budgetSeconds: 30 };
const importModule = (name: string) => import(/* @vite-ignore */ name);

async function logitsCell(breakage: Breakage, precision: 32 | 64 = 64) {
  const workload = createLogitsWorkload([4, 6, 40], 7);
  const oracle = createReferenceBackend({ precision: 64 });
  const expected = await valueAndGrad(simpo, placeLogitsBatch(workload, oracle).batch, {}, { backend: oracle });
  const backend = brokenBackend(breakage, precision);
  const placed = placeLogitsBatch(workload, backend);
  return measureCell({ run: () => valueAndGrad(simpo, placed.batch, {}, { backend }), oracle: expected, precision, plan });
}

describe('correctness check before timing', () => {
  it('passes and times a correct backend, in float64 and float32', async () => {
    for (const precision of [64, 32] as const) {
      const cell = await logitsCell('none', precision);
      expect(cell.status).toBe('ok');
      expect(cell.check!.worstRatio).toBeLessThanOrEqual(1);
      expect(cell.timing!.samples).toHaveLength(2);
    }
  });

  it('fails, untimed, a backend whose logits gradient is 1% off', async () => {
    const cell = await logitsCell('logits-gradient');
    expect(cell.status).toBe('failed');
    expect(cell.timing).toBeUndefined();
    expect(cell.reason).toMatch(/grads\.(chosen|rejected)Logits\[\d+\]/);
    expect(cell.check!.worstRatio).toBeGreaterThan(1);
  });

  it('fails a float32 backend with the same 1% error (the normwise tolerance does not hide tiny gradients)', async () => {
    const cell = await logitsCell('logits-gradient', 32);
    expect(cell.status).toBe('failed');
  });

  it('fails, untimed, a backend that throws, with the error as the reason', async () => {
    const cell = await logitsCell('throws');
    expect(cell.status).toBe('failed');
    expect(cell.timing).toBeUndefined();
    expect(cell.reason).toContain('tokenLogProbs is not available');
  });

  it('catches a wrong logSigmoid in the objective workload (SimPO on token log-probs)', async () => {
    const oracle = createReferenceBackend({ precision: 64 });
    const { workload, result } = await buildObjectiveWorkload(simpo, oracle, 8, 16);
    const backend = brokenBackend('log-sigmoid');
    const cell = await measureCell({
      run: () => valueAndGrad(simpo, workload.batch, {}, { backend }),
      oracle: result,
      precision: 64,
      plan,
    });
    expect(cell.status).toBe('failed');
    expect(cell.timing).toBeUndefined();
    expect(cell.reason).toMatch(/loss|grads/);
  });

  it('builds valid inputs for every installed objective from its input schema', async () => {
    const oracle = createReferenceBackend({ precision: 64 });
    const { objectives } = await installedObjectives(importModule);
    for (const objective of objectives) {
      const { workload, result } = await buildObjectiveWorkload(objective, oracle, 8, 16);
      expect(Number.isFinite(result.loss), objective.id).toBe(true);
      expect(Object.keys(result.grads).length, objective.id).toBeGreaterThan(0);
      // The float32 reference agrees on the same inputs (inputs are float32-exact).
      const f32 = await valueAndGrad(objective, workload.batch, workload.params, { backend: createReferenceBackend({ precision: 32 }) });
      expect(compareWithOracle(f32, result, 32).passed, objective.id).toBe(true);
    }
  });
});

describe('runBenchmarks', () => {
  it('reports a broken backend as failed and untimed, a correct one as ok, and a backend that cannot start as skipped', async () => {
    const spec = (id: string, create: BenchBackendSpec['create']): BenchBackendSpec => ({ id, config: { backend: id }, create });
    const report = await runBenchmarks({
      backends: [
        spec('good', async () => createReferenceBackend({ precision: 32 })),
        spec('broken', async () => brokenBackend('logits-gradient')),
        spec('absent', async () => {
          throw new Error('no such device here');
        }),
      ],
      workloads: ['logits', 'objective'],
      logitsShapes: [{ name: 'tiny', shape: [2, 8, 64] }],
      objectives: ['simpo'],
      objectiveShape: [4, 8],
      repeats: 2,
      bandwidth: null,
      importModule,
    });
    expect(benchReportProblems(JSON.parse(JSON.stringify(report)))).toEqual([]);
    const cell = (workload: string, backend: string) => report.results.find((c) => c.workload === workload && c.backend === backend)!;
    expect(cell('logits', 'good')).toMatchObject({ status: 'ok', inputPath: 'device' });
    expect(cell('logits', 'good').timing!.count).toBe(2);
    expect(cell('logits', 'good').memory!.gradientBytes).toBe(2 * 8 * 64 * 4);
    expect(cell('logits', 'broken').status).toBe('failed');
    expect(cell('logits', 'broken').timing).toBeUndefined();
    expect(cell('objective', 'broken').status).toBe('ok');
    expect(cell('logits', 'absent')).toMatchObject({ status: 'skipped', reason: 'backend did not start: no such device here' });
    expect(report.backends.find((b) => b.id === 'absent')).toMatchObject({ status: 'skipped', reason: 'no such device here' });
    expect(report.mode).toBe('custom');
  });
});
