import { describe, expect, it } from 'vitest';
import { PrefBackendError } from '@pref/core';
import { startTfjs } from './tfjs-test-backends';

describe('a tfjs backend made by config refuses to run on another tfjs backend', async () => {
  const cpu = await startTfjs('cpu');
  const wasm = await startTfjs('wasm');
  const why = 'unavailable' in cpu ? cpu.unavailable : 'unavailable' in wasm ? wasm.unavailable : null;
  it.skipIf(why !== null)(
    `the second createBackend switches tfjs; the first then throws naming both${why ? ` (skipped: ${why})` : ''}`,
    async () => {
      if ('unavailable' in cpu || 'unavailable' in wasm) return;
      expect(cpu.tf.getBackend()).toBe('wasm');
      const error = (() => {
        try {
          cpu.fromHost([1, 2], [2]);
        } catch (e) {
          return e;
        }
      })();
      expect(error).toBeInstanceOf(PrefBackendError);
      expect((error as Error).message).toMatch(/made for tfjs "cpu", but tfjs's active backend is now "wasm".*tf\.setBackend\("cpu"\)/);
      const t = wasm.fromHost([1, 2], [2]);
      expect(Array.from((await wasm.read([t]))[0])).toEqual([1, 2]);
      wasm.dispose(t);
      await cpu.tf.setBackend('cpu');
      const u = cpu.fromHost([3], [1]);
      expect(Array.from((await cpu.read([u]))[0])).toEqual([3]);
      cpu.dispose(u);
    },
  );
});
