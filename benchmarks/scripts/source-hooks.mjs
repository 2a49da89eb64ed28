// Node module hooks for running the suite from TypeScript source (no build): `@pref/*` imports
// resolve to each workspace package's src/index.ts (a subpath such as `@pref/core/backend` to
// src/backend.ts), extensionless relative imports to .ts
// files, and .ts files are transpiled with esbuild. Registered by bench-from-source.mjs.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { transform } from 'esbuild';
import { workspacePackages } from '../../scripts/workspace-packages.mjs';

const packages = workspacePackages().filter(({ dir }) => existsSync(join(dir, 'src/index.ts')));
const sources = new Map(packages.map(({ name, dir }) => [name, pathToFileURL(join(dir, 'src/index.ts')).href]));
const directories = new Map(packages.map(({ name, dir }) => [name, dir]));

/** `@pref/core/backend` → the package's `src/backend.ts` (a subpath export), when that file exists. */
function subpathSource(specifier) {
  const match = /^(@pref\/[^/]+)\/(.+)$/.exec(specifier);
  const dir = match && directories.get(match[1]);
  if (!dir) return null;
  const file = join(dir, 'src', `${match[2]}.ts`);
  return existsSync(file) ? pathToFileURL(file).href : null;
}

export async function resolve(specifier, context, nextResolve) {
  const source = sources.get(specifier) ?? subpathSource(specifier);
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
