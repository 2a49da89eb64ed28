import { PrefConfigError, type BackendConfig } from '@pref/core';
import { ReferenceBackend, type ReferenceBackendOptions } from './reference-backend';

/**
 * Factory `createBackend` calls with the config:
 * `{ "backend": "reference", "precision": 64 | 32, "kernels": "auto" | "wasm" | "js", "threads": n }`.
 */
export async function createPrefBackend(config: BackendConfig): Promise<ReferenceBackend> {
  const precision = config.precision ?? 64;
  if (precision !== 32 && precision !== 64) throw new PrefConfigError('precision', `precision must be 32 or 64, got ${String(precision)}`);
  return new ReferenceBackend({
    precision,
    kernels: config.kernels as ReferenceBackendOptions['kernels'],
    threads: config.threads as number | undefined,
  });
}
