import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createReferenceBackend } from '@pref/adapter-reference';
import { valueAndGrad, type Batch } from '@pref/core';
import { worstMismatch } from '@pref/testing';
import { slime } from '../src';

const here = dirname(fileURLToPath(import.meta.url));
const page = readFileSync(join(here, '../../../../docs/objectives/slime.md'), 'utf8');
const example = JSON.parse(readFileSync(join(here, '../examples/worked-example.json'), 'utf8')) as { inputs: Batch };

interface ExpectedRun {
  readonly params: Record<string, unknown>;
  readonly loss: number;
  readonly metrics?: Record<string, number>;
  readonly gradNorms?: Record<string, number>;
}

/** The JSON block that follows `<!-- worked-example:expected -->` in the docs page. */
function expectedRuns(markdown: string): ExpectedRun[] {
  const match = /<!-- worked-example:expected -->\s*```json\n([\s\S]*?)```/.exec(markdown);
  if (!match) throw new Error('docs/objectives/slime.md has no worked-example:expected block');
  return JSON.parse(match[1]) as ExpectedRun[];
}

describe('docs/objectives/slime.md worked example', () => {
  const backend = createReferenceBackend({ precision: 64 });
  const runs = expectedRuns(page);

  it('lists the runs the page describes', () => {
    expect(runs.map((run) => run.params.preset)).toEqual(['paper', 'paper', 'trl-slime-config', 'trl-slime-script']);
  });

  for (const run of runs) {
    it(`matches the page for ${JSON.stringify(run.params)}`, async () => {
      const result = await valueAndGrad(slime, example.inputs, run.params, { backend });
      expect(worstMismatch([result.loss], [run.loss], 1e-12, 1e-15)).toBeLessThanOrEqual(1);
      for (const [name, value] of Object.entries(run.metrics ?? {})) {
        expect(worstMismatch([result.metrics[name]], [value], 1e-12, 1e-15), name).toBeLessThanOrEqual(1);
      }
      for (const [name, value] of Object.entries(run.gradNorms ?? {})) {
        const norm = Math.hypot(...result.grads[name as keyof typeof result.grads].data);
        expect(worstMismatch([norm], [value], 1e-12, 1e-15), name).toBeLessThanOrEqual(1);
      }
    });
  }

  it('agrees with reference-notes §12 once the reference trainer’s 1e-8 denominator is accounted for', async () => {
    const result = await valueAndGrad(slime, example.inputs, { preset: 'paper' }, { backend });
    const counted = 7;
    const withEpsilon = result.loss - result.metrics['loss/stabilizer'] * (1 - counted / (counted + 1e-8));
    expect(withEpsilon).toBeCloseTo(0.3730425354, 10);
  });
});
