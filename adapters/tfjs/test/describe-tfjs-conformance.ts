import { describe, expect, it } from 'vitest';
import { describeConformance, installedObjectives, loadConformanceCases } from '@pref/testing';
import type { TfjsBackendName } from '../src';
import { allCaseFiles, startTfjs, tfjsUnderTest } from './tfjs-test-backends';
import { runNativeCase } from './native-conformance';

/**
 * The conformance cases on one tfjs backend through both gradient paths: core autodiff
 * (`valueAndGrad`) and native (`tf.variableGrads` of `tfjsLoss`). `keep` picks a subset of case
 * ids on slow backends; cases of objectives not present, and a backend that does not start,
 * are reported as skipped with the reason.
 */
export async function describeTfjsConformance(name: TfjsBackendName, keep: (caseId: string) => boolean = () => true): Promise<void> {
  const { objectives, missing } = await installedObjectives();
  const files = allCaseFiles();
  if (missing.length) {
    describe(`objective packages for tfjs:${name}`, () => it.skip(`skipped: not present here: ${missing.join(', ')}`, () => {}));
  }
  describeConformance({ files, objectives, backends: [tfjsUnderTest(name)], filter: (id) => keep(id) });
  describe(`conformance on tfjs:${name} (native tfjs autodiff)`, async () => {
    const backend = await startTfjs(name);
    if ('unavailable' in backend) {
      it.skip(`skipped: tfjs:${name} unavailable: ${backend.unavailable}`, () => {});
      return;
    }
    for (const testCase of loadConformanceCases(files).filter((c) => keep(c.id))) {
      const objective = objectives[testCase.objective];
      if (!objective) {
        it.skip(`${testCase.id} (skipped: objective ${testCase.objective} not implemented here)`, () => {});
        continue;
      }
      it(testCase.id, async () => {
        const outcome = await runNativeCase(testCase, backend, objective);
        expect(outcome.reason, `${testCase.id} native on ${backend.name}`).toBe('');
      });
    }
  });
}
