import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { WebGpuBackend } from '../src';
import { startWebGpu } from './web-gpu-under-test';

const started = await startWebGpu();
const unavailable = 'unavailable' in started ? started.unavailable : null;
if (!unavailable) (started as WebGpuBackend).destroy();
const root = fileURLToPath(new URL('../../..', import.meta.url));

describe.skipIf(unavailable !== null)(
  unavailable ? `docs/examples/hidden-states-webgpu.mjs (skipped: ${unavailable})` : 'docs/examples/hidden-states-webgpu.mjs',
  () => {
    it('runs as written (packages bundled from source) and its hidden path equals its logits path', async () => {
      const bundle = join(root, 'node_modules/.cache/pref-hidden-states-webgpu.mjs');
      await build({
        entryPoints: [join(root, 'docs/examples/hidden-states-webgpu.mjs')],
        bundle: true,
        platform: 'node',
        format: 'esm',
        external: ['webgpu'],
        outfile: bundle,
        logLevel: 'silent',
        alias: {
          '@pref/core': join(root, 'packages/core/src'),
          '@pref/simpo': join(root, 'packages/losses/simpo/src'),
          '@pref/adapter-webgpu': join(root, 'adapters/webgpu/src'),
        },
      });
      const child = spawnSync(process.execPath, [bundle], { encoding: 'utf8', cwd: root, timeout: 120_000 });
      expect(child.status, child.stderr).toBe(0);
      const loss = (path: string) => Number(new RegExp(`${path} path: loss (-?[0-9.]+)`).exec(child.stdout)?.[1]);
      expect(child.stdout).toMatch(/grads chosenHidden \[2,16,64\], lmHead.weight \[5000,64\]/);
      expect(Number.isFinite(loss('hidden'))).toBe(true);
      expect(Math.abs(loss('hidden') - loss('logits'))).toBeLessThan(1e-4);
    }, 180_000);
  },
);
