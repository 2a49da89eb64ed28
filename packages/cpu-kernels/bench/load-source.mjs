// Loads @pref/cpu-kernels for the benchmark scripts: from dist/ after a build (`--dist`), else
// bundled from the TypeScript sources with esbuild (the workspace's own, via tsup and vitest)
// into a temporary file.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

export async function loadKernels() {
  if (process.argv.includes('--dist')) return import(pathToFileURL(join(root, 'dist/index.js')).href);
  const { build } = await import('esbuild');
  const result = await build({
    entryPoints: [join(root, 'src/index.ts')],
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    write: false,
  });
  const file = join(mkdtempSync(join(tmpdir(), 'cpu-kernels-')), 'index.mjs');
  writeFileSync(file, result.outputFiles[0].text);
  return import(pathToFileURL(file).href);
}
