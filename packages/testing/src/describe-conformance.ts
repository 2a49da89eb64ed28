import { describe, expect, it } from 'vitest';
import { runConformanceCase, type AnyObjective, type PrefBackend } from '@pref/core';
import { loadConformanceCases } from './conformance-cases';
import { EARLIER_DEFAULTS, SUPERSEDED_METRICS } from './earlier-defaults';

/** A backend to run cases on, or the reason it cannot start here (reported as skipped). */
export interface BackendUnderTest {
  readonly name: string;
  readonly create: () => Promise<PrefBackend | { readonly unavailable: string }>;
}

/**
 * One test per case and backend. Cases of objectives missing from `objectives` and backends
 * that cannot start are reported as skipped, with the reason in the test name; never passed.
 */
export function describeConformance(options: {
  /** Case files by name (`simpo.json`, ...); omitted = every file. */
  readonly files?: readonly string[];
  readonly objectives: Readonly<Record<string, AnyObjective>>;
  readonly backends: readonly BackendUnderTest[];
  /** Run only cases whose objective is in `objectives` (error cases of others stay skipped). */
  readonly filter?: (caseId: string, objective: string) => boolean;
}): void {
  const cases = loadConformanceCases(options.files).filter((c) => options.filter?.(c.id, c.objective) ?? true);
  for (const backendUnderTest of options.backends) {
    describe(`conformance on ${backendUnderTest.name}`, async () => {
      const created = await backendUnderTest.create().catch((error: Error) => ({ unavailable: error.message }));
      if ('unavailable' in created) {
        it.skip(`skipped: ${backendUnderTest.name} unavailable: ${created.unavailable}`, () => {});
        return;
      }
      const backend = created;
      for (const testCase of cases) {
        if (!options.objectives[testCase.objective]) {
          it.skip(`${testCase.id} (skipped: objective ${testCase.objective} not implemented here)`, () => {});
          continue;
        }
        const notes = [
          EARLIER_DEFAULTS[testCase.id] && `with the earlier default ${JSON.stringify(EARLIER_DEFAULTS[testCase.id])}`,
          SUPERSEDED_METRICS[testCase.id] && `without the superseded metrics ${SUPERSEDED_METRICS[testCase.id].join(', ')}`,
        ].filter(Boolean);
        const name = notes.length ? `${testCase.id} (${notes.join('; ')})` : testCase.id;
        it(name, async () => {
          const outcome = await runConformanceCase(testCase, { backend, objectives: options.objectives });
          expect(outcome.reason ?? '', `${testCase.id} on ${backend.name}`).toBe('');
          expect(outcome.status).toBe('passed');
        });
      }
    });
  }
}
