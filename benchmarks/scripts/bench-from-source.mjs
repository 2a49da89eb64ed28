// Runs `pref bench` from the TypeScript sources of the workspace, without building:
//   node benchmarks/scripts/bench-from-source.mjs --mode full --out report/bench
// (after a build, `npx pref bench ...` runs the same code from dist/).
import { register } from 'node:module';

register('./source-hooks.mjs', import.meta.url);
const { benchCommand } = await import('@pref/benchmarks');
process.exitCode = await benchCommand(process.argv.slice(2));
