import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createReferenceBackend } from '@pref/adapter-reference';
import { PrefParamError, valueAndGrad, type Batch, type ObjectiveState } from '@pref/core';
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
    expect(runs).toHaveLength(7);
  });

  for (const run of runs) {
    it(`matches the page for ${JSON.stringify(run.params)} from state ${JSON.stringify(run.state)}`, async () => {
      const result = await valueAndGrad(lmpo, example.inputs, run.params, { backend, state: run.state });
      close(result.loss, run.loss, 'loss');
      for (const [name, value] of Object.entries(run.metrics ?? {})) close(result.metrics[name], value, name);
      for (const [name, value] of Object.entries(run.nextState ?? {})) close(result.state![name], value, `state.${name}`);
      for (const [name, value] of Object.entries(run.gradNorms ?? {}))
        close(Math.hypot(...result.grads[name as keyof typeof result.grads].data), value, name);
    });
  }

  it('reference-code reproduces reference-notes §12 (2.0032576105)', async () => {
    const result = await valueAndGrad(lmpo, example.inputs, { preset: 'reference-code' }, { backend });
    expect(result.loss).toBeCloseTo(2.0032576105, 10);
  });

  describe('emaUpdate "after" (paper Eq. 20-24)', () => {
    const params = { preset: 'llama3-base', emaUpdate: 'after' } as const;
    // A second batch with other margins: the rejected log-probs of the example, scaled.
    const second: Batch = {
      ...example.inputs,
      rejectedLogps: (example.inputs.rejectedLogps as number[][]).map((row) => row.map((value) => value * 0.5)),
    };

    it("first call: normalizes with the batch's own moments (first-batch init)", async () => {
      const first = await valueAndGrad(lmpo, example.inputs, params, { backend });
      const before = await valueAndGrad(lmpo, example.inputs, { preset: 'llama3-base' }, { backend });
      expect(first.metrics['margin/zscore-mean']).toBe(0);
      expect(first.loss).toBe(before.loss);
      expect(first.state).toEqual(before.state);
    });

    it('second call: normalizes with the previous moments, then updates them as "before" does', async () => {
      const first = await valueAndGrad(lmpo, example.inputs, params, { backend });
      const after = await valueAndGrad(lmpo, second, params, { backend, state: first.state });
      const before = await valueAndGrad(lmpo, second, { preset: 'llama3-base' }, { backend, state: first.state });
      const previous = first.state!;
      close(
        after.metrics['margin/zscore-mean'],
        (after.metrics['margin/mean'] - previous.mean) / previous.std,
        'zscore with the previous a, b',
      );
      const updated = before.state!;
      close(
        before.metrics['margin/zscore-mean'],
        (before.metrics['margin/mean'] - updated.mean) / updated.std,
        'zscore with the updated a, b',
      );
      expect(Math.abs(after.metrics['margin/zscore-mean'] - before.metrics['margin/zscore-mean'])).toBeGreaterThan(1e-3);
      expect(after.loss).not.toBe(before.loss);
      expect(after.state).toEqual(before.state);
    });

    it('refuses emaInit "zero" (the first batch would be divided by max(0, eps))', async () => {
      await expect(valueAndGrad(lmpo, example.inputs, { ...params, emaInit: 'zero' }, { backend })).rejects.toBeInstanceOf(PrefParamError);
    });
  });
});
