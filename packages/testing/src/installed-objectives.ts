import { loadObjectives, type AnyObjective } from '@pref/core';

/**
 * Every objective whose package is present, keyed by id (core's one list, `OBJECTIVE_PACKAGES`).
 * Packages not present are listed in `missing` so tests can report them as skipped.
 */
export async function installedObjectives(): Promise<{ objectives: Record<string, AnyObjective>; missing: string[] }> {
  const { objectives, missing } = await loadObjectives();
  return { objectives: { ...objectives }, missing: [...missing] };
}
