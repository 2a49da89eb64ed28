import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { valueAndGrad, type AnyObjective, type Batch } from '@pref/core';
import { installedObjectives, loadConformanceCases, worstMismatch } from '@pref/testing';
import { simpo } from '@pref/simpo';
import { createOnnxruntimeBackend, exportOnnxModel, type ExportedOnnxModel } from '../src';
import { findPythonWithOnnx, RUN_EXPORTED_MODEL } from './python/find-python';

const logitsBatch = {
  chosenLogits: [
    [
      [1, 2, 0.5],
      [0, -1, 3],
    ],
    [
      [2, 2, 2],
      [1, 0, -2],
    ],
  ],
  chosenLabels: [
    [2, 1],
    [0, -100],
  ],
  rejectedLogits: [
    [
      [0, 1, 0],
      [1, 1, -1],
    ],
    [
      [3, 0, 1],
      [0, 0, 0],
    ],
  ],
  rejectedLabels: [
    [1, 0],
    [2, 2],
  ],
};
const logpsBatch = {
  chosenLogps: [
    [-1, -2, -0.5],
    [-0.3, -0.7, 0],
  ],
  chosenMask: [
    [1, 1, 1],
    [1, 1, 0],
  ],
  rejectedLogps: [
    [-2, -1.5],
    [-0.2, -3],
  ],
  rejectedMask: [
    [1, 1],
    [1, 0],
  ],
};
/** Hidden states [2, 3, 4] with an LM head of V = 6 (bias, softcap): the hidden-state path. */
const hiddenBatch = {
  chosenHidden: [
    [
      [0.1, -0.2, 0.3, 0.5],
      [1, 0, -1, 0.2],
      [0.4, 0.4, -0.3, 0],
    ],
    [
      [-0.5, 0.2, 0.1, 0.9],
      [0.3, -0.8, 0.6, 0.1],
      [0, 0, 0.2, -0.4],
    ],
  ],
  chosenLabels: [
    [1, 5, 2],
    [0, 3, -100],
  ],
  rejectedHidden: [
    [
      [0.2, 0.1, -0.4, 0.3],
      [-1, 0.5, 0.2, 0.1],
      [0.6, -0.2, 0.1, 0.3],
    ],
    [
      [0.1, 0.1, 0.1, 0.1],
      [0.7, -0.3, -0.2, 0.5],
      [0.2, 0.9, -0.6, 0],
    ],
  ],
  rejectedLabels: [
    [4, 4, 1],
    [2, -100, -100],
  ],
  lmHead: {
    weight: Array.from({ length: 6 }, (_, v) => Array.from({ length: 4 }, (_, h) => Math.sin(v * 4 + h) * 0.8)),
    bias: [0.1, -0.2, 0, 0.3, -0.1, 0.05],
    softcap: 5,
  },
};

function feedsOf(exported: ExportedOnnxModel) {
  return Object.fromEntries(exported.inputs.map((i) => [i.name, new ort.Tensor(i.type, i.data, i.dims)]));
}

async function expectSameAsBackend(objective: AnyObjective, batch: Batch, params: Record<string, unknown>) {
  const exported = await exportOnnxModel(objective, batch, params);
  const session = await ort.InferenceSession.create(exported.model, { logSeverityLevel: 4 });
  const outputs = await session.run(feedsOf(exported));
  const expected = await valueAndGrad(objective, batch, params as never, { backend: await createOnnxruntimeBackend() });
  expect(Number(outputs.loss.data[0])).toBeCloseTo(expected.loss, 6);
  for (const [name, grad] of Object.entries(expected.grads)) {
    expect(worstMismatch(outputs[`grad/${name}`].data as Float32Array, grad.data, 1e-6, 1e-7), `grad/${name}`).toBeLessThanOrEqual(1);
  }
  await session.release();
  return exported;
}

describe('exportOnnxModel', () => {
  it('names graph inputs after the batch (a derived mask too) with symbolic B, T, V dims, and runs to the backend results', async () => {
    const exported = await expectSameAsBackend(simpo, logitsBatch, { beta: 1.5, gamma: 0.3 });
    const dims = Object.fromEntries(exported.inputs.map((i) => [i.name, i.symbolicDims]));
    expect(dims).toEqual({
      chosenLogits: ['B', 'T', 'V'],
      chosenLabels: ['B', 'T'],
      chosenMask: ['B', 'T'],
      rejectedLogits: ['B', 'T', 'V'],
      rejectedLabels: ['B', 'T'],
      rejectedMask: ['B', 'T'],
    });
    expect(exported.outputs.slice(0, 3)).toEqual(['loss', 'grad/chosenLogits', 'grad/rejectedLogits']);
    expect(exported.outputs).toContain('metric/rewards/margins');
  });

  it('per-token log-probs with different sequence lengths: T and T_rejected; parameters and shapes are initializers', async () => {
    const exported = await expectSameAsBackend(simpo, logpsBatch, { beta: 2 });
    expect(Object.fromEntries(exported.inputs.map((i) => [i.name, i.symbolicDims]))).toEqual({
      chosenLogps: ['B', 'T'],
      chosenMask: ['B', 'T'],
      rejectedLogps: ['B', 'T_rejected'],
      rejectedMask: ['B', 'T_rejected'],
    });
    expect(exported.inputs.every((i) => i.type !== 'int64')).toBe(true);
  });

  it('the hidden-state path exports as chunked Gemm in a Loop, with lmHead.weight and lmHead.bias as inputs and gradients', async () => {
    const exported = await expectSameAsBackend(simpo, hiddenBatch, {});
    const dims = Object.fromEntries(exported.inputs.map((i) => [i.name, i.symbolicDims]));
    expect(dims).toMatchObject({ chosenHidden: ['B', 'T', 'H'], 'lmHead.weight': ['V', 'H'], 'lmHead.bias': ['V'] });
    expect(exported.outputs).toEqual(expect.arrayContaining(['grad/chosenHidden', 'grad/lmHead.weight', 'grad/lmHead.bias']));
  });
});

describe('inputs that are equal at export still get the right names', async () => {
  const { objectives } = await installedObjectives();
  // All-ones masks of equal length: chosenMask equals rejectedMask. SLiC's graph meets the
  // rejected side first, so naming by order alone would swap them.
  const exportBatch = {
    chosenLogps: [
      [-1, -2, -0.5],
      [-0.3, -0.7, -1.1],
    ],
    chosenMask: [
      [1, 1, 1],
      [1, 1, 1],
    ],
    rejectedLogps: [
      [-2, -1.5, -0.1],
      [-0.2, -3, -0.4],
    ],
    rejectedMask: [
      [1, 1, 1],
      [1, 1, 1],
    ],
  };
  const otherBatch = {
    chosenLogps: [
      [-0.4, -1.2, -2.5],
      [-1.3, -0.2, -0.6],
    ],
    chosenMask: [
      [1, 1, 0],
      [1, 0, 0],
    ],
    rejectedLogps: [
      [-1, -0.5, -0.9],
      [-2.2, -0.3, -1.4],
    ],
    rejectedMask: [
      [1, 1, 1],
      [1, 1, 0],
    ],
  };
  for (const id of ['slic', 'simpo', 'cpo']) {
    it.skipIf(!objectives[id])(`${id}: the model fed another batch of the same sizes gives that batch's loss`, async () => {
      const exported = await exportOnnxModel(objectives[id], exportBatch, {});
      const session = await ort.InferenceSession.create(exported.model, { logSeverityLevel: 4 });
      const feeds = Object.fromEntries(
        Object.entries(otherBatch).map(([name, rows]) => [name, new ort.Tensor('float32', Float32Array.from(rows.flat()), [2, 3])]),
      );
      const outputs = await session.run(feeds);
      const expected = await valueAndGrad(objectives[id], otherBatch, {} as never, { backend: await createOnnxruntimeBackend() });
      expect(Number(outputs.loss.data[0])).toBeCloseTo(expected.loss, 5);
      await session.release();
    });
  }
});

const python = findPythonWithOnnx();

describe('an exported model in Python (onnx.checker full check, onnxruntime)', () => {
  for (const [name, batch, params] of [
    ['logits', logitsBatch, { beta: 1.5 }],
    ['logps', logpsBatch, {}],
    ['hidden states', hiddenBatch, {}],
  ] as const) {
    it.skipIf(!python.ok)(
      `${name}: passes check_model(full_check=True) and computes the backend's loss${python.ok ? '' : ` (skipped: ${python.reason})`}`,
      async () => {
        if (!python.ok) return;
        const exported = await exportOnnxModel(simpo, batch as Batch, params);
        const dir = mkdtempSync(join(tmpdir(), 'pref-export-py-'));
        writeFileSync(join(dir, 'model.onnx'), exported.model);
        const inputs = exported.inputs.map((i) => ({
          name: i.name,
          type: i.type,
          dims: i.dims,
          values: Array.from(i.data as ArrayLike<number>, Number),
        }));
        writeFileSync(join(dir, 'model.onnx.json'), JSON.stringify({ inputs }));
        const run = spawnSync(python.command, [RUN_EXPORTED_MODEL, join(dir, 'model.onnx'), join(dir, 'model.onnx.json')], {
          encoding: 'utf8',
        });
        expect(run.stderr).toBe('');
        expect(run.status).toBe(0);
        const outputs = JSON.parse(run.stdout) as Record<string, number[]>;
        const expected = await valueAndGrad(simpo, batch as Batch, params as never, { backend: await createOnnxruntimeBackend() });
        expect(outputs.loss[0]).toBeCloseTo(expected.loss, 6);
        for (const [grad, value] of Object.entries(expected.grads)) {
          expect(worstMismatch(outputs[`grad/${grad}`], value.data, 1e-5, 1e-6), grad).toBeLessThanOrEqual(1);
        }
      },
    );
  }
});

describe('every installed objective exports a model that Python checks and runs to the backend loss', async () => {
  const { objectives } = await installedObjectives();
  const firstCases = new Map<string, ReturnType<typeof loadConformanceCases>[number]>();
  for (const testCase of loadConformanceCases()) {
    if ('error' in testCase.expected || !objectives[testCase.objective] || firstCases.has(testCase.objective)) continue;
    firstCases.set(testCase.objective, testCase);
  }
  it.skipIf(!python.ok)(`${[...firstCases.keys()].join(', ')}${python.ok ? '' : ` (skipped: ${python.reason})`}`, async () => {
    if (!python.ok) return;
    const dir = mkdtempSync(join(tmpdir(), 'pref-export-all-'));
    const args: string[] = [];
    const expected: number[] = [];
    for (const [id, testCase] of firstCases) {
      const objective = objectives[id];
      const options = { state: testCase.state ?? null };
      const exported = await exportOnnxModel(objective, testCase.inputs as Batch, testCase.params, options);
      const inputs = exported.inputs.map((i) => ({
        name: i.name,
        type: i.type,
        dims: i.dims,
        values: Array.from(i.data as ArrayLike<number>, Number),
      }));
      writeFileSync(join(dir, `${id}.onnx`), exported.model);
      writeFileSync(join(dir, `${id}.json`), JSON.stringify({ inputs }));
      args.push(join(dir, `${id}.onnx`), join(dir, `${id}.json`));
      const backend = await createOnnxruntimeBackend();
      expected.push((await valueAndGrad(objective, testCase.inputs as Batch, testCase.params as never, { backend, ...options })).loss);
    }
    const run = spawnSync(python.command, [RUN_EXPORTED_MODEL, ...args], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const parsed = JSON.parse(run.stdout) as Record<string, number[]> | Record<string, number[]>[];
    const results = Array.isArray(parsed) ? parsed : [parsed];
    [...firstCases.keys()].forEach((id, k) => expect(results[k].loss[0], id).toBeCloseTo(expected[k], 5));
  });
});
