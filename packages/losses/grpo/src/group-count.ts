import { PrefParamError } from '@pref/core';

/**
 * Number of groups when `rows` consecutive rows are grouped `groupSize` at a time (the
 * completions of one prompt are adjacent). Throws a `PrefParamError` naming `groupSize` when it
 * is not an integer ≥ 2 or does not divide `rows`; under data parallelism `rows` is one
 * worker's share, so this also asserts that no group straddles two workers.
 */
export function groupCount(owner: string, rows: number, groupSize: number): number {
  if (!Number.isInteger(groupSize) || groupSize < 2) {
    throw new PrefParamError('groupSize', `${owner}: groupSize must be an integer ≥ 2 (completions per prompt), got ${groupSize}`);
  }
  if (rows % groupSize !== 0) {
    throw new PrefParamError(
      'groupSize',
      `${owner}: ${rows} rows is not a multiple of groupSize ${groupSize}; rows are grouped consecutively, ` +
        `${groupSize} completions per prompt, and with data parallelism every worker must hold whole groups`,
    );
  }
  return rows / groupSize;
}
