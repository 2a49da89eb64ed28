import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { conformanceCaseDir } from '@pref/testing';
import { runCli, type CliIo } from '../src';

const repoRoot = resolve(__dirname, '../../..');
const examplePairs = join(repoRoot, 'packages/cli/examples/pairs.json');
const caseDir = conformanceCaseDir().dir;

function capture(cwd = repoRoot, env: Record<string, string | undefined> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { out: (l) => out.push(l), err: (l) => err.push(l), cwd, env };
  return { io, out, err };
}

describe('pref', () => {
  it('prints help for every command', async () => {
    for (const argv of [['--help'], ['conformance', '--help'], ['objectives', '--help'], ['loss', '--help']]) {
      const { io, out } = capture();
      expect(await runCli(argv, io)).toBe(0);
      expect(out.join('\n')).toMatch(/pref/);
    }
  });

  it('rejects an unknown command with exit code 2', async () => {
    const { io, err } = capture();
    expect(await runCli(['frobnicate'], io)).toBe(2);
    expect(err.join('\n')).toMatch(/unknown command "frobnicate"/);
  });

  it('objectives lists parameters, defaults and ranges', async () => {
    const { io, out } = capture();
    expect(await runCli(['objectives', 'simpo'], io)).toBe(0);
    const text = out.join('\n');
    expect(text).toMatch(/simpo — SimPO/);
    expect(text).toMatch(/labelSmoothing \(ε\) = 0 {2}\[number in \[0, 0.5\)\]/);
    const json = capture();
    expect(await runCli(['objectives', '--json'], json.io)).toBe(0);
    const listing = JSON.parse(json.out.join('\n')) as { id: string; params: Record<string, { default: unknown }> }[];
    expect(listing.find((o) => o.id === 'simpo')?.params.beta.default).toBe(2);
  });

  it('loss computes the bundled example and honours --params and the backend config', async () => {
    const { io, out, err } = capture();
    expect(await runCli(['loss', '--objective', 'simpo', '--batch', examplePairs, '--params', 'beta=2.5,gamma=1.375'], io)).toBe(0);
    const result = JSON.parse(out.join('\n'));
    expect(result.params).toEqual({ beta: 2.5, gamma: 1.375 });
    expect(Number.isFinite(result.loss)).toBe(true);
    expect(result.gradNorms.chosenLogps).toBeGreaterThan(0);
    expect(err.join('\n')).toMatch(/does not use refChosenLogps, refRejectedLogps; ignored/);
    // The same batch through pref.config.json naming the float32 reference backend.
    const dir = mkdtempSync(join(tmpdir(), 'pref-cli-'));
    writeFileSync(join(dir, 'pref.config.json'), JSON.stringify({ backend: 'reference', precision: 32 }));
    const f32 = capture(dir);
    expect(await runCli(['loss', '--objective', 'simpo', '--batch', examplePairs, '--params', 'beta=2.5,gamma=1.375'], f32.io)).toBe(0);
    const result32 = JSON.parse(f32.out.join('\n'));
    expect(result32.backend).toBe('reference:f32');
    expect(Math.abs(result32.loss - result.loss)).toBeLessThanOrEqual(1e-5 * Math.abs(result.loss));
  });

  it('loss reports invalid input naming it, with exit code 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pref-cli-'));
    const batch = join(dir, 'bad.json');
    writeFileSync(
      batch,
      JSON.stringify({ inputs: { chosenLogps: [[-1]], chosenMask: [[0]], rejectedLogps: [[-1]], rejectedMask: [[1]] } }),
    );
    const { io, err } = capture(dir);
    expect(await runCli(['loss', '--objective', 'simpo', '--batch', batch], io)).toBe(1);
    expect(err.join('\n')).toMatch(/chosenMask row 0 is empty/);
  });

  it('conformance checks a case file, writes what it computed, and fails on a wrong expectation', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pref-cli-'));
    const out = join(dir, 'results.json');
    const run = capture(dir);
    expect(await runCli(['conformance', join(caseDir, 'simpo.json'), '--backend', 'reference', '--out', out], run.io)).toBe(0);
    expect(run.out.at(-1)).toBe('4 passed, 0 failed');
    const written = JSON.parse(readFileSync(out, 'utf8'));
    expect(written).toMatchObject({ format: 'pref-conformance-results/1', backend: 'reference', precision: 64 });
    expect(Object.keys(written.results)).toHaveLength(4);

    const cases = JSON.parse(readFileSync(join(caseDir, 'simpo.json'), 'utf8'));
    cases.cases[0].expected.loss += 1e-3;
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, JSON.stringify(cases));
    const failing = capture(dir);
    expect(await runCli(['conformance', broken, '--backend', 'reference'], failing.io)).toBe(1);
    expect(failing.out[0]).toMatch(/^FAIL simpo\/1\/041: loss: got/);
    expect(failing.out.at(-1)).toBe('3 passed, 1 failed');
  });

  it('an unknown backend fails with an actionable message', async () => {
    const { io, err } = capture();
    expect(await runCli(['loss', '--objective', 'simpo', '--batch', examplePairs, '--backend', 'nosuch'], io)).toBe(2);
    expect(err.at(-1)).toMatch(/--backend: unknown backend "nosuch"; known backends: reference, tfjs, onnxruntime, webgpu/);
  });
});

describe('pref export', () => {
  it('writes an ONNX model and its input sidecar that onnxruntime runs to the same loss', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pref-export-'));
    const { io, out } = capture(dir);
    expect(await runCli(['export', '--objective', 'simpo', '--batch', examplePairs, '--out', 'simpo.onnx'], io)).toBe(0);
    expect(out.join('\n')).toMatch(/wrote simpo.onnx \(\d+ bytes; outputs loss/);
    const sidecar = JSON.parse(readFileSync(join(dir, 'simpo.onnx.json'), 'utf8'));
    expect(sidecar.outputs[0]).toBe('loss');
    const ort = await import('onnxruntime-node');
    const session = await ort.InferenceSession.create(readFileSync(join(dir, 'simpo.onnx')));
    const feeds: Record<string, unknown> = {};
    for (const input of sidecar.inputs as { name: string; type: 'float32' | 'int32' | 'int64'; dims: number[]; values: number[] }[]) {
      const data =
        input.type === 'int64'
          ? BigInt64Array.from(input.values.map(BigInt))
          : input.type === 'int32'
            ? Int32Array.from(input.values)
            : Float32Array.from(input.values);
      feeds[input.name] = new ort.Tensor(input.type, data, input.dims);
    }
    const outputs = await session.run(feeds as never);
    const loss = Number((outputs.loss as { data: Float32Array }).data[0]);
    const { io: lossIo, out: lossOut } = capture();
    await runCli(['loss', '--objective', 'simpo', '--batch', examplePairs], lossIo);
    expect(Math.abs(loss - JSON.parse(lossOut.join('\n')).loss)).toBeLessThanOrEqual(1e-5);
  });
});
