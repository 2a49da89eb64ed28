import type { AlignReport, EvaluationPoint, ObjectiveRun, SeedRun } from './report-types';
import type { PreferenceStepLog } from './preference-stage';
import { meanInterval } from './seed-statistics';
import { SERIES_COLORS, type ChartMarker, type ChartSeries, type LegendKey, type LineChart } from './svg-line-chart';

/** Span (in steps) of the exponential moving average of the per-step curves: a tenth of the run, at least 1. */
export function smoothingSpan(steps: number): number {
  return Math.max(1, Math.round(steps / 10));
}

/**
 * Exponential moving average with span `span` (α = 2 / (span + 1)), bias-corrected so the
 * first values are not pulled towards 0: `s_t = Σ_k (1−α)^(t−k) x_k / Σ_k (1−α)^(t−k)`.
 */
export function exponentialMovingAverage(values: readonly number[], span: number): number[] {
  const alpha = 2 / (span + 1);
  let weighted = 0;
  let weight = 0;
  return values.map((value) => {
    weighted = (1 - alpha) * weighted + alpha * value;
    weight = (1 - alpha) * weight + alpha;
    return weighted / weight;
  });
}

/** The charts of a report, by file name (without the folder). */
export function alignCharts(
  report: AlignReport,
  files: { logps: string; margin: string; accuracy: string; loss: string },
): Record<string, LineChart> {
  const runs = report.seeds;
  const seedCount = runs.length;
  const labels = report.objectives.map((run) => run.label);
  const color = (i: number) => SERIES_COLORS[i % SERIES_COLORS.length];
  const span = smoothingSpan(report.settings.steps);
  const runsOf = (label: string): ObjectiveRun[] => runs.map((seed: SeedRun) => seed.objectives.find((run) => run.label === label)!);
  const bands = seedCount > 1;
  const subtitle = (held: string) =>
    `Lines: ${bands ? `mean over ${seedCount} seeds of ` : ''}training-batch values smoothed by an EMA over ${span} step${span === 1 ? '' : 's'} ` +
    `(raw values faint)${bands ? '; bands: 95% Student t interval over seeds' : ''}; dots: ${held}${bands ? ', mean over seeds with 95% interval' : ''}.`;

  const perStep = (
    label: string,
    i: number,
    pick: (s: PreferenceStepLog) => number,
    heldOut: ((e: EvaluationPoint) => number) | null,
    name: string,
    dashed = false,
  ): ChartSeries => {
    const objectiveRuns = runsOf(label);
    const raw = objectiveRuns.map((run) => run.steps.map(pick));
    const smooth = raw.map((values) => exponentialMovingAverage(values, span));
    const steps = objectiveRuns[0].steps.map((s) => s.step);
    const across = (rows: readonly number[][], k: number) => meanInterval(rows.map((row) => row[k]));
    return {
      name,
      color: color(i),
      dashed,
      points: steps.map((step, k) => [step, across(smooth, k).mean]),
      raw: steps.map((step, k) => [step, across(raw, k).mean]),
      ...(bands
        ? {
            band: steps.map((step, k) => {
              const e = across(smooth, k);
              return [step, e.low!, e.high!] as const;
            }),
          }
        : {}),
      ...(heldOut ? { markers: heldOutMarkers(objectiveRuns, heldOut) } : {}),
    };
  };

  const keys = (held: boolean): LegendKey[] => [
    { label: 'EMA of training batches', style: 'line' },
    { label: 'raw training batches', style: 'raw' },
    ...(bands ? [{ label: '95% interval over seeds', style: 'band' as const }] : []),
    ...(held ? [{ label: 'held-out evaluation', style: 'marker' as const }] : []),
  ];

  return {
    [files.logps]: {
      title: 'Summed log-prob of chosen (solid) and rejected (dashed) answers',
      subtitle: subtitle('held-out prompts, teacher forcing'),
      xLabel: 'preference step',
      yLabel: 'mean summed log-prob',
      series: [
        ...labels.map((label, i) =>
          perStep(
            label,
            i,
            (s) => s.chosenLogp,
            (e) => e.chosenLogp,
            `${label} chosen`,
          ),
        ),
        ...labels.map((label, i) =>
          perStep(
            label,
            i,
            (s) => s.rejectedLogp,
            (e) => e.rejectedLogp,
            `${label} rejected`,
            true,
          ),
        ),
      ],
      keys: [...keys(true), { label: 'rejected answer', style: 'dashed' }],
    },
    [files.margin]: {
      title: 'Margin: chosen − rejected summed log-prob',
      subtitle: subtitle('held-out prompts'),
      xLabel: 'preference step',
      yLabel: 'mean margin (nats)',
      series: labels.map((label, i) =>
        perStep(
          label,
          i,
          (s) => s.margin,
          (e) => e.chosenLogp - e.rejectedLogp,
          label,
        ),
      ),
      keys: keys(true),
    },
    [files.accuracy]: {
      title: 'Held-out exact-match accuracy (greedy decoding)',
      subtitle: `Dots: held-out evaluations${bands ? `, mean over ${seedCount} seeds; bands and bars: 95% Student t interval over seeds` : ''}.`,
      xLabel: 'preference step (0 = SFT checkpoint)',
      yLabel: 'accuracy',
      series: labels.map((label, i): ChartSeries => {
        const markers = heldOutMarkers(runsOf(label), (e) => e.accuracy);
        return {
          name: label,
          color: color(i),
          points: markers.map((m) => [m.x, m.y]),
          markers,
          ...(bands ? { band: markers.map((m) => [m.x, m.low!, m.high!] as const) } : {}),
        };
      }),
    },
    [files.loss]: {
      title: "Each objective's own loss",
      subtitle: subtitle('none').replace(/; dots: none.*$/, '.'),
      xLabel: 'preference step',
      yLabel: 'loss',
      series: labels.map((label, i) => perStep(label, i, (s) => s.loss, null, label)),
      keys: keys(false),
    },
  };
}

/** Held-out values at each evaluation step: the mean over seeds, with the 95% interval as error bar when there are several. */
function heldOutMarkers(runs: readonly ObjectiveRun[], pick: (e: EvaluationPoint) => number): ChartMarker[] {
  return runs[0].evaluations.map((evaluation, k) => {
    const estimate = meanInterval(runs.map((run) => pick(run.evaluations[k])));
    return {
      x: evaluation.step,
      y: estimate.mean,
      ...(estimate.low !== null && estimate.high !== null ? { low: estimate.low, high: estimate.high } : {}),
    };
  });
}
