import { loadObjectives, type AnyObjective } from '@pref/core';

/**
 * Every objective `pref align` can find, by id: core's one list of objective packages (this
 * package depends on slime, simpo, dpo and lmpo; the others are used when installed).
 */
export async function loadObjectiveRegistry(): Promise<Record<string, AnyObjective>> {
  return { ...(await loadObjectives()).objectives };
}
