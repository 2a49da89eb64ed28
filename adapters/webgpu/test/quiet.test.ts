import { afterAll, describe, expect, it, vi } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { createBackend, valueAndGrad } from '@pref/core';
import { installedObjectives } from '@pref/testing';
import type { WebGpuBackend } from '../src';
import { startWebGpu } from './web-gpu-under-test';

const started = await startWebGpu();
const unavailable = 'unavailable' in started ? started.unavailable : null;
if (!unavailable) (started as WebGpuBackend).destroy();
const { objectives } = await installedObjectives();
const scratch = mkdtempSync(join(tmpdir(), 'pref-webgpu-quiet-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const batch = {
  chosenLogits: [
    [
      [1, 2, 0.5, -1],
      [0.2, 0.1, 0, 4],
    ],
  ],
  chosenLabels: [[1, 3]],
  rejectedLogits: [
    [
      [0, 0, 1, 2],
      [3, 2, 1, 0],
    ],
  ],
  rejectedLabels: [[3, 0]],
};

const suite = unavailable ? describe.skip : describe;
suite(unavailable ? `quiet library (skipped: ${unavailable})` : 'quiet library', () => {
  it.skipIf(!objectives.simpo)(
    'createBackend({ backend: "webgpu", logger }) prints nothing through JavaScript and tells the logger',
    async () => {
      const spies = [
        ...(['log', 'info', 'warn', 'error', 'debug'] as const).map((m) => vi.spyOn(console, m)),
        vi.spyOn(process.stderr, 'write'),
        vi.spyOn(process.stdout, 'write'),
      ];
      const messages: string[] = [];
      const logger = { warn: (m: string) => messages.push(`warn ${m}`), info: (m: string) => messages.push(`info ${m}`) };
      try {
        const backend = await createBackend({ backend: 'webgpu', logger });
        await valueAndGrad(objectives.simpo, batch, {}, { backend });
        (backend as WebGpuBackend).destroy();
        for (const spy of spies) expect(spy).not.toHaveBeenCalled();
      } finally {
        spies.forEach((spy) => spy.mockRestore());
      }
      expect(messages.some((m) => m.startsWith('info webgpu: adapter '))).toBe(true);
      // A destroyed device is not news: no warning for it.
      expect(messages.filter((m) => m.startsWith('warn'))).toEqual([]);
    },
  );

  it('rejects a logger without warn(), naming the option', async () => {
    await expect(createBackend({ backend: 'webgpu', logger: { info: () => undefined } })).rejects.toThrow(
      /logger must be an object with a warn\(message\) method/,
    );
  });

  it("Dawn's native adapter-enumeration warnings reach stderr at most once per process, however many backends start", async () => {
    // A child process, since Dawn writes them with fprintf to file descriptor 2 (see load-gpu.ts).
    const root = fileURLToPath(new URL('../../..', import.meta.url));
    const entry = join(scratch, 'start-three.ts');
    const bundle = join(root, 'node_modules/.cache/pref-webgpu-start-three.mjs');
    const source = fileURLToPath(new URL('../src/index.ts', import.meta.url));
    writeFileSync(
      entry,
      `import { createWebGpuBackend } from ${JSON.stringify(source)};\nfor (let i = 0; i < 3; i++) (await createWebGpuBackend()).destroy();\nprocess.stdout.write('started 3');\n`,
    );
    await build({
      entryPoints: [entry],
      bundle: true,
      platform: 'node',
      format: 'esm',
      external: ['webgpu'],
      outfile: bundle,
      logLevel: 'silent',
      alias: { '@pref/core': join(root, 'packages/core/src') },
    });
    const child = spawnSync(process.execPath, [bundle], { encoding: 'utf8', cwd: root });
    expect(child.stdout).toBe('started 3');
    const lines = child.stderr.split('\n').filter((line) => line.trim() !== '');
    // Nothing but Dawn's two limit lines (drivers that report at most 16 dynamic buffers print none), and once.
    expect(lines.every((line) => /artificially reduced from \d+ to \d+/.test(line))).toBe(true);
    expect(lines.length).toBeLessThanOrEqual(2);
  }, 60_000);
});
