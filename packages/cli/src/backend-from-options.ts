import { createBackend, loadBackendConfig, parseBackendSpec, type BackendConfig, type PrefBackend } from '@pref/core';
import { UsageError, type CliIo } from './cli-io';

/** The backend named by `--backend`/`--precision`, else the configured one (PREF_BACKEND, pref.config.json). */
export async function backendFromOptions(io: CliIo, backend: string | undefined, precision: string | undefined): Promise<PrefBackend> {
  let config: BackendConfig = backend
    ? parseBackendSpec(backend, '--backend')
    : await loadBackendConfig({ env: io.env, cwd: io.cwd });
  if (precision !== undefined) {
    if (precision !== '32' && precision !== '64') throw new UsageError(`--precision must be 32 or 64, got ${precision}`);
    config = { ...config, precision: Number(precision) as 32 | 64 };
  }
  return createBackend(config, { env: io.env, cwd: io.cwd });
}
