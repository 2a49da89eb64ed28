import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createBackend } from '@pref/core';
import { runCli, type CliIo } from '../src';

type LossOutput = { backend: string; loss: number; metrics: Record<string, number>; gradNorms: Record<string, number> };

const pairs = join(dirname(fileURLToPath(import.meta.url)), '../examples/pairs.json');

async function prefLoss(backend: string, objective: string): Promise<LossOutput> {
  const cwd = mkdtempSync(join(tmpdir(), 'pref-swap-'));
  writeFileSync(join(cwd, 'pref.config.json'), JSON.stringify({ backend }));
  const out: string[] = [];
  const io: CliIo = { out: (line) => out.push(line), err: () => {}, cwd, env: {} };
  expect(await runCli(['loss', '--objective', objective, '--batch', pairs], io)).toBe(0);
  return JSON.parse(out.join('\n'));
}

/** Whether a backend starts here, or why not (then its tests are reported as skipped). */
async function availability(backend: string): Promise<string | null> {
  try {
    await createBackend(backend);
    return null;
  } catch (error) {
    return (error as Error).message.replace(/\s+/g, ' ');
  }
}

for (const [backend, name] of [
  ['onnxruntime', 'onnxruntime:cpu'],
  ['webgpu', 'webgpu'],
] as const) {
  const unavailable = await availability(backend);
  describe(`pref loss: swapping "backend" in pref.config.json between reference and ${backend}`, () => {
    for (const objective of ['simpo', 'dpo']) {
      const title = `${objective}: same loss, metrics and gradient norms up to float32 rounding`;
      if (unavailable) {
        it.skip(`${title} (skipped: ${unavailable})`, () => {});
        continue;
      }
      it(title, async () => {
        const reference = await prefLoss('reference', objective);
        const other = await prefLoss(backend, objective);
        expect(reference.backend).toBe('reference');
        expect(other.backend).toBe(name);
        const close = (a: number, b: number) => Math.abs(a - b) <= 1e-5 + 1e-4 * Math.abs(b);
        expect(close(other.loss, reference.loss), `loss ${other.loss} vs ${reference.loss}`).toBe(true);
        expect(Object.keys(other.metrics).sort()).toEqual(Object.keys(reference.metrics).sort());
        for (const [metric, value] of Object.entries(reference.metrics)) expect(close(other.metrics[metric], value), metric).toBe(true);
        for (const [input, value] of Object.entries(reference.gradNorms)) expect(close(other.gradNorms[input], value), input).toBe(true);
      });
    }
  });
}
