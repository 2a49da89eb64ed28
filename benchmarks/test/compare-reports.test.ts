import { describe, expect, it } from 'vitest';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  benchCommand,
  compareReports,
  parseThreshold,
  renderComparisonMarkdown,
  renderMarkdownReport,
  renderSummaryMarkdown,
  verdictOf,
  type BenchCell,
  type BenchReport,
} from '@pref/benchmarks';
import { syntheticReport, timedCell } from './synthetic-reports';

const spread = (median: number, q1: number, q3: number) => ({ median, q1, q3, count: 5 });

/**
 * Baseline and current runs of five cells:
 * - logits/small: clean regression (+30%, tight quartiles far apart)
 * - objective/dpo: noisy (+30% median, but the quartiles overlap)
 * - objective/simpo: clean improvement (−40%)
 * - objective/kto: unchanged (+3%)
 * - objective/cpo: failed in the current run (not compared)
 * plus one cell only in the baseline and one only in the current run.
 */
function runs(): { baseline: BenchReport; current: BenchReport } {
  const logits = (samples: number[]) => timedCell('logits', 'small', 'reference', samples, [8, 128, 4096]);
  const baseline = syntheticReport([
    logits([100, 101, 102, 103, 104]),
    timedCell('objective', 'dpo', 'reference', [1.0, 1.2, 2.0, 3.0, 3.5]),
    timedCell('objective', 'simpo', 'reference', [10, 10.2, 10.4, 10.6, 10.8]),
    timedCell('objective', 'kto', 'reference', [5, 5.1, 5.2, 5.3, 5.4]),
    timedCell('objective', 'cpo', 'reference', [2, 2, 2]),
    timedCell('objective', 'orpo', 'reference', [2, 2, 2]),
  ]);
  const current = syntheticReport(
    [
      logits([130, 131, 132, 133, 134]),
      timedCell('objective', 'dpo', 'reference', [1.1, 1.5, 2.6, 4.0, 5.0]),
      timedCell('objective', 'simpo', 'reference', [6, 6.1, 6.2, 6.3, 6.4]),
      timedCell('objective', 'kto', 'reference', [5.15, 5.25, 5.35, 5.45, 5.55]),
      {
        workload: 'objective',
        case: 'cpo',
        backend: 'reference',
        status: 'failed',
        shape: [8, 128],
        precision: 32,
        reason: 'result differs',
      },
      timedCell('objective', 'slic', 'reference', [1, 1, 1]),
    ],
    { createdAt: '2025-01-02T00:00:00.000Z' },
  );
  return { baseline, current };
}

describe('verdictOf: threshold and interquartile ranges', () => {
  it('a regression needs both: beyond the threshold and disjoint ranges', () => {
    expect(verdictOf(spread(100, 98, 102), spread(130, 128, 132), 0.1)).toEqual({ ratio: 1.3, verdict: 'regression' });
    expect(verdictOf(spread(100, 80, 140), spread(130, 100, 160), 0.1).verdict).toBe('noisy');
    expect(verdictOf(spread(100, 98, 102), spread(105, 104, 106), 0.1).verdict).toBe('unchanged');
    expect(verdictOf(spread(100, 98, 102), spread(130, 128, 132), 0.5).verdict).toBe('unchanged');
  });

  it('an improvement mirrors it on a log scale (1/(1+t))', () => {
    expect(verdictOf(spread(100, 98, 102), spread(70, 69, 71), 0.1).verdict).toBe('improvement');
    expect(verdictOf(spread(100, 98, 102), spread(92, 91, 93), 0.1).verdict).toBe('unchanged');
    expect(verdictOf(spread(100, 60, 140), spread(70, 50, 110), 0.1).verdict).toBe('noisy');
  });

  it('touching ranges overlap; a single sample has a zero-width range', () => {
    expect(verdictOf(spread(100, 98, 120), spread(130, 120, 132), 0.1).verdict).toBe('noisy');
    expect(verdictOf({ median: 100, q1: 100, q3: 100, count: 1 }, { median: 120, q1: 120, q3: 120, count: 1 }, 0.1).verdict).toBe(
      'regression',
    );
  });
});

describe('compareReports', () => {
  it('judges each matched cell and lists the unmatched ones without failing them', () => {
    const { baseline, current } = runs();
    const c = compareReports(baseline, current, 0.1);
    const verdicts = Object.fromEntries(c.cells.map((cell) => [`${cell.workload}/${cell.case}`, cell.verdict]));
    expect(verdicts).toEqual({
      'logits/small': 'regression',
      'objective/dpo': 'noisy',
      'objective/simpo': 'improvement',
      'objective/kto': 'unchanged',
      'objective/cpo': 'not compared',
    });
    expect(c.cells.find((cell) => cell.case === 'cpo')!.reason).toBe('current failed: result differs');
    expect(c.cells.find((cell) => cell.case === 'small')!.ratio).toBeCloseTo(132 / 102, 12);
    expect(c.onlyInBaseline).toEqual([{ workload: 'objective', case: 'orpo', backend: 'reference' }]);
    expect(c.onlyInCurrent).toEqual([{ workload: 'objective', case: 'slic', backend: 'reference' }]);
    expect(c.counts).toEqual({ regression: 1, improvement: 1, noisy: 1, unchanged: 1, 'not compared': 1 });
    expect(c.machineDifference).toBeNull();
  });

  it('does not compare a cell whose shape changed, and notes a different machine', () => {
    const base = syntheticReport([timedCell('logits', 'small', 'reference', [1, 2, 3], [8, 128, 4096])]);
    const cur = syntheticReport([timedCell('logits', 'small', 'reference', [9, 9, 9], [8, 128, 2048])], {
      machine: { ...base.machine, cpuModel: 'Other CPU', cpus: 4 },
    });
    const c = compareReports(base, cur);
    expect(c.cells[0]).toMatchObject({ verdict: 'not compared', reason: 'shape changed from [8,128,4096] to [8,128,2048]' });
    expect(c.machineDifference).toBe('the baseline ran on Test CPU, 2 CPUs, linux/x64, this run on Other CPU, 4 CPUs, linux/x64');
    expect(renderComparisonMarkdown(c, 'main')).toContain('**Different machine:**');
  });

  it('warns, without changing a verdict, when the bandwidth probe moved beyond the threshold (a busier machine)', () => {
    const probe = (bound: number) => ({
      copyBytesPerSecond: bound,
      readBytesPerSecond: bound,
      writeBytesPerSecond: bound,
      boundBytesPerSecond: bound,
      bufferBytes: 2 ** 30,
      repeats: 3,
    });
    const cells = [timedCell('logits', 'small', 'reference', [100, 101, 102], [8, 128, 4096])];
    const quiet = syntheticReport(cells, { bandwidth: probe(18e9) });
    const busy = syntheticReport([timedCell('logits', 'small', 'reference', [200, 201, 202], [8, 128, 4096])], {
      bandwidth: probe(11e9),
      machine: { ...quiet.machine, loadAverage: [4.6, 2.6, 1.6] },
    });
    const c = compareReports(quiet, busy);
    expect(c.counts.regression).toBe(1);
    expect(c.machineStateDifference).toBe(
      "the memory bandwidth probe's all-core bound was 11.0 GB/s in this run, load average 4.6 at the start against 18.0 GB/s in the baseline, load average 0.1 at the start (−38.9%)",
    );
    expect(renderComparisonMarkdown(c, 'main')).toContain('**Machine state changed:**');
    expect(renderSummaryMarkdown(busy, renderMarkdownReport(busy), { result: c, label: 'main' })).toContain(
      '- Machine state changed: the memory bandwidth probe',
    );
    expect(compareReports(quiet, syntheticReport(cells, { bandwidth: probe(17e9) })).machineStateDifference).toBeNull();
    expect(compareReports(quiet, syntheticReport(cells)).machineStateDifference).toBeNull();
  });

  it('parses thresholds as percentages', () => {
    expect(parseThreshold('10%')).toBeCloseTo(0.1, 12);
    expect(parseThreshold('2.5%')).toBeCloseTo(0.025, 12);
    expect(parseThreshold('25')).toBeCloseTo(0.25, 12);
    for (const bad of ['0%', '-5%', 'ten', '10%%', ''])
      expect(() => parseThreshold(bad), bad).toThrow(/--threshold must be a positive percentage/);
    expect(() => compareReports(runs().baseline, runs().current, 0)).toThrow(/threshold/);
  });

  it('renders a table with the change and the verdict per cell', () => {
    const { baseline, current } = runs();
    const md = renderComparisonMarkdown(compareReports(baseline, current), '`base.json`');
    expect(md).toContain('### Comparison with `base.json`');
    expect(md).toContain(
      '**1 regression beyond 10%, 1 improvement, 1 beyond the threshold but within the noise, 1 unchanged, 1 not compared, 1 only in the baseline, 1 only in this run.**',
    );
    expect(md).toContain('| logits | small | reference | 102 (101–103) | 132 (131–133) | +29.4% | **regression** |');
    expect(md).toContain('| objective | simpo | reference | 10.4 (10.2–10.6) | 6.20 (6.10–6.30) | −40.4% | improvement |');
    expect(md).toContain('Only in the baseline (not failures): objective orpo reference.');
  });
});

describe('summary markdown', () => {
  it("has a result line, the comparison, both machines and the run's tables one heading level down", () => {
    const { baseline, current } = runs();
    const comparison = compareReports(baseline, current);
    const md = renderSummaryMarkdown(current, renderMarkdownReport(current), { result: comparison, label: 'main' });
    expect(md.startsWith('## pref bench: FAIL\n')).toBe(true);
    expect(md).toContain('- 1 cell failed the check against the float64 reference: objective cpo reference.');
    expect(md).toContain('- Against main: 1 regression beyond 10%');
    expect(md).toContain('### Comparison with main');
    expect(md).toContain('- this run: Test CPU, 2 CPUs, 8.00 GiB RAM, linux/x64, Node v20.0.0, load average 0.1 / 0.2 / 0.3 at the start');
    expect(md).toContain('- baseline: Test CPU');
    expect(md).toContain('### pref bench (small)');
    expect(md).toContain('#### Backends');
    expect(md).not.toMatch(/^## pref bench \(small\)/m);
  });

  it('passes without failures or regressions, and says when there is no baseline', () => {
    const report = syntheticReport([timedCell('objective', 'dpo', 'reference', [1, 2, 3])]);
    const md = renderSummaryMarkdown(report, renderMarkdownReport(report), null);
    expect(md.startsWith('## pref bench: PASS\n')).toBe(true);
    expect(md).toContain('- No baseline to compare with.');
    expect(md).not.toContain('Comparison with');
  });
});

describe('pref bench --compare (exit codes)', () => {
  function captureIo() {
    const out: string[] = [];
    const err: string[] = [];
    return { out, err, io: { out: (t: string) => out.push(t), err: (t: string) => err.push(t) } };
  }

  async function files(...reports: (BenchReport | string)[]): Promise<string[]> {
    const folder = await mkdtemp(join(tmpdir(), 'pref-bench-compare-'));
    return Promise.all(
      reports.map(async (r, i) => {
        const path = join(folder, `report-${i}.json`);
        await writeFile(path, typeof r === 'string' ? r : JSON.stringify(r));
        return path;
      }),
    );
  }

  const cleanCurrent = (cells: BenchCell[]) => syntheticReport(cells);

  it('exits 1 on a clean regression, 0 when the only change is within the noise', async () => {
    const base = syntheticReport([timedCell('objective', 'dpo', 'reference', [10, 10.1, 10.2, 10.3, 10.4])]);
    const slower = cleanCurrent([timedCell('objective', 'dpo', 'reference', [13, 13.1, 13.2, 13.3, 13.4])]);
    const noisy = cleanCurrent([timedCell('objective', 'dpo', 'reference', [9, 10, 13.2, 20, 25])]);
    const [b, s, n] = await files(base, slower, noisy);
    const regression = captureIo();
    expect(await benchCommand(['--compare', b, '--current', s], regression.io)).toBe(1);
    expect(regression.out.join('\n')).toContain('**regression**');
    expect(regression.err.join('\n')).toContain(`1 cell regressed beyond 10% against ${b}`);
    const withinNoise = captureIo();
    expect(await benchCommand(['--compare', b, '--current', n], withinNoise.io)).toBe(0);
    expect(withinNoise.out.join('\n')).toContain('| noisy |');
    // A wider threshold lets the clean regression through.
    expect(await benchCommand(['--compare', b, '--current', s, '--threshold', '50%'], captureIo().io)).toBe(0);
  });

  it('exits 0 when cells are only in one run, and 1 when the current run has a failed cell', async () => {
    const base = syntheticReport([
      timedCell('objective', 'dpo', 'reference', [1, 1, 1]),
      timedCell('objective', 'kto', 'reference', [1, 1, 1]),
    ]);
    const moved = cleanCurrent([
      timedCell('objective', 'dpo', 'reference', [1, 1, 1]),
      timedCell('objective', 'slic', 'reference', [1, 1, 1]),
    ]);
    const failed = cleanCurrent([
      {
        workload: 'objective',
        case: 'dpo',
        backend: 'reference',
        status: 'failed',
        shape: [8, 128],
        precision: 32,
        reason: 'result differs',
      },
    ]);
    const [b, m, f] = await files(base, moved, failed);
    const io = captureIo();
    expect(await benchCommand(['--compare', b, '--current', m], io.io)).toBe(0);
    expect(io.out.join('\n')).toContain('Only in the baseline (not failures): objective kto reference.');
    expect(io.out.join('\n')).toContain('Only in this run (not failures): objective slic reference.');
    expect(await benchCommand(['--compare', b, '--current', f], captureIo().io)).toBe(1);
  });

  it('exits 2 with one line naming the file for a missing, non-JSON or malformed baseline', async () => {
    const good = syntheticReport([timedCell('objective', 'dpo', 'reference', [1, 1, 1])]);
    const bad = JSON.parse(JSON.stringify(good));
    bad.results[0].timing.median = 'fast';
    delete bad.machine;
    const [g, notJson, malformed] = await files(good, '{"schema": "pref-bench/1",', JSON.stringify(bad));
    const cases: [string, RegExp][] = [
      [join(tmpdir(), 'no-such-dir-pref', 'missing.json'), /missing\.json: cannot be read \(ENOENT/],
      [notJson, /report-1\.json: not valid JSON \(/],
      [
        malformed,
        /report-2\.json: not a pref-bench\/1 report: report\.machine: missing; report\.results\[0\]\.timing\.median: expected a finite number, got string fast$/,
      ],
    ];
    for (const [path, message] of cases) {
      const io = captureIo();
      expect(await benchCommand(['--compare', path, '--current', g], io.io), path).toBe(2);
      expect(io.err).toHaveLength(1);
      expect(io.err[0]).not.toContain('\n');
      expect(io.err[0]).toMatch(/^pref bench: /);
      expect(io.err[0]).toMatch(message);
      expect(io.out).toEqual([]);
    }
    // A malformed --current file is named the same way.
    const io = captureIo();
    expect(await benchCommand(['--compare', g, '--current', malformed], io.io)).toBe(2);
    expect(io.err[0]).toContain('report-2.json: not a pref-bench/1 report');
  });

  it('rejects a bad threshold, a threshold without --compare, and run options with --current (exit 2)', async () => {
    const [g] = await files(syntheticReport([]));
    for (const argv of [
      ['--compare', g, '--current', g, '--threshold', 'lots'],
      ['--threshold', '10%'],
      ['--current', g, '--mode', 'full'],
    ]) {
      const io = captureIo();
      expect(await benchCommand(argv, io.io), argv.join(' ')).toBe(2);
      expect(io.err).toHaveLength(1);
      expect(io.err[0]).toMatch(
        /--threshold must be a positive percentage|--threshold needs --compare|--current uses a stored report: --mode cannot apply/,
      );
    }
  });

  it('appends the summary markdown to --summary (as $GITHUB_STEP_SUMMARY expects)', async () => {
    const base = syntheticReport([timedCell('objective', 'dpo', 'reference', [10, 10.2, 10.4])]);
    const cur = syntheticReport([timedCell('objective', 'dpo', 'reference', [10.1, 10.3, 10.5])]);
    const [b, c] = await files(base, cur);
    const summary = join(await mkdtemp(join(tmpdir(), 'pref-bench-summary-')), 'step-summary.md');
    await writeFile(summary, 'earlier step\n');
    expect(await benchCommand(['--compare', b, '--current', c, '--summary', summary], captureIo().io)).toBe(0);
    const text = await readFile(summary, 'utf8');
    expect(text.startsWith('earlier step\n## pref bench: PASS\n')).toBe(true);
    expect(text).toContain(`### Comparison with \`${b}\``);
    expect(text).toContain('| objective | dpo | reference | 10.2 (10.1–10.3) | 10.3 (10.2–10.4) | +1.0% | unchanged |');
    expect(text).toContain('### Machine');
  });
});
