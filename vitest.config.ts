import { defineConfig } from 'vitest/config';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { packageProject } from './vitest.shared.ts';
// @ts-expect-error plain ESM helper without types
import { workspacePackages } from './scripts/workspace-packages.mjs';

export default defineConfig({
  test: {
    globalSetup: ['./scripts/print-property-seed.ts'],
    // One project per workspace package: its own vitest.config.ts where it needs options,
    // otherwise the shared defaults rooted at its folder.
    projects: (workspacePackages() as { name: string; dir: string }[]).map(({ name, dir }) =>
      existsSync(join(dir, 'vitest.config.ts')) ? join(dir, 'vitest.config.ts') : packageProject(name, { root: dir }),
    ),
  },
});
