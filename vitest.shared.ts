import { defineProject, type UserWorkspaceConfig } from 'vitest/config';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
// @ts-expect-error plain ESM helper without types
import { workspacePackages } from './scripts/workspace-packages.mjs';

/** Every `@pref/*` import resolves to the package's TypeScript source: tests need no build. */
const sourceAliases = (workspacePackages() as { name: string; dir: string }[]).flatMap(({ name, dir }) => [
  { find: new RegExp(`^${name.replace('/', '\\/')}$`), replacement: join(dir, 'src/index.ts') },
  // Subpath exports (`@pref/core/backend`) resolve to the source file of the same name.
  { find: new RegExp(`^${name.replace('/', '\\/')}\\/([a-z-]+)$`), replacement: join(dir, 'src/$1.ts') },
]);

/** Gives every property test one fast-check seed (PREF_PROPERTY_SEED overrides it). */
const propertySeedSetup = join(dirname(fileURLToPath(import.meta.url)), 'packages/testing/src/property-seed-setup.ts');

/** The vitest project of one workspace package (one project per package). */
export function packageProject(name: string, overrides: UserWorkspaceConfig['test'] = {}) {
  return defineProject({
    resolve: { alias: sourceAliases },
    test: {
      name,
      include: ['test/**/*.test.ts'],
      testTimeout: 60_000,
      ...overrides,
      setupFiles: [propertySeedSetup, ...[overrides.setupFiles ?? []].flat()],
    },
  });
}
