import { describe, expect, it } from 'vitest';
import { createBackend, loadBackendConfig, PrefBackendError, PrefConfigError } from '../src';

const configError = async (run: () => Promise<unknown>): Promise<PrefConfigError> => {
  const error = await run().then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PrefConfigError);
  expect(error).toBeInstanceOf(PrefBackendError);
  return error as PrefConfigError;
};

describe('backend config validation', () => {
  it('a misspelled key is refused with the nearest known key', async () => {
    const e = await configError(() => loadBackendConfig({ explicit: { backend: 'reference', precison: 32 }, env: {} }));
    expect(e.key).toBe('precison');
    expect(e.message).toMatch(/unknown key "precison" \(did you mean precision\?\)/);
  });

  it('threads -1, precision 16 and a bad kernels value are refused, naming the key', async () => {
    expect((await configError(() => loadBackendConfig({ explicit: { backend: 'reference', threads: -1 }, env: {} }))).message).toMatch(
      /threads must be an integer ≥ 1, got -1/,
    );
    expect((await configError(() => loadBackendConfig({ explicit: { backend: 'reference', precision: 16 as never }, env: {} }))).key).toBe(
      'precision',
    );
    expect((await configError(() => loadBackendConfig({ explicit: { backend: 'reference', kernels: 'gpu' }, env: {} }))).key).toBe(
      'kernels',
    );
  });

  it('webgpu:nope and tfjs:gpu are refused with the variants there are', async () => {
    expect((await configError(() => loadBackendConfig({ explicit: 'webgpu:nope', env: {} }))).message).toMatch(
      /unknown backend "webgpu:nope"; webgpu takes no variants/,
    );
    expect((await configError(() => loadBackendConfig({ explicit: 'tfjs:gpu', env: {} }))).message).toMatch(
      /tfjs:cpu, tfjs:wasm, tfjs:webgpu, tfjs:tensorflow/,
    );
    await expect(loadBackendConfig({ explicit: 'onnxruntime:cuda', env: {} })).resolves.toEqual({ backend: 'onnxruntime:cuda' });
  });

  it('PREF_BACKEND holding a JSON list is parsed as JSON, not split on commas', async () => {
    expect(await loadBackendConfig({ env: { PREF_BACKEND: '["webgpu", "reference"]' } })).toEqual({ backend: ['webgpu', 'reference'] });
    expect((await configError(() => loadBackendConfig({ env: { PREF_BACKEND: '["webgpu", ' } }))).message).toMatch(
      /PREF_BACKEND: invalid JSON/,
    );
  });

  it('keys of third-party adapters are not second-guessed', async () => {
    await expect(loadBackendConfig({ explicit: { backend: '@acme/pref-adapter', anything: 1 }, env: {} })).resolves.toMatchObject({
      anything: 1,
    });
  });

  it('an unknown backend name lists the known backends', async () => {
    const notFound = (name: string) => Object.assign(new Error(`Cannot find package '${name}'`), { code: 'ERR_MODULE_NOT_FOUND' });
    const attempt = createBackend('garbage', {
      env: {},
      importAdapter: async (name) => {
        throw notFound(name);
      },
    });
    await expect(attempt).rejects.toThrow(/unknown backend "garbage"; known backends: reference, tfjs, onnxruntime, webgpu/);
    await expect(
      createBackend('refrence', {
        env: {},
        importAdapter: async (name) => {
          throw notFound(name);
        },
      }),
    ).rejects.toThrow(/did you mean reference\?/);
  });
});
