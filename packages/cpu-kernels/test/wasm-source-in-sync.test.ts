import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

it('the committed WebAssembly module is the assembly of token-log-probs.wat', () => {
  const script = join(dirname(fileURLToPath(import.meta.url)), '../scripts/build-wasm.mjs');
  // Exits 1 (and execFileSync throws) when src/token-log-probs-wasm.ts differs from a fresh assembly.
  const output = execFileSync(process.execPath, [script, '--check'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  expect(output).toMatch(/matches token-log-probs.wat/);
});
