import type { BackendConfig } from '@pref/core';
import { ReferenceBackend, type ReferenceBackendOptions } from './reference-backend';

/**
 * Factory `createBackend` calls with the config:
 * `{ "backend": "reference", "precision": 64 | 32, "kernels": "auto" | "wasm" | "js", "threads": n }`.
 */
export async function createPrefBackend(config: BackendConfig): Promise<ReferenceBackend> {
  // The constructor checks every option (a bad precision or kernels is a PrefConfigError there).
  return new ReferenceBackend({
    precision: config.precision,
    kernels: config.kernels as ReferenceBackendOptions['kernels'],
    threads: config.threads as number | undefined,
  });
}
