// Node module hooks for running the suite from TypeScript source (no build): `@pref/*` imports
// resolve to each workspace package's src/index.ts, extensionless relative imports to .ts
// files, and .ts files are transpiled with esbuild. Registered by bench-from-source.mjs.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { transform } from 'esbuild';
import { workspacePackages } from '../../scripts/workspace-packages.mjs';

const sources = new Map(
  workspacePackages()
    .filter(({ dir }) => existsSync(join(dir, 'src/index.ts')))
    .map(({ name, dir }) => [name, pathToFileURL(join(dir, 'src/index.ts')).href]),
);

export async function resolve(specifier, context, nextResolve) {
  const source = sources.get(specifier);
  if (source) return { url: source, shortCircuit: true };
  const parent = context.parentURL;
  if (parent?.endsWith('.ts') && (specifier.startsWith('./') || specifier.startsWith('../')) && !/\.[cm]?[jt]s$|\.json$/.test(specifier)) {
    for (const suffix of ['.ts', '/index.ts']) {
      const url = new URL(specifier + suffix, parent);
      if (existsSync(fileURLToPath(url))) return { url: url.href, shortCircuit: true };
    }
  }
  return nextResolve(specifier, context);
}

export async function load(url, context, nextLoad) {
  if (!url.endsWith('.ts')) return nextLoad(url, context);
  const text = await readFile(fileURLToPath(url), 'utf8');
  const { code } = await transform(text, {
    loader: 'ts',
    format: 'esm',
    target: 'node20',
    sourcefile: fileURLToPath(url),
    sourcemap: 'inline',
  });
  return { format: 'module', source: code, shortCircuit: true };
}
