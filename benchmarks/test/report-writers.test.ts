import { describe, expect, it } from 'vitest';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BENCH_SCHEMA,
  benchReportProblems,
  markdownTable,
  parseBenchReport,
  renderBarChartSvg,
  renderMarkdownReport,
  writeBenchReport,
  type BenchCell,
  type BenchReport,
} from '@pref/benchmarks';
import { parseXmlElements } from './xml-well-formed';

const timing = (median: number) => ({
  unit: 'ms' as const,
  samples: [median, median * 1.1],
  warmup: 1,
  count: 2,
  median,
  mean: median,
  min: median,
  max: median * 1.1,
  q1: median,
  q3: median,
  iqr: 0,
});
const check = { passed: true, worstRatio: 0.01, worstAt: 'loss', relativeTolerance: 1e-4 };

function sampleReport(): BenchReport {
  const results: BenchCell[] = [
    {
      workload: 'logits',
      case: 'small',
      backend: 'reference',
      status: 'ok',
      shape: [8, 128, 4096],
      precision: 64,
      inputPath: 'device',
      check,
      timing: timing(120),
      memory: { peakRssDeltaBytes: 33e6, method: 'vmhwm', devicePeakBytes: null, gradientBytes: 32 * 2 ** 20 },
      bandwidth: { bytes: 1e8, bytesPerSecond: 8e8, fraction: 0.04, boundRatio: 25 },
    },
    {
      workload: 'logits',
      case: 'small',
      backend: 'tfjs-cpu',
      status: 'failed',
      shape: [8, 128, 4096],
      precision: 32,
      reason: 'result differs | at grads.chosenLogits[3]',
    },
    {
      workload: 'logits',
      case: 'small',
      backend: 'webgpu',
      status: 'skipped',
      shape: [8, 128, 4096],
      precision: null,
      reason: 'backend did not start: no GPU adapter <found> & "quoted"',
    },
    {
      workload: 'objective',
      case: 'dpo',
      backend: 'reference',
      status: 'ok',
      shape: [8, 128],
      precision: 64,
      inputPath: 'host',
      check,
      timing: timing(1.5),
    },
    {
      workload: 'objective',
      case: 'dpo',
      backend: 'tfjs-cpu',
      status: 'ok',
      shape: [8, 128],
      precision: 32,
      inputPath: 'host',
      check,
      timing: timing(9.5),
    },
    { workload: 'align', case: 'simpo-step', backend: 'tfjs-cpu', status: 'ok', shape: [64], precision: 32, timing: timing(300) },
  ];
  return {
    schema: BENCH_SCHEMA,
    createdAt: '2025-01-01T00:00:00.000Z',
    mode: 'small',
    command: 'pref bench --mode small',
    machine: { platform: 'linux', arch: 'x64', cpuModel: 'Test CPU', cpus: 2, totalMemoryBytes: 8 * 2 ** 30, node: 'v20.0.0' },
    bandwidth: {
      copyBytesPerSecond: 2e10,
      readBytesPerSecond: 1e10,
      writeBytesPerSecond: 2.5e10,
      boundBytesPerSecond: 2.5e10,
      bufferBytes: 2 ** 28,
      repeats: 5,
    },
    settings: {
      repeats: 3,
      warmup: 1,
      objectiveRepeats: 10,
      cellBudgetSeconds: 20,
      logitsShapes: [{ name: 'small', shape: [8, 128, 4096] }],
      objectiveShape: [8, 128],
      workloads: ['logits', 'objective', 'align'],
    },
    backends: [
      { id: 'reference', config: { backend: 'reference', precision: 64 }, status: 'started', name: 'reference', precision: 64 },
      { id: 'tfjs-cpu', config: { backend: 'tfjs' }, status: 'started', name: 'tfjs:cpu', precision: 32 },
      { id: 'webgpu', config: { backend: 'webgpu' }, status: 'skipped', reason: 'no GPU adapter <found> & "quoted"' },
    ],
    results,
    totalSeconds: 12.5,
  };
}

/** Bars of a chart: each `rect` whose first child is a `title` (its tooltip). */
function barsOf(elements: ReturnType<typeof parseXmlElements>): { label: string; width: number }[] {
  return elements.flatMap((e, k) =>
    e.name === 'rect' && elements[k + 1]?.name === 'title' ? [{ label: elements[k + 1].text, width: Number(e.attributes.width) }] : [],
  );
}

/** The tables of a markdown document: rows of cells, split on unescaped pipes. */
function markdownTables(text: string): string[][][] {
  const tables: string[][][] = [];
  let current: string[][] | null = null;
  for (const line of text.split('\n')) {
    if (line.startsWith('|')) {
      const cells = line
        .slice(1, -1)
        .split(/(?<!\\)\|/)
        .map((c) => c.trim());
      if (!current) tables.push((current = []));
      current.push(cells);
    } else current = null;
  }
  return tables;
}

describe('JSON report (pref-bench/1)', () => {
  it('accepts a well-formed report after a JSON round trip', () => {
    expect(benchReportProblems(JSON.parse(JSON.stringify(sampleReport())))).toEqual([]);
  });

  it('names what is wrong with a malformed report', () => {
    const report = JSON.parse(JSON.stringify(sampleReport()));
    report.schema = 'pref-bench/0';
    delete report.results[0].check;
    report.results[3].timing.median = 'fast';
    delete report.results[1].reason;
    const problems = benchReportProblems(report);
    expect(problems).toContain('report.schema: expected one of "pref-bench/1", got "pref-bench/0"');
    expect(problems.some((p) => p.includes('results[3].timing.median'))).toBe(true);
    expect(problems.some((p) => p.includes('results[0]') && p.includes('check'))).toBe(true);
    expect(problems.some((p) => p.includes('results[1]') && p.includes('reason'))).toBe(true);
    expect(() => parseBenchReport(report)).toThrow(/not a pref-bench\/1 report/);
  });
});

describe('fields added in this round (threaded probe, allocations, gradient output, linear workload)', () => {
  function extended(): BenchReport {
    const report = sampleReport();
    const cells = report.results.map((c, i) =>
      i === 0
        ? {
            ...c,
            bandwidth: { ...c.bandwidth!, cStyleBoundMs: 5 },
            allocations: {
              calls: 3,
              bytesPerCall: 32 * 2 ** 20,
              arrayBuffersBytesPerCall: 32 * 2 ** 20,
              externalBytesPerCall: 32 * 2 ** 20,
              backend: { largeBufferAllocationsPerCall: 2, largeBufferBytesPerCall: null },
            },
            gradientOutput: 'in-place' as const,
          }
        : c,
    );
    const rates = { copy: 2e10, read: 1e10, write: 1.5e10, triad: 1.8e10 };
    return {
      ...report,
      bandwidth: {
        ...report.bandwidth!,
        triadBytesPerSecond: 1.8e10,
        threads: 2,
        singleThread: rates,
        allThreads: rates,
        singleThreadBoundBytesPerSecond: 2e10,
        firstTouchBytesPerSecond: 1e9,
        largestCacheBytes: null,
        method: 'workers',
      },
      settings: {
        ...report.settings,
        workloads: ['logits', 'linear'],
        linearShapes: [{ name: 'linear-small', shape: [8, 128, 64, 4096] }],
      },
      results: [
        ...cells,
        {
          workload: 'linear',
          case: 'linear-small',
          backend: 'reference',
          status: 'skipped',
          shape: [8, 128, 64, 4096],
          precision: 64,
          reason: 'not available: this core has no hidden-state path',
        },
      ],
    };
  }

  it('validates them, and still validates a report without them', () => {
    expect(benchReportProblems(JSON.parse(JSON.stringify(extended())))).toEqual([]);
    expect(benchReportProblems(JSON.parse(JSON.stringify(sampleReport())))).toEqual([]);
  });

  it('names mistyped new fields', () => {
    const report = JSON.parse(JSON.stringify(extended()));
    report.results[0].gradientOutput = 'somewhere';
    report.results[0].allocations.calls = 'three';
    report.results[0].bandwidth.cStyleBoundMs = null;
    report.bandwidth.allThreads.triad = 'fast';
    report.settings.workloads.push('training');
    expect(benchReportProblems(report)).toEqual([
      'report.bandwidth.allThreads.triad: expected a finite number, got string fast',
      'report.settings.workloads[2]: expected one of "logits", "objective", "align", "linear", got "training"',
      'report.results[0].bandwidth.cStyleBoundMs: expected a finite number, got null null',
      'report.results[0].allocations.calls: expected a finite number, got string three',
      'report.results[0].gradientOutput: expected one of "in-place", "returned", got "somewhere"',
    ]);
  });

  it('renders the new logits columns and lists a linear cell as skipped', () => {
    const text = renderMarkdownReport(extended());
    const logits = markdownTables(text).find((t) => t[0][0] === 'shape')!;
    const column = (name: string) => logits[2][logits[0].indexOf(name)];
    expect(column('C-style bound ms')).toBe('5.00');
    expect(column('grad out')).toBe('in place');
    expect(column('new large buffers / call')).toBe('2');
    expect(column('new bytes / call')).toBe('32.0 MiB');
    expect(text).toContain('at the all-core bound 25.0 GB/s (2 threads; single-thread bound 20.0 GB/s)');
    expect(text).toContain('| linear | linear-small | reference | skipped | not available: this core has no hidden-state path |');
  });
});

describe('markdown', () => {
  it('renders tables whose rows all have the header cell count, separator included', () => {
    const tables = markdownTables(renderMarkdownReport(sampleReport()));
    expect(tables.length).toBeGreaterThanOrEqual(4);
    for (const table of tables) {
      expect(table[1].every((c) => c === '---')).toBe(true);
      for (const row of table) expect(row).toHaveLength(table[0].length);
    }
    const logits = tables.find((t) => t[0][0] === 'shape')!;
    expect(logits[2]).toContain('120 (120–132)');
    expect(logits[2]).toContain('4.0%');
    const objectives = tables.find((t) => t[0][0] === 'objective')!;
    expect(objectives[0]).toEqual(['objective', 'reference', 'tfjs-cpu']);
    expect(objectives[2]).toEqual(['dpo', '1.50 (1.50–1.65)', '9.50 (9.50–10.5)']);
  });

  it('escapes pipes in cells and rejects ragged rows', () => {
    expect(markdownTable(['a', 'b'], [['x|y', 'z']])).toBe('| a | b |\n| --- | --- |\n| x\\|y | z |');
    expect(() => markdownTable(['a', 'b'], [['only one']])).toThrow(/1 cells, the header 2/);
  });
});

describe('SVG chart', () => {
  it('is well-formed XML with one bar per ok result and escaped labels', () => {
    const svg = renderBarChartSvg(
      [
        {
          title: 'logits <small> & "large"',
          unit: 'ms',
          groups: [
            {
              label: 'small',
              bars: [
                { series: 'reference', value: 120 },
                { series: 'tfjs', value: 5300 },
              ],
            },
          ],
        },
        {
          title: 'objectives',
          unit: 'ms',
          groups: [
            {
              label: 'dpo',
              bars: [
                { series: 'reference', value: 1.5 },
                { series: 'tfjs', value: 0 },
              ],
            },
          ],
        },
      ],
      'pref bench',
    );
    const elements = parseXmlElements(svg);
    expect(elements[0].name).toBe('svg');
    expect(elements[0].attributes.xmlns).toBe('http://www.w3.org/2000/svg');
    const bars = barsOf(elements);
    expect(bars).toHaveLength(3);
    const widths = Object.fromEntries(bars.map((b) => [b.label, b.width]));
    expect(widths['small · tfjs: 5300']).toBeGreaterThan(widths['small · reference: 120']);
    expect(svg).toContain('logits &lt;small&gt; &amp; &quot;large&quot;');
  });

  it('the checker itself rejects malformed XML', () => {
    expect(() => parseXmlElements('<svg><g></svg></g>')).toThrow();
    expect(() => parseXmlElements('<svg><text>a & b</text></svg>')).toThrow(/bare &/);
    expect(() => parseXmlElements('<svg x=1></svg>')).toThrow(/malformed/);
  });
});

describe('writeBenchReport', () => {
  it('writes a parseable bench.json, bench.md and a well-formed bench.svg', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'pref-bench-'));
    const files = await writeBenchReport(sampleReport(), folder);
    expect(files.map((f) => f.slice(folder.length + 1))).toEqual(['bench.json', 'bench.md', 'bench.svg']);
    expect(parseBenchReport(JSON.parse(await readFile(files[0], 'utf8'))).results).toHaveLength(6);
    expect(await readFile(files[1], 'utf8')).toContain('| objective | reference | tfjs-cpu |');
    const svg = parseXmlElements(await readFile(files[2], 'utf8'));
    expect(barsOf(svg).map((b) => b.label)).toEqual([
      'small · reference: 120',
      'dpo · reference: 1.5',
      'dpo · tfjs-cpu: 9.5',
      'simpo-step · tfjs-cpu: 300',
    ]);
  });
});
