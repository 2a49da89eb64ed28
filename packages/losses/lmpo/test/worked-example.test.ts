import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createReferenceBackend } from '@pref/adapter-reference';
import { valueAndGrad, type Batch, type ObjectiveState } from '@pref/core';
import { worstMismatch } from '@pref/testing';
import { lmpo } from '../src';

const here = dirname(fileURLToPath(import.meta.url));
const page = readFileSync(join(here, '../../../../docs/objectives/lmpo.md'), 'utf8');
const example = JSON.parse(readFileSync(join(here, '../examples/worked-example.json'), 'utf8')) as { inputs: Batch };

interface ExpectedRun {
  readonly params: Record<string, unknown>;
  readonly state: ObjectiveState | null;
  readonly loss: number;
  readonly metrics?: Record<string, number>;
  readonly nextState?: Record<string, number>;
  readonly gradNorms?: Record<string, number>;
}

/** The JSON block that follows `<!-- worked-example:expected -->` in the docs page. */
function expectedRuns(markdown: string): ExpectedRun[] {
  const match = /<!-- worked-example:expected -->\s*```json\n([\s\S]*?)```/.exec(markdown);
  if (!match) throw new Error('docs/objectives/lmpo.md has no worked-example:expected block');
  return JSON.parse(match[1]) as ExpectedRun[];
}

const close = (actual: number, expected: number, what: string) =>
  expect(worstMismatch([actual], [expected], 1e-12, 1e-15), `${what}: ${actual} vs ${expected}`).toBeLessThanOrEqual(1);

describe('docs/objectives/lmpo.md worked example', () => {
  const backend = createReferenceBackend({ precision: 64 });
  const runs = expectedRuns(page);

  it('lists the runs the page describes', () => {
    expect(runs).toHaveLength(5);
  });

  for (const run of runs) {
    it(`matches the page for ${JSON.stringify(run.params)} from state ${JSON.stringify(run.state)}`, async () => {
      const result = await valueAndGrad(lmpo, example.inputs, run.params, { backend, state: run.state });
      close(result.loss, run.loss, 'loss');
      for (const [name, value] of Object.entries(run.metrics ?? {})) close(result.metrics[name], value, name);
      for (const [name, value] of Object.entries(run.nextState ?? {})) close(result.state![name], value, `state.${name}`);
      for (const [name, value] of Object.entries(run.gradNorms ?? {})) close(Math.hypot(...result.grads[name].data), value, name);
    });
  }

  it('reference-code reproduces reference-notes §12 (2.0032576105)', async () => {
    const result = await valueAndGrad(lmpo, example.inputs, { preset: 'reference-code' }, { backend });
    expect(result.loss).toBeCloseTo(2.0032576105, 10);
  });
});
