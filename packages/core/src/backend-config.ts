import { PrefConfigError } from './pref-error';
import { checkBackendOptions } from './backend-options';

/**
 * Which backend to use and its options, as written in `pref.config.json`, e.g.
 * `{ "backend": "onnxruntime", "executionProviders": ["cuda", "cpu"] }` or
 * `{ "backend": ["webgpu", "reference"] }` (the first that starts wins).
 */
export interface BackendConfig {
  readonly backend: string | readonly string[];
  /** Float precision where the backend offers a choice (reference: 64 or 32). */
  readonly precision?: 32 | 64;
  /** Adapter-specific options (`tfjsBackend`, `executionProviders`, `powerPreference`, ...). */
  readonly [option: string]: unknown;
}

export const CONFIG_FILE_NAME = 'pref.config.json';
export const DEFAULT_BACKEND_CONFIG: BackendConfig = { backend: 'reference' };

export interface LoadBackendConfigOptions {
  /** An explicit config or backend name: wins over everything else. */
  readonly explicit?: BackendConfig | string;
  /** Environment to read `PREF_BACKEND` from (default `process.env` where there is one). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Folder holding `pref.config.json` (default the working directory, in Node). */
  readonly cwd?: string;
}

/** Parses a backend given as a name, a comma-separated list, a JSON object, or a JSON list of names. */
export function parseBackendSpec(spec: string, origin: string): BackendConfig {
  const text = spec.trim();
  if (text.startsWith('{') || text.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new PrefConfigError('backend', `${origin}: invalid JSON: ${(error as Error).message}`);
    }
    return validateConfig(Array.isArray(parsed) ? { backend: parsed } : parsed, origin);
  }
  const names = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (names.length === 0) throw new PrefConfigError('backend', `${origin}: empty backend name`);
  return validateConfig({ backend: names.length === 1 ? names[0] : names }, origin);
}

function validateConfig(value: unknown, origin: string): BackendConfig {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new PrefConfigError('backend', `${origin}: expected an object like { "backend": "reference" }`);
  }
  const backend = (value as { backend?: unknown }).backend;
  const valid =
    typeof backend === 'string' || (Array.isArray(backend) && backend.length > 0 && backend.every((b) => typeof b === 'string'));
  if (!valid) throw new PrefConfigError('backend', `${origin}: "backend" must be a backend name or a non-empty list of names`);
  checkBackendOptions(value as Record<string, unknown>, origin);
  return value as BackendConfig;
}

/**
 * The backend config in force: the explicit one, else `PREF_BACKEND` (a name, a list, or
 * JSON), else `pref.config.json` in `cwd`, else the reference backend.
 */
export async function loadBackendConfig(options: LoadBackendConfigOptions = {}): Promise<BackendConfig> {
  if (options.explicit !== undefined) {
    return typeof options.explicit === 'string'
      ? parseBackendSpec(options.explicit, 'backend option')
      : validateConfig(options.explicit, 'backend option');
  }
  const env = options.env ?? (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env ?? {};
  if (env.PREF_BACKEND) return parseBackendSpec(env.PREF_BACKEND, 'PREF_BACKEND');
  const fromFile = await readConfigFile(options.cwd);
  return fromFile ?? DEFAULT_BACKEND_CONFIG;
}

async function readConfigFile(cwd: string | undefined): Promise<BackendConfig | null> {
  const proc = (globalThis as { process?: { cwd(): string; versions?: { node?: string } } }).process;
  if (!proc?.versions?.node) return null;
  const [{ readFile }, { join }] = await Promise.all([import('node:fs/promises'), import('node:path')]);
  const path = join(cwd ?? proc.cwd(), CONFIG_FILE_NAME);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return null;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new PrefConfigError('backend', `${path}: invalid JSON: ${(error as Error).message}`);
  }
  return validateConfig(parsed, path);
}
