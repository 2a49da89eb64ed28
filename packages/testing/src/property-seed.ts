import fc from 'fast-check';

/** The seed property tests run with unless `PREF_PROPERTY_SEED` says otherwise. */
export const DEFAULT_PROPERTY_SEED = 20261203;

/** The fast-check seed in force: `PREF_PROPERTY_SEED` (an integer) or {@link DEFAULT_PROPERTY_SEED}. */
export function propertySeed(env: Readonly<Record<string, string | undefined>> = process.env): number {
  const text = env.PREF_PROPERTY_SEED;
  if (text === undefined || text === '') return DEFAULT_PROPERTY_SEED;
  const seed = Number(text);
  if (!Number.isInteger(seed) || Math.abs(seed) > 2 ** 31) {
    throw new Error(`PREF_PROPERTY_SEED must be an integer in [-2^31, 2^31], got ${JSON.stringify(text)}`);
  }
  return seed;
}

/**
 * Makes every `fc.assert` without its own `seed` run from {@link propertySeed} (vitest setup
 * file of every project), so a CI failure reruns locally: fast-check's failure message carries
 * the seed and the shrunk path (`{ seed: …, path: "…" }`); rerun with
 * `PREF_PROPERTY_SEED=<seed>` (and `path` in the assert's parameters to replay one case).
 */
export function configurePropertySeed(env: Readonly<Record<string, string | undefined>> = process.env): number {
  const seed = propertySeed(env);
  fc.configureGlobal({ ...fc.readConfigureGlobal(), seed });
  return seed;
}
