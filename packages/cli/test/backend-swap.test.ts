import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runCli, type CliIo } from '../src';

describe('pref loss: swapping "backend" in pref.config.json between reference and onnxruntime', () => {
  const pairs = join(dirname(fileURLToPath(import.meta.url)), '../../../packages/cli/examples/pairs.json');
  async function prefLoss(backend: string, objective: string): Promise<{ backend: string; loss: number; metrics: Record<string, number>; gradNorms: Record<string, number> }> {
    const cwd = mkdtempSync(join(tmpdir(), 'pref-onnx-'));
    writeFileSync(join(cwd, 'pref.config.json'), JSON.stringify({ backend }));
    const out: string[] = [];
    const io: CliIo = { out: (line) => out.push(line), err: () => {}, cwd, env: {} };
    expect(await runCli(['loss', '--objective', objective, '--batch', pairs], io)).toBe(0);
    return JSON.parse(out.join('\n'));
  }
  for (const objective of ['simpo', 'dpo']) {
    it(`${objective}: same loss, metrics and gradient norms up to float32 rounding`, async () => {
      const reference = await prefLoss('reference', objective);
      const onnx = await prefLoss('onnxruntime', objective);
      expect(reference.backend).toBe('reference');
      expect(onnx.backend).toBe('onnxruntime:cpu');
      const close = (a: number, b: number) => Math.abs(a - b) <= 1e-5 + 1e-4 * Math.abs(b);
      expect(close(onnx.loss, reference.loss), `loss ${onnx.loss} vs ${reference.loss}`).toBe(true);
      expect(Object.keys(onnx.metrics).sort()).toEqual(Object.keys(reference.metrics).sort());
      for (const [name, value] of Object.entries(reference.metrics)) expect(close(onnx.metrics[name], value), name).toBe(true);
      for (const [name, value] of Object.entries(reference.gradNorms)) expect(close(onnx.gradNorms[name], value), name).toBe(true);
    });
  }
});
