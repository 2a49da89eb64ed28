import {
  createBackend,
  type AnyObjective,
  type BackendConfig,
  type Batch,
  type PrefBackend,
  type ValueAndGradOptions,
  type ValueAndGradResult,
} from '@pref/core';

/** Loads a package by name (default: dynamic `import`); injectable for tests and source runs. */
export type ImportModule = (packageName: string) => Promise<unknown>;

export const defaultImportModule: ImportModule = (name) => import(/* @vite-ignore */ name);

/**
 * Core's `valueAndGrad` as the workloads call it (injectable for tests). The options may carry
 * fields this core does not declare yet (`gradients`), which a core that lacks them ignores.
 */
export type ValueAndGradFn = (
  objective: AnyObjective,
  batch: Batch,
  params: Readonly<Record<string, unknown>>,
  options: ValueAndGradOptions,
) => Promise<ValueAndGradResult>;

/** A backend the suite can measure: an id, the config it is created from, and how to create it. */
export interface BenchBackendSpec {
  readonly id: string;
  /** The `createBackend` config (reported in the JSON). */
  readonly config: BackendConfig;
  /**
   * Whether instances share process-global state (tfjs: one active tfjs backend per process),
   * so the suite creates it again before each use instead of reusing one instance.
   */
  readonly sharesGlobalState?: boolean;
  /** Creates the backend; throws with the reason when it cannot start here. */
  readonly create: () => Promise<PrefBackend>;
}

/** Configs of the backends `--backends` accepts, in the default order. */
export const BENCH_BACKEND_CONFIGS: Readonly<Record<string, BackendConfig>> = {
  reference: { backend: 'reference', precision: 64 },
  'reference-f32': { backend: 'reference', precision: 32 },
  'reference-js': { backend: 'reference', precision: 64, kernels: 'js' },
  'reference-f32-js': { backend: 'reference', precision: 32, kernels: 'js' },
  'tfjs-cpu': { backend: 'tfjs', tfjsBackend: 'cpu' },
  'tfjs-wasm': { backend: 'tfjs', tfjsBackend: 'wasm' },
  onnxruntime: { backend: 'onnxruntime' },
  webgpu: { backend: 'webgpu' },
};

/** What `pref bench` runs without `--backends`: every backend, those that cannot start listed as skipped. */
export const DEFAULT_BENCH_BACKENDS = ['reference', 'reference-f32', 'tfjs-cpu', 'tfjs-wasm', 'onnxruntime', 'webgpu'] as const;

/** The config of the float64 oracle every result is checked against: the pure-TS reference path. */
export const ORACLE_CONFIG: BackendConfig = { backend: 'reference', precision: 64, kernels: 'js' };

/**
 * The float64 oracle of linear (hidden-state) shapes too large for the pure-TS one: the reference
 * backend with its WebAssembly kernels, which its tests hold to the pure-TS oracle.
 */
export const WASM_ORACLE_CONFIG: BackendConfig = { backend: 'reference', precision: 64 };

/** A spec that creates its backend through core's `createBackend` (adapters imported lazily by package name). */
export function benchBackendSpec(id: string, config: BackendConfig, importModule: ImportModule = defaultImportModule): BenchBackendSpec {
  return {
    id,
    config,
    sharesGlobalState: config.backend === 'tfjs',
    create: () => createBackend(config, { importAdapter: importModule }),
  };
}

/** Specs for `--backends` ids; an unknown id is an error listing the known ones. */
export function resolveBenchBackends(ids: readonly string[], importModule: ImportModule = defaultImportModule): BenchBackendSpec[] {
  return ids.map((id) => {
    const config = BENCH_BACKEND_CONFIGS[id];
    if (!config) throw new RangeError(`unknown backend "${id}"; expected one of ${Object.keys(BENCH_BACKEND_CONFIGS).join(', ')}`);
    return benchBackendSpec(id, config, importModule);
  });
}

/** The first line of a start-up error (core lists each attempt; the reason is on the attempt line). */
export function startFailureReason(error: unknown): string {
  const e = error as Error & { attempts?: readonly { reason: string }[] };
  if (e?.attempts?.length) return e.attempts.map((a) => a.reason).join('; ');
  return String(e?.message ?? error).split('\n')[0];
}
