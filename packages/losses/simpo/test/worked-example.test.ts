import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createReferenceBackend } from '@pref/adapter-reference';
import { valueAndGrad, type Batch } from '@pref/core';
import { worstMismatch } from '@pref/testing';
import { simpo } from '../src';

const here = dirname(fileURLToPath(import.meta.url));
const page = readFileSync(join(here, '../../../../docs/objectives/simpo.md'), 'utf8');
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
  if (!match) throw new Error('docs/objectives/simpo.md has no worked-example:expected block');
  return JSON.parse(match[1]) as ExpectedRun[];
}

const close = (actual: number, expected: number, what: string) =>
  expect(worstMismatch([actual], [expected], 1e-12, 1e-15), `${what}: ${actual} vs ${expected}`).toBeLessThanOrEqual(1);

describe('docs/objectives/simpo.md worked example', () => {
  const backend = createReferenceBackend({ precision: 64 });
  const runs = expectedRuns(page);

  it('lists every preset of the page', () => {
    const presets = runs.filter((run) => Object.keys(run.params).length === 1).map((run) => run.params.preset);
    expect([...presets].sort()).toEqual(Object.keys(simpo.presets).sort());
  });

  for (const run of runs) {
    it(`matches the page for ${JSON.stringify(run.params)}`, async () => {
      const result = await valueAndGrad(simpo, example.inputs, run.params, { backend });
      close(result.loss, run.loss, 'loss');
      for (const [name, value] of Object.entries(run.metrics ?? {})) close(result.metrics[name], value, name);
      for (const [name, value] of Object.entries(run.gradNorms ?? {}))
        close(Math.hypot(...result.grads[name as keyof typeof result.grads].data), value, name);
    });
  }

  it('agrees with the hand derivation of the page (z = β·(A_w − A_l) − γ, ℓ = softplus(−z))', async () => {
    const gap = [-1.75 / 3 + 5.8 / 4, -0.35 / 2 + 4.9 / 3];
    const softplus = (x: number) => Math.log1p(Math.exp(x));
    for (const [preset, beta, gamma] of [
      ['mistral-base', 2, 1.6],
      ['mistral-instruct', 2.5, 0.25],
      ['llama3-base', 2, 1],
      ['llama3-instruct', 2.5, 1.4],
    ] as const) {
      expect(simpo.presets[preset].values).toEqual({ beta, gamma });
      const result = await valueAndGrad(simpo, example.inputs, { preset }, { backend });
      const byHand = gap.reduce((sum, g) => sum + softplus(-(beta * g - gamma)), 0) / 2;
      close(result.loss, byHand, preset);
    }
    const hinge = await valueAndGrad(simpo, example.inputs, { preset: 'llama3-base', lossType: 'hinge' }, { backend });
    close(hinge.loss, gap.reduce((sum, g) => sum + Math.max(0, 1 - (2 * g - 1)), 0) / 2, 'hinge');
    const sft = await valueAndGrad(simpo, example.inputs, { preset: 'llama3-base', sftWeight: 1 }, { backend });
    close(sft.metrics['sft_loss'], (0.5 + 1.0 + 0.25 + 0.05 + 0.3) / 5, 'sft_loss');
  });
});
