import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');

describe('typed objectives (tsc on a fixture)', () => {
  it('parameter typos, wrong types, unknown presets and unknown grads keys are compile errors; valid calls compile', () => {
    let output = '';
    try {
      execFileSync(process.execPath, [tsc, '-p', join(here, 'tsconfig.json'), '--pretty', 'false'], { encoding: 'utf8' });
    } catch (error) {
      output = String((error as { stdout?: string }).stdout ?? error);
    }
    // An unused `@ts-expect-error` (a line that should fail but compiles) is reported here too.
    expect(output).toBe('');
  }, 120_000);
});
