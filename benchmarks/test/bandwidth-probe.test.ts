import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  bandwidthLine,
  bandwidthOf,
  benchReportProblems,
  defaultProbeArrayBytes,
  measureMemoryBandwidth,
  sliceBounds,
} from '@pref/benchmarks';

const MiB = 2 ** 20;

describe('memory bandwidth probe (worker threads on shared arrays)', () => {
  it("reports every kernel on one thread and on all threads, and the best all-thread kernel (never below one thread's) as the bound", async () => {
    const b = await measureMemoryBandwidth({ bufferBytes: 4 * MiB, repeats: 2, threads: 2 });
    expect(b).toMatchObject({ method: 'workers', threads: 2, repeats: 2, bufferBytes: 4 * MiB });
    for (const rates of [b.singleThread, b.allThreads]) {
      expect(Object.keys(rates).sort()).toEqual(['copy', 'read', 'triad', 'write']);
      for (const rate of Object.values(rates)) expect(rate).toBeGreaterThan(0);
    }
    const all = b.allThreads;
    expect(b.singleThreadBoundBytesPerSecond).toBe(Math.max(...Object.values(b.singleThread)));
    expect(b.boundBytesPerSecond).toBe(Math.max(all.copy, all.read, all.write, all.triad, b.singleThreadBoundBytesPerSecond));
    // The pref-bench/1 field names carry the all-thread rates.
    expect([b.copyBytesPerSecond, b.readBytesPerSecond, b.writeBytesPerSecond, b.triadBytesPerSecond]).toEqual([
      all.copy,
      all.read,
      all.write,
      all.triad,
    ]);
    expect(b.firstTouchBytesPerSecond).toBeGreaterThan(0);
    // A report carrying it validates, and the markdown names both bounds.
    const line = bandwidthLine(b);
    expect(line).toContain('1 thread copy');
    expect(line).toContain('2 threads copy');
    expect(line).toMatch(/Bounds: all-core [\d.]+ GB\/s \(used for × bound\), single-thread [\d.]+ GB\/s/);
  });

  it('runs with one thread (single- and all-thread results are then the same passes)', async () => {
    const b = await measureMemoryBandwidth({ bufferBytes: 2 * MiB, repeats: 1, threads: 1 });
    expect(b.threads).toBe(1);
    expect(b.allThreads).toEqual(b.singleThread);
  });

  it('rejects bad repeat and thread counts', async () => {
    await expect(measureMemoryBandwidth({ repeats: 0 })).rejects.toThrow(/repeats/);
    await expect(measureMemoryBandwidth({ threads: 1.5 })).rejects.toThrow(/threads/);
  });

  it('splits the arrays into contiguous slices on 64-byte boundaries covering every element', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000_000 }), fc.integer({ min: 1, max: 16 }), (length, parts) => {
        const bounds = sliceBounds(length, parts);
        expect(bounds).toHaveLength(parts);
        expect(bounds[0][0]).toBe(0);
        expect(bounds[parts - 1][1]).toBe(length);
        for (let k = 0; k < parts; k++) {
          expect(bounds[k][0]).toBeLessThanOrEqual(bounds[k][1]);
          if (k > 0) expect(bounds[k][0]).toBe(bounds[k - 1][1]);
          if (k > 0 && bounds[k][0] < length) expect(bounds[k][0] % 8).toBe(0);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('sizes the arrays at 4× the largest cache, within [256 MiB, 2 GiB] and an eighth of free memory', () => {
    expect(defaultProbeArrayBytes(260 * MiB, 64 * 2 ** 30)).toBe(1040 * MiB);
    expect(defaultProbeArrayBytes(8 * MiB, 64 * 2 ** 30)).toBe(256 * MiB);
    expect(defaultProbeArrayBytes(null, 64 * 2 ** 30)).toBe(256 * MiB);
    expect(defaultProbeArrayBytes(1024 * MiB, 64 * 2 ** 30)).toBe(2048 * MiB);
    expect(defaultProbeArrayBytes(260 * MiB, 4 * 2 ** 30)).toBe(512 * MiB);
  });
});

describe('bounds of a logits cell', () => {
  it('C-style bound = read the logits twice + write the gradient once at the all-core bound; × bound = median over it', () => {
    const shape = [8, 128, 4096] as const;
    const bytes = 3 * 8 * 128 * 4096 * 4;
    const b = bandwidthOf(shape, 32, 100, { boundBytesPerSecond: 20e9 });
    expect(b.bytes).toBe(bytes);
    expect(b.cStyleBoundMs).toBeCloseTo((1000 * bytes) / 20e9, 12);
    expect(b.boundRatio).toBeCloseTo(100 / b.cStyleBoundMs, 12);
    expect(b.fraction).toBeCloseTo(1 / b.boundRatio, 12);
    expect(bandwidthOf(shape, 64, 100, { boundBytesPerSecond: 20e9 }).cStyleBoundMs).toBeCloseTo(2 * b.cStyleBoundMs, 12);
  });

  it('an older report (single-thread probe, no C-style bound) still validates and renders', () => {
    const old = {
      copyBytesPerSecond: 3.5e10,
      readBytesPerSecond: 2.8e10,
      writeBytesPerSecond: 3e10,
      boundBytesPerSecond: 3.5e10,
      bufferBytes: 2 ** 28,
      repeats: 5,
    };
    expect(bandwidthLine(old)).toBe(
      'Memory bandwidth probe (256 MiB buffers, one thread): copy 35.0 GB/s, read 28.0 GB/s, write 30.0 GB/s; bound used: 35.0 GB/s.',
    );
    expect(benchReportProblems({ bandwidth: old }).some((p) => p.startsWith('report.bandwidth'))).toBe(false);
  });
});
