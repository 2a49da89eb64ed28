import type { AnyObjective } from '@pref/core';

/** Objective packages the CLI looks for; each exports `objectives`. */
export const OBJECTIVE_PACKAGES = [
  '@pref/simpo', '@pref/slime', '@pref/lmpo', '@pref/dpo', '@pref/cpo', '@pref/orpo', '@pref/slic', '@pref/kto', '@pref/grpo',
] as const;

/** Every installed objective by id (packages that are not installed are left out). */
export async function loadObjectives(
  importPackage: (name: string) => Promise<unknown> = (name) => import(/* @vite-ignore */ name),
): Promise<Record<string, AnyObjective>> {
  const objectives: Record<string, AnyObjective> = {};
  for (const name of OBJECTIVE_PACKAGES) {
    let module: { objectives?: readonly AnyObjective[] };
    try {
      module = (await importPackage(name)) as typeof module;
    } catch {
      continue;
    }
    for (const objective of module.objectives ?? []) objectives[objective.id] = objective;
  }
  return objectives;
}
