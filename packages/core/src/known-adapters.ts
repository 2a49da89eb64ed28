/** A config value's check: `null` when valid, else what it must be. */
export type OptionCheck = (value: unknown) => string | null;

const oneOf =
  (...values: readonly unknown[]): OptionCheck =>
  (v) =>
    values.includes(v) ? null : `must be one of ${values.map((x) => JSON.stringify(x)).join(', ')}`;
const boolean: OptionCheck = (v) => (typeof v === 'boolean' ? null : 'must be true or false');
const positiveInteger: OptionCheck = (v) => (typeof v === 'number' && Number.isInteger(v) && v >= 1 ? null : 'must be an integer ≥ 1');
const object: OptionCheck = (v) => (typeof v === 'object' && v !== null && !Array.isArray(v) ? null : 'must be an object');
const fn: OptionCheck = (v) => (typeof v === 'function' ? null : 'must be a function (programmatic use only)');
const providers: OptionCheck = (v) =>
  Array.isArray(v) &&
  v.length > 0 &&
  v.every((p) => typeof p === 'string' || (typeof p === 'object' && p !== null && typeof (p as { name?: unknown }).name === 'string'))
    ? null
    : 'must be a non-empty list of provider names like ["cuda", "cpu"]';

/** What `createBackend` knows of a built-in adapter. */
export interface KnownAdapter {
  /** The package `createBackend` imports. */
  readonly packageName: string;
  /** The install command shown when the package is missing. */
  readonly install: string;
  /** The config keys it reads, each with its check (`checkBackendOptions`). */
  readonly options: Readonly<Record<string, OptionCheck>>;
  /** The `name:variant` suffixes it accepts (`'any'`: any non-empty one). */
  readonly variants: readonly string[] | 'any';
}

/** The one list of built-in adapters: a new backend adds its entry here and nowhere else in core. */
export const KNOWN_ADAPTERS: Readonly<Record<string, KnownAdapter>> = {
  reference: {
    packageName: '@pref/adapter-reference',
    install: 'npm i @pref/adapter-reference',
    options: { kernels: oneOf('auto', 'wasm', 'js'), threads: positiveInteger },
    variants: [],
  },
  tfjs: {
    packageName: '@pref/adapter-tfjs',
    install: 'npm i @pref/adapter-tfjs @tensorflow/tfjs-core @tensorflow/tfjs-backend-cpu',
    options: { tfjsBackend: oneOf('cpu', 'wasm', 'webgpu', 'tensorflow'), tokenKernel: oneOf('auto', 'wasm', 'tfjs') },
    variants: ['cpu', 'wasm', 'webgpu', 'tensorflow'],
  },
  onnxruntime: {
    packageName: '@pref/adapter-onnxruntime',
    install: 'npm i @pref/adapter-onnxruntime onnxruntime-node',
    options: {
      executionProviders: providers,
      fallback: boolean,
      sessionOptions: object,
      maxCachedSessions: positiveInteger,
      reuseOutputs: boolean,
      logger: object,
      warn: fn,
    },
    variants: 'any',
  },
  webgpu: {
    packageName: '@pref/adapter-webgpu',
    install: 'npm i @pref/adapter-webgpu webgpu (in Node; browsers have navigator.gpu)',
    options: { powerPreference: oneOf('low-power', 'high-performance'), subgroups: boolean, logger: object },
    variants: [],
  },
};

/** Options every backend reads. */
export const COMMON_OPTIONS: Readonly<Record<string, OptionCheck>> = { backend: () => null, precision: oneOf(32, 64) };
