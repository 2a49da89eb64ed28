import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AlignReport, SeedRun } from './report-types';
import type { SeedAggregate } from './aggregate-seeds';
import { renderLineChart } from './svg-line-chart';
import { renderSummaryMarkdown } from './summary-markdown';
import { alignCharts } from './align-charts';

/** File names of the report, relative to the output folder (every run). */
export const REPORT_FILES = {
  json: 'report.json',
  stepsCsv: 'steps.csv',
  evaluationsCsv: 'evaluations.csv',
  summary: 'summary.md',
  logpsChart: 'logps.svg',
  marginChart: 'margin.svg',
  accuracyChart: 'held-out-accuracy.svg',
  lossChart: 'loss.svg',
} as const;

/** Files a run with several seeds writes besides {@link REPORT_FILES}. */
export const MULTI_SEED_FILES = {
  aggregateCsv: 'aggregate.csv',
  pairedCsv: 'paired.csv',
} as const;

/** Writes the report (JSON, CSVs, markdown, SVG charts) into `folder`; returns the file names. */
export async function writeAlignReport(report: AlignReport, folder: string): Promise<string[]> {
  await mkdir(folder, { recursive: true });
  const multi = report.seeds.length > 1;
  const files = [...Object.values(REPORT_FILES), ...(multi ? Object.values(MULTI_SEED_FILES) : [])];
  const complete: AlignReport = { ...report, files };
  const charts = alignCharts(complete, {
    logps: REPORT_FILES.logpsChart,
    margin: REPORT_FILES.marginChart,
    accuracy: REPORT_FILES.accuracyChart,
    loss: REPORT_FILES.lossChart,
  });
  const outputs: Record<string, string> = {
    [REPORT_FILES.json]: `${JSON.stringify(complete, null, 2)}\n`,
    [REPORT_FILES.stepsCsv]: stepsCsv(complete.seeds, multi),
    [REPORT_FILES.evaluationsCsv]: evaluationsCsv(complete.seeds, multi),
    [REPORT_FILES.summary]: renderSummaryMarkdown(complete),
    ...Object.fromEntries(Object.entries(charts).map(([name, chart]) => [name, renderLineChart(chart)])),
  };
  if (multi) {
    outputs[MULTI_SEED_FILES.aggregateCsv] = aggregateCsv(complete.aggregate!);
    outputs[MULTI_SEED_FILES.pairedCsv] = pairedCsv(complete.aggregate!);
  }
  for (const [name, text] of Object.entries(outputs)) await writeFile(join(folder, name), text);
  return files;
}

function csvField(value: string | number | null): string {
  const text = value === null ? '' : String(value);
  return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function csv(header: readonly string[], rows: readonly (readonly (string | number | null)[])[]): string {
  return [header, ...rows].map((row) => row.map(csvField).join(',')).join('\n') + '\n';
}

/** Every step of every objective (of every seed: then `seed` is the first column). */
function stepsCsv(seeds: readonly SeedRun[], withSeed: boolean): string {
  const runs = seeds.flatMap((seed) => seed.objectives.map((run) => ({ seed: seed.seed, run })));
  const metricNames = [...new Set(runs.flatMap(({ run }) => run.steps.flatMap((s) => Object.keys(s.metrics))))].sort();
  const header = [
    ...(withSeed ? ['seed'] : []),
    'objective',
    'step',
    'loss',
    'chosen_logp',
    'rejected_logp',
    'margin',
    'accuracy',
    'milliseconds',
    ...metricNames,
  ];
  const rows = runs.flatMap(({ seed, run }) =>
    run.steps.map((s) => [
      ...(withSeed ? [seed] : []),
      run.label,
      s.step,
      s.loss,
      s.chosenLogp,
      s.rejectedLogp,
      s.margin,
      s.accuracy,
      s.milliseconds.toFixed(1),
      ...metricNames.map((name) => s.metrics[name] ?? ''),
    ]),
  );
  return csv(header, rows);
}

function evaluationsCsv(seeds: readonly SeedRun[], withSeed: boolean): string {
  const header = [
    ...(withSeed ? ['seed'] : []),
    'objective',
    'step',
    'accuracy',
    'mean_generated_length',
    'chosen_logp',
    'rejected_logp',
    'preference_accuracy',
  ];
  const rows = seeds.flatMap((seed) =>
    seed.objectives.flatMap((run) =>
      run.evaluations.map((e) => [
        ...(withSeed ? [seed.seed] : []),
        run.label,
        e.step,
        e.accuracy,
        e.meanGeneratedLength,
        e.chosenLogp,
        e.rejectedLogp,
        e.preferenceAccuracy,
      ]),
    ),
  );
  return csv(header, rows);
}

/** Per objective and figure: seeds, mean, the 95% interval and the standard deviation over seeds. */
function aggregateCsv(aggregate: SeedAggregate): string {
  const header = ['objective', 'figure', 'seeds', 'mean', 'low', 'high', 'std'];
  const rows = aggregate.objectives.flatMap((row) =>
    Object.entries(row.figures).map(([figure, e]) => [row.objective, figure, e.n, e.mean, e.low, e.high, e.std]),
  );
  return csv(header, rows);
}

/** Per objective, baseline and figure: the paired difference over seeds. */
function pairedCsv(aggregate: SeedAggregate): string {
  const header = ['objective', 'baseline', 'figure', 'seeds', 'mean_difference', 'low', 'high', 'sign', 'seeds_agreeing', 'differences'];
  const rows = aggregate.paired.map((p) => [
    p.objective,
    p.baseline,
    p.figure,
    p.difference.n,
    p.difference.mean,
    p.difference.low,
    p.difference.high,
    p.sign,
    p.seedsAgreeing,
    p.differences.join(' '),
  ]);
  return csv(header, rows);
}
