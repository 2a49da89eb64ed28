import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AlignReport, ObjectiveRun } from './run-align';
import { renderLineChart, SERIES_COLORS, type ChartSeries } from './svg-line-chart';
import { renderSummaryMarkdown } from './summary-markdown';

/** File names of the report, relative to the output folder. */
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

/** Writes the report (JSON, CSVs, markdown, SVG charts) into `folder`; returns the file names. */
export async function writeAlignReport(report: AlignReport, folder: string): Promise<string[]> {
  await mkdir(folder, { recursive: true });
  const files = Object.values(REPORT_FILES);
  const complete: AlignReport = { ...report, files };
  const runs = report.objectives;
  const color = (i: number) => SERIES_COLORS[i % SERIES_COLORS.length];
  const perStep = (pick: (run: ObjectiveRun) => (readonly [number, number])[], dashed = false, suffix = ''): ChartSeries[] =>
    runs.map((run, i) => ({ name: `${run.label}${suffix}`, points: pick(run), color: color(i), dashed }));
  const outputs: Record<string, string> = {
    [REPORT_FILES.json]: `${JSON.stringify(complete, null, 2)}\n`,
    [REPORT_FILES.stepsCsv]: stepsCsv(runs),
    [REPORT_FILES.evaluationsCsv]: evaluationsCsv(runs),
    [REPORT_FILES.summary]: renderSummaryMarkdown(complete),
    [REPORT_FILES.logpsChart]: renderLineChart({
      title: 'Summed log-prob of chosen (solid) and rejected (dashed) answers, training batches',
      xLabel: 'preference step',
      yLabel: 'mean summed log-prob',
      series: [
        ...perStep((run) => run.steps.map((s) => [s.step, s.chosenLogp]), false, ' chosen'),
        ...perStep((run) => run.steps.map((s) => [s.step, s.rejectedLogp]), true, ' rejected'),
      ],
    }),
    [REPORT_FILES.marginChart]: renderLineChart({
      title: 'Margin: chosen − rejected summed log-prob, training batches',
      xLabel: 'preference step',
      yLabel: 'mean margin (nats)',
      series: perStep((run) => run.steps.map((s) => [s.step, s.margin])),
    }),
    [REPORT_FILES.accuracyChart]: renderLineChart({
      title: 'Held-out exact-match accuracy (greedy decoding)',
      xLabel: 'preference step (0 = SFT checkpoint)',
      yLabel: 'accuracy',
      series: perStep((run) => run.evaluations.map((e) => [e.step, e.accuracy])),
    }),
    [REPORT_FILES.lossChart]: renderLineChart({
      title: "Each objective's own loss",
      xLabel: 'preference step',
      yLabel: 'loss',
      series: perStep((run) => run.steps.map((s) => [s.step, s.loss])),
    }),
  };
  for (const [name, text] of Object.entries(outputs)) await writeFile(join(folder, name), text);
  return files;
}

function csvField(value: string | number): string {
  const text = String(value);
  return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function csv(header: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  return [header, ...rows].map((row) => row.map(csvField).join(',')).join('\n') + '\n';
}

function stepsCsv(runs: readonly ObjectiveRun[]): string {
  const metricNames = [...new Set(runs.flatMap((run) => run.steps.flatMap((s) => Object.keys(s.metrics))))].sort();
  const header = ['objective', 'step', 'loss', 'chosen_logp', 'rejected_logp', 'margin', 'accuracy', 'milliseconds', ...metricNames];
  const rows = runs.flatMap((run) =>
    run.steps.map((s) => [run.label, s.step, s.loss, s.chosenLogp, s.rejectedLogp, s.margin, s.accuracy, s.milliseconds.toFixed(1), ...metricNames.map((name) => s.metrics[name] ?? '')]),
  );
  return csv(header, rows);
}

function evaluationsCsv(runs: readonly ObjectiveRun[]): string {
  const header = ['objective', 'step', 'accuracy', 'mean_generated_length', 'chosen_logp', 'rejected_logp', 'preference_accuracy'];
  const rows = runs.flatMap((run) =>
    run.evaluations.map((e) => [run.label, e.step, e.accuracy, e.meanGeneratedLength, e.chosenLogp, e.rejectedLogp, e.preferenceAccuracy]),
  );
  return csv(header, rows);
}
