import type { AnyObjective } from './objective';
import { PrefError } from './pref-error';

/**
 * The objective packages of pref: the one list the CLI, the tests, the benchmarks and the demo
 * read. A new objective package adds its name here; each exports `objectives`.
 */
export const OBJECTIVE_PACKAGES = [
  '@pref/simpo',
  '@pref/slime',
  '@pref/lmpo',
  '@pref/dpo',
  '@pref/cpo',
  '@pref/orpo',
  '@pref/slic',
  '@pref/kto',
  '@pref/grpo',
] as const;

export type ObjectivePackageName = (typeof OBJECTIVE_PACKAGES)[number];

/** The installed objectives by id, and the packages of the list that are not installed. */
export interface InstalledObjectives {
  readonly objectives: Readonly<Record<string, AnyObjective>>;
  readonly missing: readonly ObjectivePackageName[];
}

/**
 * Imports every package of {@link OBJECTIVE_PACKAGES}. Only "this package is not installed" is
 * tolerated (the package goes to `missing`); a package that is installed but fails to load, or
 * does not export an `objectives` list, throws a `PrefError` naming it.
 * @param importPackage how to import a package (default: a dynamic `import` from here).
 */
export async function loadObjectives(
  importPackage: (name: string) => Promise<unknown> = (name) => import(/* @vite-ignore */ name),
): Promise<InstalledObjectives> {
  const objectives: Record<string, AnyObjective> = {};
  const missing: ObjectivePackageName[] = [];
  for (const name of OBJECTIVE_PACKAGES) {
    let module: { objectives?: unknown };
    try {
      module = (await importPackage(name)) as typeof module;
    } catch (error) {
      if (isPackageNotFound(error, name)) {
        missing.push(name);
        continue;
      }
      throw new PrefError(`${name} is installed but failed to load: ${(error as Error)?.message ?? String(error)}`, { cause: error });
    }
    if (!Array.isArray(module.objectives)) throw new PrefError(`${name} does not export an "objectives" list`);
    for (const objective of module.objectives as AnyObjective[]) objectives[objective.id] = objective;
  }
  return { objectives, missing };
}

/** Whether `error` says that `name` itself (not one of its own imports) cannot be found. */
export function isPackageNotFound(error: unknown, name: string): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  if (typeof message !== 'string') return false;
  const namesIt = new RegExp(`(package|module|url) ['"]?${name.replace(/[/.]/g, '\\$&')}(['"/\\s]|$)`, 'i').test(message);
  return (
    namesIt && (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND' || /cannot find|failed to (load|resolve)/i.test(message))
  );
}
