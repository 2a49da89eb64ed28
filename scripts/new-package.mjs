// Scaffolds a workspace package with the project's conventions:
//   node scripts/new-package.mjs <folder> <@pref/name> "<description>" [dep ...]
import { mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { repoRoot } from './workspace-packages.mjs';

const [folder, name, description, ...deps] = process.argv.slice(2);
if (!folder || !name || !description) {
  console.error('usage: node scripts/new-package.mjs <folder> <@pref/name> "<description>" [dep ...]');
  process.exit(2);
}
const dir = join(repoRoot, folder);
if (existsSync(join(dir, 'package.json'))) { console.error(`${folder} exists`); process.exit(2); }
const up = relative(dir, repoRoot);
mkdirSync(join(dir, 'src'), { recursive: true });
mkdirSync(join(dir, 'test'), { recursive: true });
const manifest = {
  name,
  version: '0.1.0',
  description,
  license: 'Apache-2.0',
  type: 'module',
  sideEffects: false,
  main: './dist/index.cjs',
  module: './dist/index.js',
  types: './dist/index.d.ts',
  exports: {
    '.': {
      import: { types: './dist/index.d.ts', default: './dist/index.js' },
      require: { types: './dist/index.d.cts', default: './dist/index.cjs' },
    },
    './package.json': './package.json',
  },
  files: ['dist', 'README.md'],
  engines: { node: '>=20' },
  scripts: {
    build: 'tsup',
    typecheck: 'tsc -p tsconfig.json --noEmit',
    lint: 'tsc -p tsconfig.json --noEmit --noUnusedLocals --noUnusedParameters',
    test: 'vitest run',
  },
  dependencies: Object.fromEntries(deps.map((d) => [d, '^0.1.0'])),
  tsup: { entry: ['src/index.ts'], format: ['esm', 'cjs'], dts: true, clean: true, sourcemap: true, target: 'node20' },
};
writeFileSync(join(dir, 'package.json'), JSON.stringify(manifest, null, 2) + '\n');
writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
  extends: `${up}/tsconfig.base.json`,
  compilerOptions: { baseUrl: up, noEmit: true },
  include: ['src', 'test'],
}, null, 2) + '\n');
writeFileSync(join(dir, 'vitest.config.ts'),
  `import { packageProject } from '${up}/vitest.shared.ts';\n\nexport default packageProject('${name}');\n`);
console.log(`created ${folder} (${name})`);
