import { loadObjectives as loadInstalled, type AnyObjective } from '@pref/core';

/** Every installed objective by id (packages of `OBJECTIVE_PACKAGES` that are not installed are left out). */
export async function loadObjectives(importPackage?: (name: string) => Promise<unknown>): Promise<Record<string, AnyObjective>> {
  return { ...(await loadInstalled(importPackage)).objectives };
}
