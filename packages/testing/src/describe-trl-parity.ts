import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createReferenceBackend } from '@pref/adapter-reference';
import { parseConformanceFile, runConformanceCase, type AnyObjective, type ConformanceCase } from '@pref/core';

const trlCaseDir = join(dirname(fileURLToPath(import.meta.url)), '../../../conformance/trl');

/** The golden TRL cases of one file in `conformance/trl/` (see its README), and the TRL version that produced them. */
export function loadTrlCases(fileName: string): { readonly cases: readonly ConformanceCase[]; readonly trlVersion: string } {
  const text = readFileSync(join(trlCaseDir, fileName), 'utf8');
  const source = (JSON.parse(text) as { source?: { trl?: string } }).source;
  return { cases: parseConformanceFile(text, fileName).cases, trlVersion: source?.trl ?? 'unknown' };
}

/**
 * One test per golden TRL case of `fileName`: the reference backend in float64 must give TRL's
 * loss, gradients and metrics within 1e-9 relative (1e-12 absolute), and one summary test says
 * how many cases match. No Python is needed: the cases are committed.
 */
export function describeTrlParity(options: { readonly file: string; readonly objectives: Readonly<Record<string, AnyObjective>> }): void {
  const { cases, trlVersion } = loadTrlCases(options.file);
  describe(`TRL ${trlVersion} parity: ${options.file}`, () => {
    const backend = createReferenceBackend({ precision: 64, kernels: 'js' });
    const outcomes = new Map<string, boolean>();
    for (const testCase of cases) {
      it(testCase.id, async () => {
        const outcome = await runConformanceCase(testCase, { backend, objectives: options.objectives });
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
