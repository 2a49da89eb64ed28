import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseConformanceFile, type ConformanceCase } from '@pref/core';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '../../..');

/**
 * The conformance cases folder: `../shared/conformance/cases` beside the checkout when it is
 * there (CI and developer machines), else the copy kept in `conformance/cases`.
 */
export function conformanceCaseDir(): { dir: string; source: 'shared' | 'vendored' } {
  const shared = process.env.PREF_CONFORMANCE_DIR ?? join(repoRoot, '../shared/conformance/cases');
  if (existsSync(shared)) return { dir: shared, source: 'shared' };
  return { dir: join(repoRoot, 'conformance/cases'), source: 'vendored' };
}

/** Every case of the named files (`simpo.json`, ...), or of all files when none is named. */
export function loadConformanceCases(fileNames?: readonly string[]): ConformanceCase[] {
  const { dir } = conformanceCaseDir();
  const names =
    fileNames ??
    readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .sort();
  return names.flatMap((name) => parseConformanceFile(readFileSync(join(dir, name), 'utf8'), name).cases);
}
