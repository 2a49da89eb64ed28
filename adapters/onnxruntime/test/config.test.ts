import { afterEach, describe, expect, it, vi } from 'vitest';
import { createBackend, PrefBackendError, valueAndGrad } from '@pref/core';
import { describeConformance } from '@pref/testing';
import { simpo } from '@pref/simpo';
import { createOnnxruntimeBackend, OnnxruntimeBackend } from '../src';

/** Whether the CUDA provider of onnxruntime-node starts on this machine, and why not. */
const cuda = await createOnnxruntimeBackend({ executionProviders: ['cuda'] }).then(
  (backend) => ({ available: true as const, backend }),
  (error: Error) => ({ available: false as const, reason: error.message }),
);

afterEach(() => {
  vi.restoreAllMocks();
});

describe('backend selection through core createBackend', () => {
  it('{ "backend": "onnxruntime" } gives the lazy float32 backend on the CPU provider', async () => {
    const backend = await createBackend({ backend: 'onnxruntime' }, { env: {} });
    expect(backend).toBeInstanceOf(OnnxruntimeBackend);
    expect(backend.name).toBe('onnxruntime:cpu');
    expect(backend.capabilities).toMatchObject({ precision: 32, execution: 'lazy', nativeAutodiff: false });
  });

  it('"onnxruntime:cpu" names the provider, and PREF_BACKEND JSON passes session options through', async () => {
    expect((await createBackend('onnxruntime:cpu', { env: {} })).name).toBe('onnxruntime:cpu');
    const env = {
      PREF_BACKEND: JSON.stringify({
        backend: 'onnxruntime',
        sessionOptions: { intraOpNumThreads: 1, graphOptimizationLevel: 'disabled' },
      }),
    };
    const backend = await createBackend(undefined, { env });
    const batch = { chosenLogps: [[-1, -2]], chosenMask: [[1, 1]], rejectedLogps: [[-0.5, -3]], rejectedMask: [[1, 0]] };
    const result = await valueAndGrad(simpo, batch, {}, { backend });
    const optimized = await valueAndGrad(simpo, batch, {}, { backend: await createBackend('onnxruntime', { env: {} }) });
    expect(result.loss).toBeCloseTo(optimized.loss, 6);
  });

  it('rejects invalid session options when the backend starts, naming them', async () => {
    const attempt = createBackend({ backend: 'onnxruntime', sessionOptions: { graphOptimizationLevel: 'bogus' } }, { env: {} });
    await expect(attempt).rejects.toThrow(/sessionOptions/);
  });

  it('rejects bad config values with the expected form', async () => {
    await expect(createBackend({ backend: 'onnxruntime', precision: 64 }, { env: {} })).rejects.toThrow(
      /float32; precision must be 32, got 64/,
    );
    await expect(createBackend({ backend: 'onnxruntime', executionProviders: 'cuda' }, { env: {} })).rejects.toThrow(
      /executionProviders must be a non-empty list/,
    );
    await expect(createBackend({ backend: 'onnxruntime', fallback: 'yes' }, { env: {} })).rejects.toThrow(/fallback must be true or false/);
  });

  it.skipIf(cuda.available)(
    `CUDA requested but not installed: the error says so and how to install it (skipped where CUDA is installed)`,
    async () => {
      const attempt = createBackend({ backend: 'onnxruntime', executionProviders: ['cuda'] }, { env: {} });
      await expect(attempt).rejects.toThrow(PrefBackendError);
      await expect(attempt).rejects.toThrow(/CUDA execution provider of onnxruntime-node is not installed/);
      await expect(attempt).rejects.toThrow(/ONNXRUNTIME_NODE_INSTALL=cuda12/);
      await expect(attempt).rejects.toThrow(/"fallback": true/);
    },
  );

  it.skipIf(cuda.available)('with "fallback": true a missing CUDA provider is skipped, reported once to warn', async () => {
    const warn = vi.fn();
    const backend = (await createBackend(
      { backend: 'onnxruntime', executionProviders: ['cuda'], fallback: true, warn },
      { env: {} },
    )) as OnnxruntimeBackend;
    expect(backend.name).toBe('onnxruntime:cpu');
    expect(backend.executionProviders).toEqual(['cpu']);
    expect(backend.skippedProviders.map((p) => p.name)).toEqual(['cuda']);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0][0])).toMatch(/skipped execution provider cuda, running on cpu: .*not installed/);
  });

  it.skipIf(cuda.available)('["cuda", "cpu"] (the README example) falls back to the CPU without fallback, printing nothing', async () => {
    const printed = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const backend = (await createBackend(
      { backend: 'onnxruntime', executionProviders: ['cuda', 'cpu'] },
      { env: {} },
    )) as OnnxruntimeBackend;
    expect(backend.executionProviders).toEqual(['cpu']);
    expect(backend.skippedProviders.map((p) => p.name)).toEqual(['cuda']);
    expect(printed).not.toHaveBeenCalled();
    printed.mockRestore();
  });

  it('a backend list falls through onnxruntime:cuda to the next backend when CUDA cannot start', async () => {
    const backend = await createBackend({ backend: ['onnxruntime:cuda', 'onnxruntime:cpu'] }, { env: {} });
    expect(backend.name).toBe(cuda.available ? 'onnxruntime:cuda' : 'onnxruntime:cpu');
  });
});

describe('the CUDA execution provider', () => {
  // Runs the SimPO cases on CUDA where its provider is installed; elsewhere reported as skipped with the reason.
  describeConformance({
    files: ['simpo.json'],
    objectives: { simpo },
    backends: [{ name: 'onnxruntime:cuda', create: async () => (cuda.available ? cuda.backend : { unavailable: cuda.reason }) }],
  });
});
