import type { AnyObjective } from '@pref/core';

/** The objective packages of this repository, by package name. */
export const OBJECTIVE_PACKAGES = [
  '@pref/simpo', '@pref/slime', '@pref/lmpo', '@pref/dpo', '@pref/cpo', '@pref/orpo', '@pref/slic', '@pref/kto', '@pref/grpo',
] as const;

/**
 * Every objective whose package is present (each package's `objectives` export), keyed by id.
 * Packages not present are listed in `missing` so tests can report them as skipped.
 */
export async function installedObjectives(): Promise<{ objectives: Record<string, AnyObjective>; missing: string[] }> {
  const objectives: Record<string, AnyObjective> = {};
  const missing: string[] = [];
  for (const name of OBJECTIVE_PACKAGES) {
    try {
      const module = (await import(/* @vite-ignore */ name)) as { objectives?: readonly AnyObjective[] };
      for (const objective of module.objectives ?? []) objectives[objective.id] = objective;
    } catch {
      missing.push(name);
    }
  }
  return { objectives, missing };
}
