import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { PrefBackendError, PrefError } from '@pref/core';
import { resolveExecutionProviders } from '../src/execution-providers';
import { missingProviderLibrary, onnxruntimeNodeLibraryDir } from '../src/provider-libraries';
import type { OrtRuntime } from '../src';

/** A runtime whose sessions always start, counting how often onnxruntime is asked. */
function countingRuntime() {
  const create = vi.fn(async () => ({ run: async () => ({}), release: async () => {} }));
  return { runtime: { InferenceSession: { create }, Tensor: class {} } as unknown as OrtRuntime, create };
}

const options = (libraryDir: string | null, fallback = false) => ({
  fallback,
  probeModel: new Uint8Array(),
  sessionOptions: {},
  libraryDir,
});

describe('provider libraries are checked before onnxruntime is asked (no native error on stderr)', () => {
  it('names the first missing library of cuda and tensorrt; built-in providers need none', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ort-libs-'));
    expect(missingProviderLibrary(dir, 'cuda', 'linux')).toBe('libonnxruntime_providers_shared.so');
    writeFileSync(join(dir, 'libonnxruntime_providers_shared.so'), '');
    expect(missingProviderLibrary(dir, 'cuda', 'linux')).toBe('libonnxruntime_providers_cuda.so');
    writeFileSync(join(dir, 'libonnxruntime_providers_cuda.so'), '');
    expect(missingProviderLibrary(dir, 'cuda', 'linux')).toBeNull();
    expect(missingProviderLibrary(dir, 'tensorrt', 'linux')).toBe('libonnxruntime_providers_tensorrt.so');
    expect(missingProviderLibrary(dir, 'cuda', 'win32')).toBe('onnxruntime_providers_shared.dll');
    expect(missingProviderLibrary(dir, 'webgpu', 'linux')).toBeNull();
  });

  it('finds the installed binding folder of onnxruntime-node', () => {
    const dir = onnxruntimeNodeLibraryDir();
    expect(dir).toMatch(new RegExp(`onnxruntime-node.bin.napi-v\\d+.${process.platform}.${process.arch}$`));
  });

  it('a missing CUDA library is a PrefBackendError naming the provider and how to install it, without a session attempt', async () => {
    const { runtime, create } = countingRuntime();
    const dir = mkdtempSync(join(tmpdir(), 'ort-libs-'));
    const attempt = resolveExecutionProviders(runtime, ['cuda'], options(dir));
    await expect(attempt).rejects.toBeInstanceOf(PrefBackendError);
    await expect(attempt).rejects.toBeInstanceOf(PrefError);
    await expect(attempt).rejects.toThrow(/CUDA execution provider of onnxruntime-node is not installed .*libonnxruntime_providers_shared/);
    await expect(attempt).rejects.toThrow(/ONNXRUNTIME_NODE_INSTALL=cuda12/);
    const error = (await attempt.catch((e: unknown) => e)) as PrefBackendError;
    expect(error.attempts).toEqual([{ backend: 'onnxruntime:cuda', reason: expect.stringMatching(/not installed/) }]);
    expect(create).not.toHaveBeenCalled();
  });

  it('with fallback (or cpu in the list) the provider is skipped with the reason, still without a session attempt', async () => {
    const { runtime, create } = countingRuntime();
    const dir = mkdtempSync(join(tmpdir(), 'ort-libs-'));
    for (const [requested, fallback] of [
      [['cuda'], true],
      [['cuda', 'cpu'], false],
    ] as const) {
      const { active, skipped } = await resolveExecutionProviders(runtime, requested, options(dir, fallback));
      expect(active).toEqual(['cpu']);
      expect(skipped).toEqual([{ name: 'cuda', reason: expect.stringMatching(/not installed/) }]);
    }
    expect(create).not.toHaveBeenCalled();
  });

  it.skipIf(process.platform !== 'linux')(
    'a provider whose libraries are present (linux file names) is probed with onnxruntime logging fatal errors only',
    async () => {
      const { runtime, create } = countingRuntime();
      const dir = mkdtempSync(join(tmpdir(), 'ort-libs-'));
      for (const lib of ['shared', 'cuda']) writeFileSync(join(dir, `libonnxruntime_providers_${lib}.so`), '');
      const { active } = await resolveExecutionProviders(runtime, ['cuda'], options(dir));
      expect(active).toEqual(['cuda']);
      expect(create).toHaveBeenCalledTimes(1);
      expect((create.mock.calls[0] as unknown as [unknown, { logSeverityLevel: number }])[1].logSeverityLevel).toBe(4);
    },
  );
});
