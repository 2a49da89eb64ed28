import {
  createBackend,
  KNOWN_ADAPTERS,
  loadBackendConfig,
  parseBackendSpec,
  PrefConfigError,
  type BackendConfig,
  type PrefBackend,
} from '@pref/core';
import { UsageError, type CliIo } from './cli-io';

/** The backend named by `--backend`/`--precision`, else the configured one (PREF_BACKEND, pref.config.json). */
export async function backendFromOptions(io: CliIo, backend: string | undefined, precision: string | undefined): Promise<PrefBackend> {
  let config: BackendConfig;
  try {
    config = backend ? parseBackendSpec(backend, '--backend') : await loadBackendConfig({ env: io.env, cwd: io.cwd });
  } catch (error) {
    if (error instanceof PrefConfigError && backend) throw new UsageError(error.message);
    throw error;
  }
  if (backend) {
    for (const name of typeof config.backend === 'string' ? [config.backend] : config.backend) {
      const adapter = name.split(':')[0];
      if (!(adapter in KNOWN_ADAPTERS) && !adapter.startsWith('@')) {
        throw new UsageError(
          `--backend: unknown backend "${name}"; known backends: ${Object.keys(KNOWN_ADAPTERS).join(', ')} (or an adapter package name such as @acme/pref-adapter)`,
        );
      }
    }
  }
  if (precision !== undefined) {
    if (precision !== '32' && precision !== '64') throw new UsageError(`--precision must be 32 or 64, got ${precision}`);
    config = { ...config, precision: Number(precision) as 32 | 64 };
  }
  return createBackend(config, { env: io.env, cwd: io.cwd });
}
