import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, type CliIo } from '../src';
import { batchSeed, fuzzBatch, seededRandom } from '../src/fuzz-batch';
import { loadObjectives } from '../src/objective-registry';
import { fuzzObjective } from '../src/fuzz-command';
import { createBackend, defineObjective, valueAndGrad } from '@pref/core';

// Batches per objective and precision; PREF_FUZZ_BATCHES raises it (the docs' figures).
const BATCHES = Number(process.env.PREF_FUZZ_BATCHES ?? 40);

async function fuzz(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { out: (l) => out.push(l), err: (l) => err.push(l), cwd: mkdtempSync(join(tmpdir(), 'pref-fuzz-')), env: {} };
  const code = await runCli(['fuzz', ...argv], io);
  return { code, report: out.length ? JSON.parse(out.join('\n')) : null, err: err.join('\n'), cwd: io.cwd };
}

describe('pref fuzz', async () => {
  const objectives = Object.keys(await loadObjectives()).sort();

  it('the same seed gives the same batches', async () => {
    const all = await loadObjectives();
    const a = fuzzBatch(all.dpo, {}, seededRandom(batchSeed(7, 3)), { rows: 6, steps: 5 });
    const b = fuzzBatch(all.dpo, {}, seededRandom(batchSeed(7, 3)), { rows: 6, steps: 5 });
    expect(a).toEqual(b);
    expect(fuzzBatch(all.dpo, {}, seededRandom(batchSeed(7, 4)), { rows: 6, steps: 5 })).not.toEqual(a);
  });

  /** `pref fuzz` with these flags: every one of `batches` results finite, none refused. */
  async function expectAllFinite(objective: string, batches: number, backendFlags: string[]) {
    const { code, report, err } = await fuzz(['--objective', objective, '--batches', String(batches), ...backendFlags, '--seed', '1']);
    expect(err).toBe('');
    expect(report.failures, JSON.stringify(report.failures.slice(0, 2))).toEqual([]);
    expect(report.rejected).toEqual({});
    expect(report.finite).toBe(batches);
    expect(code).toBe(0);
  }

  for (const objective of objectives) {
    for (const precision of ['64', '32']) {
      it(`${objective}: ${BATCHES} batches on reference float${precision}, every result finite, none rejected`, () =>
        expectAllFinite(objective, BATCHES, ['--backend', 'reference', '--precision', precision]));
    }
  }

  // The other backends (float32), each objective: PREF_FUZZ_OTHER_BATCHES raises the count.
  const OTHER_BATCHES = Number(process.env.PREF_FUZZ_OTHER_BATCHES ?? 20);
  for (const backendName of ['onnxruntime', 'tfjs:cpu', 'webgpu']) {
    const unavailable = await createBackend(backendName).then(
      (backend) => ((backend as { destroy?: () => void }).destroy?.(), null),
      (error: Error) => error.message.split('\n').slice(-1)[0].trim(),
    );
    for (const objective of objectives) {
      const title = `${objective}: ${OTHER_BATCHES} batches on ${backendName}, every result finite, none rejected`;
      it.skipIf(unavailable !== null)(
        unavailable ? `${title} (skipped: ${unavailable})` : title,
        () => expectAllFinite(objective, OTHER_BATCHES, ['--backend', backendName]),
        60_000 + OTHER_BATCHES * 20,
      );
    }
  }

  it('reports a non-finite result with its seed and a reproducer batch file that reproduces it', async () => {
    // A toy objective whose loss log(1 + ΣS) is NaN whenever the summed log-probs fall below −1.
    const fragile = defineObjective({
      id: 'fragile',
      title: 'Fragile',
      summary: 'test',
      reference: 'test',
      stateful: false,
      metrics: [],
      presets: {},
      params: {},
      inputs: { chosen: { kind: 'sequence', prefix: 'chosen', description: 'x' } },
      forward(ctx, inputs) {
        const { ops } = ctx;
        const summed = ops.sum(ops.where(inputs.chosen.mask, inputs.chosen.logps, 0));
        return { loss: ops.log(ops.add(summed, 1)), metrics: {} };
      },
    });
    const backend = await createBackend('reference', { env: {} });
    const outDir = mkdtempSync(join(tmpdir(), 'pref-fuzz-repro-'));
    const report = await fuzzObjective({
      objective: fragile as never,
      params: {},
      backend,
      batches: 20,
      seed: 3,
      shape: { rows: 4, steps: 4 },
      outDir,
      backendFlag: '--backend reference',
    });
    expect(report.nonFinite).toBeGreaterThan(0);
    expect(report.finite + report.nonFinite).toBe(20);
    const first = report.failures[0];
    expect(first.what).toMatch(/loss is NaN|gradient chosenLogps\[\d+\] is/);
    expect(first.reproducer).toMatch(/^pref loss --batch .*fragile-3-\d+\.json --backend reference$/);
    const file = JSON.parse(readFileSync(first.reproducer.split(' ')[3], 'utf8'));
    const again = await valueAndGrad(fragile as never, file.inputs, {}, { backend });
    expect(Number.isFinite(again.loss) && Object.values(again.grads).every((g) => Array.from(g.data).every(Number.isFinite))).toBe(false);
  });

  it('usage errors: bad --batches, unknown objective', async () => {
    expect((await fuzz(['--objective', 'dpo', '--batches', '-1'])).code).toBe(2);
    const unknown = await fuzz(['--objective', 'nope']);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toMatch(/unknown objective nope; installed: /);
  });
});
