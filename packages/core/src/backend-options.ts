import { PrefConfigError } from './pref-error';
import { formatValue } from './host-tensor';
import { didYouMean } from './closest-name';
import { COMMON_OPTIONS, KNOWN_ADAPTERS, type OptionCheck } from './known-adapters';

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
    const spec = KNOWN_ADAPTERS[adapter];
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
