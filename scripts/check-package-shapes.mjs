// Verifies the published shape of every public workspace package after `npm run build`:
// each `exports` target (types per condition, ESM, CJS) is in the packed file list, the ESM
// entry imports and the CJS entry requires in Node, and the manifest has `files`,
// `sideEffects: false` and `engines.node`. Exits 1 listing every problem.
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { workspacePackages, repoRoot } from './workspace-packages.mjs';

const problems = [];
let checked = 0;
const targetsOf = (entry) => (typeof entry === 'string' ? [entry] : Object.values(entry).flatMap(targetsOf));

for (const { name, dir, manifest } of workspacePackages()) {
  if (manifest.private) continue;
  checked++;
  const fail = (why) => problems.push(`${name}: ${why}`);
  if (!Array.isArray(manifest.files) || !manifest.files.includes('dist')) fail('"files" must include dist');
  if (manifest.sideEffects !== false) fail('"sideEffects" must be false');
  if (!manifest.engines?.node) fail('"engines.node" missing');
  const root = manifest.exports?.['.'];
  if (!root?.import?.types || !root?.require?.types) fail('exports["."] needs "types" under both import and require');
  const packed = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
  const files = new Set(packed[0].files.map((f) => f.path));
  for (const target of targetsOf(manifest.exports ?? {})) {
    const path = target.replace(/^\.\//, '');
    if (!files.has(path)) fail(`exports target ${target} is not in the package (run the build?)`);
  }
  for (const bin of Object.values(manifest.bin ?? {})) if (!files.has(bin.replace(/^\.\//, ''))) fail(`bin ${bin} is not in the package`);
  try {
    await import(pathToFileURL(join(dir, root.import.default)).href);
  } catch (error) {
    fail(`ESM entry does not import: ${error.message}`);
  }
  try {
    createRequire(join(repoRoot, 'package.json'))(join(dir, root.require.default));
  } catch (error) {
    fail(`CJS entry does not require: ${error.message}`);
  }
}
if (problems.length) {
  console.error(problems.map((p) => `  - ${p}`).join('\n'));
  console.error(`package shapes: ${problems.length} problem(s) in ${checked} packages`);
  process.exit(1);
}
console.log(`package shapes: ${checked} packages ok`);
