import { describe, expect, it } from 'vitest';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BENCH_HELP, LINEAR_SHAPES, LOGITS_SHAPES, SHAPE_NAMES, benchCommand, parseBenchReport, parseShapes } from '@pref/benchmarks';

function captureIo(runOptions = {}) {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    io: {
      out: (t: string) => out.push(t),
      err: (t: string) => err.push(t),
      importModule: (n: string) => import(/* @vite-ignore */ n),
      runOptions,
    },
  };
}

/** A fixed probe result, so a command run in a test does not probe the machine. */
const BANDWIDTH = {
  copyBytesPerSecond: 2e10,
  readBytesPerSecond: 1e10,
  writeBytesPerSecond: 1.5e10,
  boundBytesPerSecond: 2e10,
  bufferBytes: 2 ** 20,
  repeats: 1,
};

describe('--shapes', () => {
  it('knows the logits shapes, then the linear ones', () => {
    expect(SHAPE_NAMES).toEqual(['small', 'medium', 'large', 'linear-small', 'linear-medium', 'linear-vocab']);
    expect(LINEAR_SHAPES).toEqual({
      'linear-small': [8, 128, 64, 4096],
      'linear-medium': [8, 256, 256, 32000],
      'linear-vocab': [4, 512, 64, 128256],
    });
  });

  it('splits a list into logits and linear shapes, in the order given, without duplicates', () => {
    expect(parseShapes('medium, small,linear-vocab,medium')).toEqual({
      logitsShapes: [
        { name: 'medium', shape: LOGITS_SHAPES.medium },
        { name: 'small', shape: LOGITS_SHAPES.small },
      ],
      linearShapes: [{ name: 'linear-vocab', shape: LINEAR_SHAPES['linear-vocab'] }],
    });
    expect(parseShapes('large')).toEqual({ logitsShapes: [{ name: 'large', shape: LOGITS_SHAPES.large }], linearShapes: [] });
  });

  it('rejects unknown names and an empty list, listing the known ones', () => {
    expect(() => parseShapes('small,huge,tiny')).toThrow(
      '--shapes: unknown shapes "huge", "tiny"; known shapes: small, medium, large, linear-small, linear-medium, linear-vocab',
    );
    expect(() => parseShapes(' , ')).toThrow(/no shape named; known shapes: small, medium/);
  });

  it('is listed with every shape in --help', () => {
    expect(BENCH_HELP).toContain('--shapes <list>');
    expect(BENCH_HELP).toContain('logits: small [8,128,4096], medium [8,256,32000], large [16,512,32000]');
    expect(BENCH_HELP).toContain(
      'linear: linear-small [8,128] H 64 V 4096, linear-medium [8,256] H 256 V 32000, linear-vocab [4,512] H 64 V 128256',
    );
  });

  it('an unknown shape is a one-line usage error with exit code 2', async () => {
    const { out, err, io } = captureIo();
    expect(await benchCommand(['--shapes', 'small,giant'], io)).toBe(2);
    expect(out).toEqual([]);
    expect(err).toHaveLength(1);
    expect(err[0]).toBe(
      'pref bench: --shapes: unknown shape "giant"; known shapes: small, medium, large, linear-small, linear-medium, linear-vocab (see pref bench --help)',
    );
  });

  it('runs only the named shapes', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'pref-bench-shapes-'));
    const { io } = captureIo({ bandwidth: BANDWIDTH });
    const code = await benchCommand(
      ['--workloads', 'logits,linear', '--shapes', 'small', '--backends', 'reference-f32', '--repeats', '1', '--out', folder],
      io,
    );
    expect(code).toBe(0);
    const report = parseBenchReport(JSON.parse(await readFile(join(folder, 'bench.json'), 'utf8')));
    expect(report.mode).toBe('custom');
    expect(report.settings.logitsShapes).toEqual([{ name: 'small', shape: [8, 128, 4096] }]);
    expect(report.settings.linearShapes).toEqual([]);
    expect(report.results.map((c) => `${c.workload}/${c.case}/${c.backend}/${c.status}`)).toEqual(['logits/small/reference-f32/ok']);
    const cell = report.results[0];
    expect(cell.bandwidth!.cStyleBoundMs).toBeCloseTo((1000 * 3 * 8 * 128 * 4096 * 4) / 2e10, 9);
    expect(cell.gradientOutput).toBe('in-place');
    expect(cell.allocations).toMatchObject({ calls: 1, backend: { largeBufferAllocationsPerCall: 0 } });
  });
});
