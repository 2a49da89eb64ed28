import { describe, expect, it } from 'vitest';
import { createBackend, PrefBackendError, valueAndGrad } from '@pref/core';
import { installedObjectives, loadConformanceCases, describeConformance } from '@pref/testing';
import { createPrefBackend, createTfjsBackend } from '../src';
import { allCaseFiles, startTfjs } from './tfjs-test-backends';

const importAdapter = async (name: string) => {
  if (name === '@pref/adapter-tfjs') return import('../src');
  throw Object.assign(new Error(`Cannot find package '${name}'`), { code: 'ERR_MODULE_NOT_FOUND' });
};

describe('selection by config through core createBackend', () => {
  it('{ backend: "tfjs", tfjsBackend: "cpu" } gives a working tfjs:cpu backend', async () => {
    const backend = await createBackend({ backend: 'tfjs', tfjsBackend: 'cpu' }, { importAdapter });
    expect(backend.name).toBe('tfjs:cpu');
    expect(backend.capabilities).toEqual({ precision: 32, float64: false, nativeAutodiff: true, execution: 'eager' });
    const { objectives } = await installedObjectives();
    const testCase = loadConformanceCases(allCaseFiles()).find((c) => objectives[c.objective] && !('error' in c.expected));
    if (!testCase) return;
    const result = await valueAndGrad(objectives[testCase.objective], testCase.inputs, testCase.params, {
      backend,
      state: testCase.state ?? null,
    });
    expect(result.loss).toBeCloseTo((testCase.expected as { loss: number }).loss, 4);
  });

  it('"tfjs:wasm" as a backend name selects the wasm tfjs backend', async () => {
    const backend = await createBackend('tfjs:wasm', { importAdapter });
    expect(backend.name).toBe('tfjs:wasm');
  });

  it('an unknown tfjsBackend fails naming the option and the valid values', async () => {
    const error = await createBackend({ backend: 'tfjs', tfjsBackend: 'metal' }, { importAdapter }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PrefBackendError);
    expect((error as Error).message).toMatch(/tfjsBackend must be one of "?cpu"?, "?wasm"?, "?webgpu"?, "?tensorflow"?[;,] got "metal"/);
  });

  it('precision 64 is refused (tfjs computes in float32)', async () => {
    await expect(createPrefBackend({ backend: 'tfjs', precision: 64 })).rejects.toThrow(/precision must be 32/);
    expect(() => createTfjsBackend({ tf: {} as never })).toThrow(/options\.tf must be the tfjs module/);
  });
});

// tfjs-node / tfjs-node-gpu: the same code path; runs where one is installed, else skipped with the reason.
const tensorflow = await startTfjs('tensorflow');
if ('unavailable' in tensorflow) {
  describe('tfjs "tensorflow" backend (tfjs-node / tfjs-node-gpu)', () => {
    it('reports the missing package with the install line', () => {
      expect(tensorflow.unavailable).toMatch(/needs @tensorflow\/tfjs-node or @tensorflow\/tfjs-node-gpu: npm i @tensorflow\/tfjs-node/);
    });
    it.skip(`skipped: conformance on tfjs:tensorflow unavailable: ${tensorflow.unavailable}`, () => {});
  });
} else {
  const { objectives } = await installedObjectives();
  describeConformance({
    files: allCaseFiles(),
    objectives,
    backends: [{ name: 'tfjs:tensorflow (core autodiff)', create: async () => tensorflow }],
  });
}
