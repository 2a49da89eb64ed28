import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createReferenceBackend } from '@pref/adapter-reference';
import { valueAndGrad } from '@pref/core';
import { lmpo } from '@pref/lmpo';
import { runCli, type CliIo } from '../src';
import { encodeNpy } from '../src/npy-file';

const repoRoot = resolve(__dirname, '../../..');
const lmpoExample = join(repoRoot, 'packages/losses/lmpo/examples/worked-example.json');

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { out: (l) => out.push(l), err: (l) => err.push(l), cwd: repoRoot, env: {} };
  return { io, out, err };
}

/** Reads a `.npy` file (format 1.0/2.0, little-endian f4/f8, C order) independently of the writer. */
function readNpy(bytes: Uint8Array): { dtype: string; shape: number[]; data: number[] } {
  expect(Array.from(bytes.subarray(0, 6))).toEqual([0x93, ...Buffer.from('NUMPY')]);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6];
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  const header = Buffer.from(bytes.subarray(start, start + headerLength)).toString('latin1');
  expect((start + headerLength) % 64).toBe(0);
  expect(header.endsWith('\n')).toBe(true);
  const dtype = /'descr': '([^']+)'/.exec(header)![1];
  expect(/'fortran_order': False/.test(header)).toBe(true);
  const shape = /'shape': \(([^)]*)\)/
    .exec(header)![1]
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(Number);
  const size = shape.reduce((n, d) => n * d, 1);
  const width = dtype === '<f8' ? 8 : 4;
  expect(bytes.length - start - headerLength).toBe(size * width);
  const data = Array.from({ length: size }, (_, i) =>
    width === 8 ? view.getFloat64(start + headerLength + 8 * i, true) : view.getFloat32(start + headerLength + 4 * i, true),
  );
  return { dtype, shape, data };
}

const flat = (value: unknown): number[] => (Array.isArray(value) ? value.flatMap(flat) : [value as number]);

const hasNumpy = (() => {
  try {
    execFileSync('python3', ['-c', 'import numpy'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe('pref loss --gradients', () => {
  const backend = createReferenceBackend({ precision: 64 });
  const batch = JSON.parse(readFileSync(lmpoExample, 'utf8')).inputs;

  it("prints every gradient as nested arrays equal to valueAndGrad's, with the gradient norms", async () => {
    const { io, out } = capture();
    expect(await runCli(['loss', '--batch', lmpoExample, '--precision', '64', '--gradients'], io)).toBe(0);
    const result = JSON.parse(out.join('\n'));
    const expected = await valueAndGrad(lmpo, batch, { preset: 'reference-code' }, { backend });
    expect(Object.keys(result.gradients).sort()).toEqual(Object.keys(expected.grads).sort());
    for (const [name, g] of Object.entries(expected.grads)) {
      expect(result.gradients[name]).toHaveLength(g.shape[0]);
      expect(result.gradients[name][0]).toHaveLength(g.shape[1]);
      expect(flat(result.gradients[name])).toEqual(Array.from(g.data));
      expect(result.gradNorms[name]).toBeCloseTo(Math.hypot(...g.data), 14);
    }
  });

  it('without --gradients prints norms only; --out writes the JSON to a file instead of stdout', async () => {
    const plain = capture();
    expect(await runCli(['loss', '--batch', lmpoExample], plain.io)).toBe(0);
    expect(JSON.parse(plain.out.join('\n'))).not.toHaveProperty('gradients');
    const folder = mkdtempSync(join(tmpdir(), 'pref-loss-'));
    const file = join(folder, 'result.json');
    const toFile = capture();
    expect(await runCli(['loss', '--batch', lmpoExample, '--gradients', '--out', file], toFile.io)).toBe(0);
    expect(toFile.out).toEqual([]);
    expect(toFile.err.join('\n')).toMatch(/wrote .*result\.json/);
    const written = JSON.parse(readFileSync(file, 'utf8'));
    expect(flat(written.gradients.chosenLogps)).toHaveLength(6);
  });

  it('--out-dir writes one .npy per gradient that reads back to the same values and shape', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'pref-npy-'));
    const { io, out } = capture();
    expect(await runCli(['loss', '--batch', lmpoExample, '--precision', '64', '--out-dir', folder], io)).toBe(0);
    const result = JSON.parse(out.join('\n'));
    const expected = await valueAndGrad(lmpo, batch, { preset: 'reference-code' }, { backend });
    for (const [name, g] of Object.entries(expected.grads)) {
      expect(result.gradients[name]).toEqual({ file: join(folder, `${name}.npy`), shape: [...g.shape], dtype: 'float64' });
      const npy = readNpy(readFileSync(join(folder, `${name}.npy`)));
      expect(npy.dtype).toBe('<f8');
      expect(npy.shape).toEqual([...g.shape]);
      expect(npy.data).toEqual(Array.from(g.data));
    }
  });

  it.skipIf(!hasNumpy)('numpy.load reads the .npy files back exactly (skipped when python3 has no numpy)', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'pref-npy-'));
    const { io } = capture();
    expect(await runCli(['loss', '--batch', lmpoExample, '--precision', '64', '--out-dir', folder], io)).toBe(0);
    const script = `import json, sys, numpy as np\nd = sys.argv[1]\nprint(json.dumps({n: {"shape": list(a.shape), "dtype": str(a.dtype), "data": a.ravel().tolist()} for n in ["chosenLogps", "rejectedLogps"] for a in [np.load(d + "/" + n + ".npy")]}))`;
    const loaded = JSON.parse(execFileSync('python3', ['-c', script, folder], { encoding: 'utf8' }));
    const expected = await valueAndGrad(lmpo, batch, { preset: 'reference-code' }, { backend });
    for (const name of ['chosenLogps', 'rejectedLogps'] as const) {
      expect(loaded[name].shape).toEqual([...expected.grads[name].shape]);
      expect(loaded[name].dtype).toBe('float64');
      expect(loaded[name].data).toEqual(Array.from(expected.grads[name].data));
    }
  });

  it('encodeNpy: float32, scalar and 1-d shapes; refuses a shape that does not match the data', () => {
    const f32 = readNpy(encodeNpy(new Float32Array([1.5, -2.25, 3]), [3]));
    expect(f32).toEqual({ dtype: '<f4', shape: [3], data: [1.5, -2.25, 3] });
    expect(readNpy(encodeNpy(new Float64Array([7]), []))).toEqual({ dtype: '<f8', shape: [], data: [7] });
    expect(readNpy(encodeNpy(new Float64Array(6), [2, 1, 3])).shape).toEqual([2, 1, 3]);
    expect(() => encodeNpy(new Float64Array(5), [2, 3])).toThrow(/shape \[2, 3\] holds 6 values, got 5/);
  });
});
