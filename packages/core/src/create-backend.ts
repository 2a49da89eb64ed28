import type { PrefBackend } from './pref-backend';
import { BACKEND_SPECIFICATION_VERSION } from './pref-backend';
import { PrefBackendError } from './pref-error';
import { loadBackendConfig, type BackendConfig, type LoadBackendConfigOptions } from './backend-config';
import { didYouMean } from './closest-name';
import { KNOWN_ADAPTERS } from './known-adapters';

/** What every adapter package exports for `createBackend`. */
export interface AdapterModule {
  createPrefBackend(config: BackendConfig): Promise<PrefBackend>;
}

export interface CreateBackendOptions extends Omit<LoadBackendConfigOptions, 'explicit'> {
  /** Loads an adapter package by name (default: dynamic `import`). */
  readonly importAdapter?: (packageName: string) => Promise<unknown>;
}

function isModuleNotFound(error: unknown, packageName: string): boolean {
  const e = error as { code?: string; message?: string };
  return (
    e?.code === 'ERR_MODULE_NOT_FOUND' ||
    e?.code === 'MODULE_NOT_FOUND' ||
    (typeof e?.message === 'string' && e.message.includes(packageName) && /cannot find|failed to resolve|not found/i.test(e.message))
  );
}

/**
 * A backend from config: the explicit one, `PREF_BACKEND`, or `pref.config.json` (see
 * `loadBackendConfig`). Adapters are imported lazily by package name. With a list, the first
 * backend that starts wins; when none does, one `PrefBackendError` lists each attempt and
 * what to do about it ("install @pref/adapter-webgpu", "no GPU adapter found", ...).
 */
export async function createBackend(config?: BackendConfig | string, options: CreateBackendOptions = {}): Promise<PrefBackend> {
  const resolved = await loadBackendConfig({ ...options, explicit: config });
  const names = typeof resolved.backend === 'string' ? [resolved.backend] : [...resolved.backend];
  const importAdapter = options.importAdapter ?? ((name: string) => import(/* @vite-ignore */ name));
  const attempts: { backend: string; reason: string }[] = [];
  for (const name of names) {
    const [adapterName] = name.split(':');
    const known = KNOWN_ADAPTERS[adapterName];
    const packageName = known?.packageName ?? (adapterName.startsWith('@') ? adapterName : `@pref/adapter-${adapterName}`);
    let adapter: AdapterModule;
    try {
      adapter = (await importAdapter(packageName)) as AdapterModule;
    } catch (error) {
      attempts.push({
        backend: name,
        reason: !isModuleNotFound(error, packageName)
          ? `could not load ${packageName}: ${(error as Error).message}`
          : known
            ? `not installed: ${known.install}`
            : adapterName.startsWith('@')
              ? `not installed: npm i ${packageName}`
              : `unknown backend ${JSON.stringify(name)}${didYouMean(adapterName, Object.keys(KNOWN_ADAPTERS))}; known backends: ${Object.keys(KNOWN_ADAPTERS).join(', ')} (a third-party adapter is named by its package, e.g. @acme/pref-adapter)`,
      });
      continue;
    }
    if (typeof adapter?.createPrefBackend !== 'function') {
      attempts.push({ backend: name, reason: `${packageName} does not export createPrefBackend` });
      continue;
    }
    try {
      const backend = await adapter.createPrefBackend({ ...resolved, backend: name });
      if (backend.specificationVersion !== BACKEND_SPECIFICATION_VERSION) {
        attempts.push({
          backend: name,
          reason: `${packageName} implements backend specification ${backend.specificationVersion}, this core needs ${BACKEND_SPECIFICATION_VERSION}: upgrade one of them`,
        });
        continue;
      }
      return backend;
    } catch (error) {
      attempts.push({ backend: name, reason: (error as Error).message });
    }
  }
  const lines = attempts.map((a) => `  - ${a.backend}: ${a.reason}`).join('\n');
  throw new PrefBackendError(`no backend could start:\n${lines}`, attempts);
}
