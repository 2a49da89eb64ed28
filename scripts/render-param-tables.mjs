#!/usr/bin/env node
// Rewrites the parameter table of every docs/objectives/<id>.md from the objective's schema
// (the same rendering packages/testing/test/param-tables.test.ts checks).
import { spawnSync } from 'node:child_process';

const run = spawnSync('npx', ['vitest', 'run', 'packages/testing/test/param-tables.test.ts'], {
  stdio: 'inherit',
  env: { ...process.env, PREF_UPDATE_PARAM_TABLES: '1' },
});
process.exit(run.status ?? 1);
