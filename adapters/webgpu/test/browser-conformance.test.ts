import { execFileSync, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const runner = join(dirname(fileURLToPath(import.meta.url)), '../browser/run-browser-conformance.mjs');
const chromium = ['chromium', 'chromium-browser', 'google-chrome'].find((name) => {
  try {
    execFileSync('which', [name], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
});

describe('conformance in headless Chromium (navigator.gpu)', () => {
  it.skipIf(!chromium)(
    chromium ? 'every case passes on the WebGPU backend in the browser' : 'skipped: no chromium binary on PATH (apt-get install chromium)',
    (context) => {
      const run = spawnSync(process.execPath, [runner, chromium!], {
        encoding: 'utf8',
        timeout: 240_000,
        env: { ...process.env, PREF_BROWSER_TIMEOUT: '200' },
      });
      const summary = `${run.stdout}\n${run.stderr}`;
      // A browser without WebGPU or without an adapter is this machine's limit, reported as a skip.
      const unavailable = /navigator\.gpu is undefined|no GPU adapter found/.exec(summary);
      if (run.status === 2 && unavailable) context.skip(`skipped: Chromium has no WebGPU adapter here (${unavailable[0]})`);
      expect(summary).toMatch(/\d+ passed, 0 failed/);
      expect(run.status, summary).toBe(0);
    },
    260_000,
  );
});
