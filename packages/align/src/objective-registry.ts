import type { AnyObjective } from '@pref/core';
import { objectives as dpoObjectives } from '@pref/dpo';
import { objectives as lmpoObjectives } from '@pref/lmpo';
import { objectives as simpoObjectives } from '@pref/simpo';
import { objectives as slimeObjectives } from '@pref/slime';

/** Further objective packages used when installed (pairwise ones run; others are reported as unsupported). */
const OPTIONAL_PACKAGES = ['@pref/cpo', '@pref/orpo', '@pref/slic', '@pref/kto', '@pref/grpo'] as const;

/** Every objective `pref align` can find, by id: the four it depends on plus installed optional packages. */
export async function loadObjectiveRegistry(): Promise<Record<string, AnyObjective>> {
  const registry: Record<string, AnyObjective> = {};
  const add = (list: readonly AnyObjective[] | undefined) => list?.forEach((objective) => (registry[objective.id] ??= objective));
  [slimeObjectives, simpoObjectives, dpoObjectives, lmpoObjectives].forEach((list) => add(list as readonly AnyObjective[]));
  for (const name of OPTIONAL_PACKAGES) {
    try {
      add(((await import(/* @vite-ignore */ name)) as { objectives?: readonly AnyObjective[] }).objectives);
    } catch {
      // not installed
    }
  }
  return registry;
}
