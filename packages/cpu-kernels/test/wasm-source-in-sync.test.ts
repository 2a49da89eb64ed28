import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));

it('the committed WebAssembly modules are the assembly of their WAT sources', () => {
  const script = join(here, '../scripts/build-wasm.mjs');
  // Exits 1 (and execFileSync throws) when src/kernels-wasm.ts differs from a fresh assembly of every module.
  const output = execFileSync(process.execPath, [script, '--check'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  expect(output).toMatch(/kernels-wasm.ts matches token-log-probs.wat, linear-log-probs.wat/);
});

it('every WAT file of the package is assembled or included by the build', () => {
  const build = execFileSync(process.execPath, [join(here, '../scripts/build-wasm.mjs'), '--expand'], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  const wat = readdirSync(join(here, '../src')).filter((f) => f.endsWith('.wat'));
  expect(wat.sort()).toEqual(['linear-log-probs.wat', 'simd-common.wat', 'token-log-probs.wat']);
  expect(build).toMatch(/;; ===== token-log-probs.wat/);
  expect(build).toMatch(/;; ===== linear-log-probs.wat/);
  // the included file's macros were expanded into both modules
  expect(build.match(/f32x4\.pmax \(local\.get \$x0\) \(local\.get \$k_lo\)/g)?.length ?? 0).toBeGreaterThan(2);
});
