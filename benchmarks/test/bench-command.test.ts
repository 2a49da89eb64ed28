import { describe, expect, it } from 'vitest';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BENCH_HELP, benchCommand, parseBenchReport } from '@pref/benchmarks';

function captureIo() {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    io: { out: (t: string) => out.push(t), err: (t: string) => err.push(t), importModule: (n: string) => import(/* @vite-ignore */ n) },
  };
}

describe('benchCommand', () => {
  it('prints help with exit code 0', async () => {
    const { out, io } = captureIo();
    expect(await benchCommand(['--help'], io)).toBe(0);
    expect(out.join('\n')).toBe(BENCH_HELP);
  });

  it('rejects a bad mode, an unknown backend, an unknown option and a bad repeat count with exit code 2', async () => {
    for (const argv of [
      ['--mode', 'huge'],
      ['--backends', 'reference,cuda9'],
      ['--frobnicate'],
      ['--repeats', '0'],
      ['--workloads', 'training'],
    ]) {
      const { err, io } = captureIo();
      expect(await benchCommand(argv, io), argv.join(' ')).toBe(2);
      expect(err.join('\n')).toMatch(
        /mode must be small or full|unknown backend cuda9|Unknown option|--repeats must be a positive integer|unknown workload "training"/,
      );
    }
  });

  it('runs, prints the markdown table and writes a valid report', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'pref-bench-cli-'));
    const { out, io } = captureIo();
    const code = await benchCommand(
      ['--workloads', 'objective', '--objectives', 'simpo,dpo', '--backends', 'reference,reference-f32', '--repeats', '2', '--out', folder],
      io,
    );
    expect(code).toBe(0);
    const printed = out.join('\n');
    expect(printed).toMatch(/\| simpo \| [\d.]+ \([\d.]+–[\d.]+\) \| [\d.]+ \(/);
    const report = parseBenchReport(JSON.parse(await readFile(join(folder, 'bench.json'), 'utf8')));
    expect(report.command).toBe(
      `pref bench --workloads objective --objectives simpo,dpo --backends reference,reference-f32 --repeats 2 --out ${folder}`,
    );
    expect(report.results.map((c) => `${c.case}/${c.backend}/${c.status}`)).toEqual([
      'simpo/reference/ok',
      'simpo/reference-f32/ok',
      'dpo/reference/ok',
      'dpo/reference-f32/ok',
    ]);
    expect(report.bandwidth).toBeNull();
  });
});
