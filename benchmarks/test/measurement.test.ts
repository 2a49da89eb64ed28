import { describe, expect, it } from 'vitest';
import { createLogitsWorkload, logitsTrafficBytes, measurePeakMemory, placeLogitsBatch } from '@pref/benchmarks';
import { createReferenceBackend } from '@pref/adapter-reference';
import { IGNORE_INDEX } from '@pref/core';

describe('measurePeakMemory', () => {
  // Memory the previous test touched may be reused without raising the RSS: the sampled test
  // touches twice as much, so at least 64 MiB are new whatever was freed before.
  const touch = async (mebibytes = 64) => {
    const bytes = new Uint8Array(mebibytes * 2 ** 20);
    for (let i = 0; i < bytes.length; i += 4096) bytes[i] = 1;
    return bytes.length;
  };

  it('sees a 64 MiB allocation made during the call (kernel high-water mark)', async (context) => {
    let measured;
    try {
      measured = await measurePeakMemory(() => touch(), { method: 'vmhwm' });
    } catch (error) {
      context.skip(`skipped: ${(error as Error).message}`);
      return;
    }
    expect(measured.result).toBe(64 * 2 ** 20);
    expect(measured.peakRssDeltaBytes).toBeGreaterThan(48 * 2 ** 20);
  });

  it('sees it with the sampling worker too', async () => {
    const measured = await measurePeakMemory(
      async () => {
        const n = await touch(128);
        await new Promise((resolve) => setTimeout(resolve, 20));
        return n;
      },
      { method: 'sampled' },
    );
    expect(measured.method).toBe('sampled');
    expect(measured.peakRssDeltaBytes).toBeGreaterThan(48 * 2 ** 20);
  });
});

describe('logits workload', () => {
  it('splits N rows into chosen and rejected halves with some ignored labels, every row counted', () => {
    const w = createLogitsWorkload([4, 16, 50], 3);
    expect(w.logits).toHaveLength(4 * 16 * 50);
    for (const labels of [w.chosenLabels, w.rejectedLabels]) {
      expect(labels).toHaveLength(2 * 16);
      expect(labels.some((l) => l === IGNORE_INDEX)).toBe(true);
      for (let r = 0; r < 2; r++) expect(labels.slice(r * 16, r * 16 + 16).some((l) => l >= 0 && l < 50)).toBe(true);
    }
    expect(createLogitsWorkload([4, 16, 50], 3).logits).toEqual(w.logits);
    expect(logitsTrafficBytes([8, 128, 4096], 32)).toBe(3 * 8 * 128 * 4096 * 4);
    expect(() => createLogitsWorkload([3, 4, 5])).toThrow(/N even/);
  });

  it('uploads the logits to a backend that adopts its own tensors', () => {
    const backend = createReferenceBackend({ precision: 32 });
    const placed = placeLogitsBatch(createLogitsWorkload([2, 4, 8]), backend);
    expect(placed.inputPath).toBe('device');
    expect(backend.adopt(placed.batch.chosenLogits)).toBe(placed.batch.chosenLogits);
  });
});
