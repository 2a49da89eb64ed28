import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    globalSetup: ['./scripts/print-property-seed.ts'],
    // One project per workspace package (each has its own vitest.config.ts).
    projects: [
      'packages/*/vitest.config.ts',
      'packages/losses/*/vitest.config.ts',
      'adapters/*/vitest.config.ts',
      'benchmark*/vitest.config.ts',
    ],
  },
});
