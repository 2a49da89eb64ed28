// Verifies the published shape of every public workspace package after `npm run build`:
// - the manifest: ESM only (one `@pref/core` at run time for `import` and `require`), `types` and
//   `default` per export, `files`, `sideEffects: false`, `engines.node >= 20.19`;
// - the packed tarball holds every export target and bin, and passes publint and
//   @arethetypeswrong/cli (profile esm-only) with no error;
// - a consumer fixture (scripts/consumer-fixture) installs the tarballs in a temporary project,
//   type-checks ESM, CJS and a `types: []` WebGPU import, and runs the ESM and CJS programs.
// Exits 1 listing every problem.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { workspacePackages, repoRoot } from './workspace-packages.mjs';

const problems = [];
const work = mkdtempSync(join(tmpdir(), 'pref-package-shapes-'));
const bin = (name) => join(repoRoot, 'node_modules/.bin', name);
const run = (file, args, options = {}) => execFileSync(file, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...options });
const failure = (error) => `${error.stdout ?? ''}${error.stderr ?? ''}`.trim() || error.message;
const targetsOf = (entry) => (typeof entry === 'string' ? [entry] : Object.values(entry).flatMap(targetsOf));
const tarballs = [];

try {
  for (const { name, dir, manifest } of workspacePackages()) {
    if (manifest.private) continue;
    const fail = (why) => problems.push(`${name}: ${why}`);
    if (manifest.type !== 'module') fail('"type" must be "module" (ESM only)');
    if (!Array.isArray(manifest.files) || !manifest.files.includes('dist')) fail('"files" must include dist');
    if (manifest.sideEffects !== false) fail('"sideEffects" must be false');
    if (manifest.engines?.node !== '>=20.19')
      fail(`"engines.node" must be ">=20.19" (require of ESM), got ${JSON.stringify(manifest.engines?.node)}`);
    for (const [subpath, entry] of Object.entries(manifest.exports ?? {})) {
      if (subpath === './package.json') continue;
      if (typeof entry !== 'object' || !entry.types || !entry.default) fail(`exports["${subpath}"] needs "types" and "default"`);
      else if ('require' in entry || 'import' in entry) fail(`exports["${subpath}"] has import/require conditions: packages are ESM only`);
    }
    const [packed] = JSON.parse(run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], { cwd: dir }));
    const tarball = join(work, packed.filename);
    tarballs.push({ name, tarball });
    const files = new Set(packed.files.map((f) => f.path));
    for (const target of targetsOf(manifest.exports ?? {})) {
      if (!files.has(target.replace(/^\.\//, ''))) fail(`exports target ${target} is not in the package (run the build?)`);
    }
    for (const entry of Object.values(manifest.bin ?? {}))
      if (!files.has(entry.replace(/^\.\//, ''))) fail(`bin ${entry} is not in the package`);
    try {
      const out = run(bin('publint'), ['run', tarball, '--level', 'warning']);
      if (/error|warning/i.test(out.replace(/no issues found/i, ''))) fail(`publint:\n${out.trim()}`);
    } catch (error) {
      fail(`publint:\n${failure(error)}`);
    }
    try {
      run(bin('attw'), [tarball, '--profile', 'esm-only', '--format', 'ascii', '--no-color', '--no-emoji']);
    } catch (error) {
      fail(`@arethetypeswrong/cli:\n${failure(error)}`);
    }
  }

  const project = join(work, 'consumer');
  mkdirSync(join(project, 'node_modules/@pref'), { recursive: true });
  cpSync(join(repoRoot, 'scripts/consumer-fixture'), project, { recursive: true });
  for (const entry of readdirSync(join(repoRoot, 'node_modules'))) {
    if (entry !== '@pref' && entry !== '.bin') symlinkSync(join(repoRoot, 'node_modules', entry), join(project, 'node_modules', entry));
  }
  for (const { name, tarball } of tarballs) {
    const target = join(project, 'node_modules', name);
    mkdirSync(target, { recursive: true });
    run('tar', ['-xzf', tarball, '-C', target, '--strip-components=1']);
  }
  try {
    run(bin('tsc'), ['-p', join(project, 'tsconfig.json')]);
  } catch (error) {
    problems.push(`consumer fixture does not type-check:\n${failure(error)}`);
  }
  for (const program of ['out/esm.mjs', 'out/cjs.cjs']) {
    try {
      process.stdout.write(`  ${run(process.execPath, [join(project, program)], { cwd: project }).trim()}\n`);
    } catch (error) {
      problems.push(`consumer fixture ${program} fails:\n${failure(error)}`);
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

if (problems.length) {
  console.error(problems.map((p) => `  - ${p}`).join('\n'));
  console.error(`package shapes: ${problems.length} problem(s) in ${tarballs.length} packages`);
  process.exit(1);
}
console.log(`package shapes: ${tarballs.length} packages ok (manifest, tarball, publint, attw esm-only, consumer ESM + CJS + types: [])`);
