import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BenchReport } from './bench-report';
import { renderMarkdownReport } from './markdown-report';
import { renderBarChartSvg, type BarPanel } from './svg-bar-chart';

/** File names inside the output folder. */
export const BENCH_FILES = { json: 'bench.json', markdown: 'bench.md', svg: 'bench.svg' } as const;

/** The chart panels of a report: median ms per logits shape and per objective, one bar per backend. */
export function benchChartPanels(report: BenchReport): BarPanel[] {
  const panel = (workload: 'logits' | 'objective' | 'align', title: string): BarPanel => {
    const cells = report.results.filter((c) => c.workload === workload && c.status === 'ok' && c.timing);
    const cases = [...new Set(cells.map((c) => c.case))];
    return {
      title,
      unit: 'median ms (log scale)',
      groups: cases.map((label) => ({
        label,
        bars: cells.filter((c) => c.case === label).map((c) => ({ series: c.backend, value: c.timing!.median })),
      })),
    };
  };
  return [
    panel('logits', 'Loss + gradient on logits (SimPO)'),
    panel('objective', `Loss + gradient on token log-probs [${report.settings.objectiveShape.join(',')}]`),
    panel('align', 'One pref align training step'),
  ].filter((p) => p.groups.length > 0);
}

/** Writes `bench.json`, `bench.md` and `bench.svg` to `folder`; returns their paths. */
export async function writeBenchReport(report: BenchReport, folder: string): Promise<string[]> {
  await mkdir(folder, { recursive: true });
  const files = [
    [join(folder, BENCH_FILES.json), `${JSON.stringify(report, null, 2)}\n`],
    [join(folder, BENCH_FILES.markdown), renderMarkdownReport(report)],
    [
      join(folder, BENCH_FILES.svg),
      renderBarChartSvg(benchChartPanels(report), `pref bench (${report.mode}) — ${report.machine.cpuModel}`),
    ],
  ] as const;
  for (const [path, text] of files) await writeFile(path, text);
  return files.map(([path]) => path);
}
