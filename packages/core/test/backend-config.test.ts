import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createBackend, loadBackendConfig, PrefBackendError, type PrefBackend } from '../src';
import { BACKEND_SPECIFICATION_VERSION } from '../src/backend';

const dirWith = (config?: string) => {
  const dir = mkdtempSync(join(tmpdir(), 'pref-config-'));
  if (config !== undefined) writeFileSync(join(dir, 'pref.config.json'), config);
  return dir;
};

describe('loadBackendConfig', () => {
  it('explicit beats PREF_BACKEND beats pref.config.json beats the default', async () => {
    const cwd = dirWith('{ "backend": "onnxruntime", "executionProviders": ["cpu"] }');
    expect(await loadBackendConfig({ cwd, env: {} })).toEqual({ backend: 'onnxruntime', executionProviders: ['cpu'] });
    expect(await loadBackendConfig({ cwd, env: { PREF_BACKEND: 'webgpu,reference' } })).toEqual({ backend: ['webgpu', 'reference'] });
    expect(await loadBackendConfig({ cwd, env: { PREF_BACKEND: '{"backend":"tfjs","tfjsBackend":"wasm"}' } })).toEqual({
      backend: 'tfjs',
      tfjsBackend: 'wasm',
    });
    expect(await loadBackendConfig({ cwd, env: { PREF_BACKEND: 'tfjs' }, explicit: 'reference' })).toEqual({ backend: 'reference' });
    expect(await loadBackendConfig({ cwd: dirWith(), env: {} })).toEqual({ backend: 'reference' });
  });

  it('says what is wrong with a bad config', async () => {
    await expect(loadBackendConfig({ cwd: dirWith('{ nope'), env: {} })).rejects.toThrow(/pref.config.json: invalid JSON/);
    await expect(loadBackendConfig({ cwd: dirWith('{ "backend": 3 }'), env: {} })).rejects.toThrow(/"backend" must be a backend name/);
    await expect(loadBackendConfig({ env: { PREF_BACKEND: '{"backend": []}' } })).rejects.toThrow(/PREF_BACKEND/);
  });
});

describe('createBackend', () => {
  const fakeBackend = { specificationVersion: BACKEND_SPECIFICATION_VERSION, name: 'fake' } as unknown as PrefBackend;
  const notFound = (name: string) => Object.assign(new Error(`Cannot find package '${name}'`), { code: 'ERR_MODULE_NOT_FOUND' });

  it('loads the adapter package lazily and passes it the config', async () => {
    const seen: unknown[] = [];
    const backend = await createBackend(
      { backend: 'webgpu', powerPreference: 'low-power' },
      {
        importAdapter: async (name) => {
          expect(name).toBe('@pref/adapter-webgpu');
          return { createPrefBackend: async (config: unknown) => (seen.push(config), fakeBackend) };
        },
      },
    );
    expect(backend).toBe(fakeBackend);
    expect(seen).toEqual([{ backend: 'webgpu', powerPreference: 'low-power' }]);
  });

  it('falls through a list and reports every attempt in one actionable error', async () => {
    const attempt = createBackend(
      { backend: ['webgpu', 'onnxruntime', 'tfjs'] },
      {
        importAdapter: async (name) => {
          if (name === '@pref/adapter-webgpu')
            return {
              createPrefBackend: async () => {
                throw new Error('no GPU adapter found');
              },
            };
          if (name === '@pref/adapter-tfjs') return { createPrefBackend: async () => ({ ...fakeBackend, specificationVersion: 99 }) };
          throw notFound(name);
        },
      },
    );
    await expect(attempt).rejects.toBeInstanceOf(PrefBackendError);
    const error = (await attempt.catch((e) => e)) as PrefBackendError;
    expect(error.message).toMatch(/webgpu: no GPU adapter found/);
    expect(error.message).toMatch(/onnxruntime: not installed: npm i @pref\/adapter-onnxruntime onnxruntime-node/);
    expect(error.message).toMatch(/tfjs: .*specification 99/);
    expect(error.attempts.map((a) => a.backend)).toEqual(['webgpu', 'onnxruntime', 'tfjs']);
  });

  it('uses the first backend of a list that starts', async () => {
    const backend = await createBackend('webgpu,reference', {
      importAdapter: async (name) => {
        if (name === '@pref/adapter-reference') return { createPrefBackend: async () => fakeBackend };
        throw notFound(name);
      },
    });
    expect(backend.name).toBe('fake');
  });
});
