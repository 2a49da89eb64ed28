#!/usr/bin/env node
// The `pref` command. This file exists before the build (so package managers always link the
// binary); the command itself is the built dist/cli.js.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(fileURLToPath(cli))) {
  process.stderr.write('pref: @pref/cli is not built yet: run `npm run build` at the repository root\n');
  process.exit(1);
}
await import(cli.href);
