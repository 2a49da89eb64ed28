import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createReferenceBackend } from '@pref/adapter-reference';
import { parseConformanceFile, runConformanceCase, toleranceFor, type AnyObjective, type ConformanceCase } from '@pref/core';
import type { BackendUnderTest } from './describe-conformance';

const trlCaseDir = join(dirname(fileURLToPath(import.meta.url)), '../../../conformance/trl');

/**
 * The golden TRL cases of one file in `conformance/trl/` (see its README), the TRL version that
 * produced them, and the precision TRL computed them in (32 where TRL 1.13 cannot run float64).
 */
export function loadTrlCases(fileName: string): {
  readonly cases: readonly ConformanceCase[];
  readonly trlVersion: string;
  readonly precision: 32 | 64;
} {
  const text = readFileSync(join(trlCaseDir, fileName), 'utf8');
  const source = (JSON.parse(text) as { source?: { trl?: string; precision?: number } }).source;
  return {
    cases: parseConformanceFile(text, fileName).cases,
    trlVersion: source?.trl ?? 'unknown',
    precision: source?.precision === 32 ? 32 : 64,
  };
}

/** Where the golden cases run by default: the reference backend in float64 (1e-9) and float32 (1e-4). */
const DEFAULT_BACKENDS: readonly BackendUnderTest[] = [
  { name: 'reference float64', create: async () => createReferenceBackend({ precision: 64, kernels: 'js' }) },
  { name: 'reference float32', create: async () => createReferenceBackend({ precision: 32 }) },
];

/**
 * One test per golden TRL case of `fileName` and backend: the loss, gradients and metrics must
 * be TRL's within the backend's conformance tolerance (float64: 1e-9 relative, 1e-12 absolute;
 * float32: 1e-4, 1e-5; a file TRL computed in float32 at the float32 one), and one summary test per backend says how many cases match. No Python
 * is needed: the cases are committed. A backend that cannot start is reported as skipped.
 */
export function describeTrlParity(options: {
  readonly file: string;
  readonly objectives: Readonly<Record<string, AnyObjective>>;
  readonly backends?: readonly BackendUnderTest[];
}): void {
  const { cases, trlVersion, precision } = loadTrlCases(options.file);
  for (const backendUnderTest of options.backends ?? DEFAULT_BACKENDS) {
    describe(`TRL ${trlVersion} parity: ${options.file} on ${backendUnderTest.name}`, async () => {
      const created = await backendUnderTest.create().catch((error: Error) => ({ unavailable: error.message }));
      if ('unavailable' in created) {
        it.skip(`skipped: ${backendUnderTest.name} unavailable: ${created.unavailable}`, () => {});
        return;
      }
      const backend = created;
      const outcomes = new Map<string, boolean>();
      for (const testCase of cases) {
        it(testCase.id, async () => {
          // Cases TRL computed in float32 are compared at the float32 tolerance on every backend.
          const tolerance = precision === 32 ? toleranceFor(32) : undefined;
          const outcome = await runConformanceCase(testCase, { backend, objectives: options.objectives, tolerance });
          outcomes.set(testCase.id, outcome.status === 'passed');
          expect(outcome.reason ?? '', testCase.id).toBe('');
          expect(outcome.status).toBe('passed');
        });
      }
      it(`all ${cases.length} cases match TRL ${trlVersion}`, () => {
        const matching = [...outcomes.values()].filter(Boolean).length;
        expect(`${matching} / ${cases.length} match`).toBe(`${cases.length} / ${cases.length} match`);
      });
    });
  }
}
