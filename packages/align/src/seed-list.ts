import { PrefParamError } from '@pref/core';

/**
 * Parses `--seeds`: a count `N` (seeds 1..N) or a comma-separated list of integer seeds.
 *
 * @example parseSeedList('5')     // [1, 2, 3, 4, 5]
 * @example parseSeedList('1,2,3') // [1, 2, 3]
 * @example parseSeedList('7,11')  // [7, 11]
 */
export function parseSeedList(text: string): number[] {
  const items = text.split(',').map((item) => item.trim());
  if (items.some((item) => !/^-?\d+$/.test(item))) {
    throw new PrefParamError(
      'seeds',
      `--seeds must be a count (5: seeds 1..5) or a comma-separated list of integers (1,2,3), got ${JSON.stringify(text)}`,
    );
  }
  if (items.length === 1) {
    const count = Number(items[0]);
    if (!(count >= 1)) throw new PrefParamError('seeds', `--seeds: a count must be at least 1, got ${count}`);
    return Array.from({ length: count }, (_, i) => i + 1);
  }
  return checkSeeds(items.map(Number));
}

/** Checks a list of seeds: integers, at least one, none twice. Returns it. */
export function checkSeeds(seeds: readonly number[]): number[] {
  if (seeds.length === 0) throw new PrefParamError('seeds', 'seeds: give at least one seed');
  const bad = seeds.find((seed) => !Number.isSafeInteger(seed));
  if (bad !== undefined) throw new PrefParamError('seeds', `seeds must be integers, got ${bad}`);
  const repeated = seeds.find((seed, i) => seeds.indexOf(seed) !== i);
  if (repeated !== undefined) throw new PrefParamError('seeds', `seed ${repeated} is listed twice`);
  return [...seeds];
}
