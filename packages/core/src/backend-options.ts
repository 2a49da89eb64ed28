import { PrefConfigError } from './pref-error';
import { formatValue } from './host-tensor';
import { didYouMean } from './closest-name';

type OptionCheck = (value: unknown) => string | null;

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

/** The options each built-in adapter reads, and the `name:variant` suffixes it accepts. */
export const BACKEND_OPTIONS: Readonly<
  Record<string, { readonly options: Readonly<Record<string, OptionCheck>>; readonly variants: readonly string[] | 'any' }>
> = {
  reference: { options: { kernels: oneOf('auto', 'wasm', 'js'), threads: positiveInteger }, variants: [] },
  tfjs: {
    options: { tfjsBackend: oneOf('cpu', 'wasm', 'webgpu', 'tensorflow'), tokenKernel: oneOf('auto', 'wasm', 'tfjs') },
    variants: ['cpu', 'wasm', 'webgpu', 'tensorflow'],
  },
  onnxruntime: {
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
  webgpu: { options: { powerPreference: oneOf('low-power', 'high-performance'), subgroups: boolean, logger: object }, variants: [] },
};

const COMMON_OPTIONS: Readonly<Record<string, OptionCheck>> = { backend: () => null, precision: oneOf(32, 64) };

/**
 * Checks a config's keys and values against the adapters it names: an unknown key (with the
 * nearest known one), a bad value, or a `name:variant` the adapter lacks is a `PrefConfigError`
 * naming the key and where the config came from. Keys of third-party adapters are not checked.
 */
export function checkBackendOptions(config: Readonly<Record<string, unknown>>, origin: string): void {
  const names = typeof config.backend === 'string' ? [config.backend] : (config.backend as readonly string[]);
  const known: Record<string, OptionCheck> = { ...COMMON_OPTIONS };
  let allBuiltIn = true;
  for (const name of names) {
    const [adapter, variant, ...extra] = name.split(':');
    const spec = BACKEND_OPTIONS[adapter];
    if (!spec) {
      allBuiltIn = false;
      continue;
    }
    Object.assign(known, spec.options);
    if (variant === undefined) continue;
    const variants = spec.variants;
    const valid = extra.length === 0 && variant !== '' && (variants === 'any' || variants.includes(variant));
    if (!valid) {
      const choices =
        variants === 'any'
          ? 'an execution provider name'
          : variants.length
            ? variants.map((v) => `${adapter}:${v}`).join(', ')
            : `no variants (use "${adapter}")`;
      throw new PrefConfigError('backend', `${origin}: unknown backend ${JSON.stringify(name)}; ${adapter} takes ${choices}`);
    }
  }
  for (const [key, value] of Object.entries(config)) {
    const check = known[key];
    if (!check) {
      if (!allBuiltIn) continue;
      throw new PrefConfigError(
        key,
        `${origin}: unknown key ${JSON.stringify(key)}${didYouMean(key, Object.keys(known))}; ${names.join(', ')} read ${Object.keys(known)
          .filter((k) => k !== 'backend')
          .join(', ')}`,
      );
    }
    const problem = value === undefined ? null : check(value);
    if (problem) throw new PrefConfigError(key, `${origin}: ${key} ${problem}, got ${formatValue(value)}`);
  }
}
