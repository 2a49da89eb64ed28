import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, type CliIo } from '../src';
import { findPythonWithOnnx, RUN_EXPORTED_MODEL } from '../../../adapters/onnxruntime/test/python/find-python';

const repoRoot = resolve(__dirname, '../../..');
const examplePairs = join(repoRoot, 'packages/cli/examples/pairs.json');
const python = findPythonWithOnnx();

function capture(cwd: string) {
  const out: string[] = [];
  const io: CliIo = { out: (l) => out.push(l), err: () => {}, cwd, env: {} };
  return { io, out };
}

describe('pref export, run from Python', () => {
  it('the sidecar names the batch inputs with symbolic dims, and lists no sizes or parameters as inputs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pref-export-'));
    expect(await runCli(['export', '--objective', 'simpo', '--batch', examplePairs, '--out', 'simpo.onnx'], capture(dir).io)).toBe(0);
    const sidecar = JSON.parse(readFileSync(join(dir, 'simpo.onnx.json'), 'utf8'));
    const names = (sidecar.inputs as { name: string; symbolicDims: string[] }[]).map((i) => [i.name, i.symbolicDims]);
    expect(Object.fromEntries(names)).toEqual({
      chosenLogps: ['B', 'T'],
      chosenMask: ['B', 'T'],
      rejectedLogps: ['B', 'T'],
      rejectedMask: ['B', 'T'],
    });
  });

  it.skipIf(!python.ok)(
    `passes onnx.checker full check and onnxruntime computes pref loss's loss${python.ok ? '' : ` (skipped: ${python.reason})`}`,
    async () => {
      if (!python.ok) return;
      const dir = mkdtempSync(join(tmpdir(), 'pref-export-'));
      expect(
        await runCli(
          ['export', '--objective', 'simpo', '--batch', examplePairs, '--params', 'beta=2.5', '--out', 'simpo.onnx'],
          capture(dir).io,
        ),
      ).toBe(0);
      const run = spawnSync(python.command, [RUN_EXPORTED_MODEL, join(dir, 'simpo.onnx'), join(dir, 'simpo.onnx.json')], {
        encoding: 'utf8',
      });
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      const outputs = JSON.parse(run.stdout) as Record<string, number[]>;
      const loss = capture(repoRoot);
      expect(await runCli(['loss', '--objective', 'simpo', '--batch', examplePairs, '--params', 'beta=2.5'], loss.io)).toBe(0);
      expect(Math.abs(outputs.loss[0] - JSON.parse(loss.out.join('\n')).loss)).toBeLessThanOrEqual(1e-5);
      expect(outputs['grad/chosenLogps']).toHaveLength(4 * 6);
    },
  );
});
