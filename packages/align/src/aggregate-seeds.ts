import type { SeedRun, SummaryRow } from './report-types';
import {
  INTERVAL_LEVEL,
  INTERVAL_METHOD,
  meanInterval,
  pairedDifference,
  studentTQuantile,
  type IntervalEstimate,
  type PairedDifference,
} from './seed-statistics';

/** The figures of the summary that are aggregated over seeds and compared in pairs. */
export type SummaryFigure =
  'accuracyAfterAlignment' | 'accuracyChange' | 'chosenLogpChange' | 'rejectedLogpChange' | 'finalMargin' | 'meanGeneratedLength';

/** The aggregated figures, in table order, with their headings. */
export const SUMMARY_FIGURES: readonly {
  readonly key: SummaryFigure;
  readonly title: string;
  readonly signed: boolean;
  readonly digits: number;
}[] = [
  { key: 'accuracyAfterAlignment', title: 'Held-out acc. after alignment', signed: false, digits: 3 },
  { key: 'accuracyChange', title: 'Δ acc. vs SFT', signed: true, digits: 3 },
  { key: 'chosenLogpChange', title: 'Δ mean chosen log-prob', signed: true, digits: 3 },
  { key: 'rejectedLogpChange', title: 'Δ mean rejected log-prob', signed: true, digits: 3 },
  { key: 'finalMargin', title: 'Final margin', signed: false, digits: 3 },
  { key: 'meanGeneratedLength', title: 'Mean generated length', signed: false, digits: 2 },
];

/** One objective over seeds: each figure's mean with its 95% interval. */
export interface ObjectiveAggregate {
  readonly objective: string;
  readonly id: string;
  readonly ablationOf?: string;
  readonly figures: Readonly<Record<SummaryFigure | 'accuracyAfterSft' | 'millisecondsPerStep', IntervalEstimate>>;
}

/** An objective compared with a baseline objective on one figure, seed by seed (objective − baseline). */
export interface PairedComparison extends PairedDifference {
  readonly objective: string;
  readonly baseline: string;
  readonly figure: SummaryFigure;
}

export interface SeedAggregate {
  /** How every interval is computed. */
  readonly method: string;
  readonly level: number;
  readonly seeds: readonly number[];
  /** The t quantile the intervals use, t(0.975, n − 1). */
  readonly tQuantile: number | null;
  /** The SFT checkpoint over seeds (held-out). */
  readonly sft: {
    readonly accuracy: IntervalEstimate;
    readonly chosenLogp: IntervalEstimate;
    readonly rejectedLogp: IntervalEstimate;
    readonly margin: IntervalEstimate;
    readonly meanGeneratedLength: IntervalEstimate;
  };
  readonly objectives: readonly ObjectiveAggregate[];
  /** Label of the SimPO run every objective is compared with; null when no SimPO run was selected. */
  readonly baseline: string | null;
  /** Each other objective vs the baseline, then each ablation vs its full objective (when that ran with default parameters). */
  readonly paired: readonly PairedComparison[];
}

/** Means, intervals and paired comparisons of the seeds' summary rows (all seeds ran the same objectives). */
export function aggregateSeeds(runs: readonly SeedRun[]): SeedAggregate {
  if (runs.length === 0) throw new RangeError('aggregateSeeds: no seeds');
  const labels = runs[0].objectives.map((run) => run.label);
  const rowsOf = (label: string): SummaryRow[] =>
    runs.map((run) => {
      const row = run.summary.find((r) => r.objective === label);
      if (!row) throw new Error(`seed ${run.seed} has no run of ${label}`);
      return row;
    });
  const objectives = runs[0].objectives.map((objective): ObjectiveAggregate => {
    const rows = rowsOf(objective.label);
    const figure = (pick: (row: SummaryRow) => number) => meanInterval(rows.map(pick));
    return {
      objective: objective.label,
      id: objective.id,
      ...(objective.ablationOf ? { ablationOf: objective.ablationOf } : {}),
      figures: {
        accuracyAfterSft: figure((r) => r.accuracyAfterSft),
        ...(Object.fromEntries(SUMMARY_FIGURES.map(({ key }) => [key, figure((r) => r[key])])) as Record<SummaryFigure, IntervalEstimate>),
        millisecondsPerStep: figure((r) => r.millisecondsPerStep),
      },
    };
  });
  const baseline =
    runs[0].objectives.find((run) => run.label === 'simpo')?.label ?? runs[0].objectives.find((run) => run.id === 'simpo')?.label ?? null;
  const paired: PairedComparison[] = [];
  const compare = (objective: string, against: string) => {
    const rows = rowsOf(objective);
    const base = rowsOf(against);
    for (const { key } of SUMMARY_FIGURES) {
      paired.push({
        objective,
        baseline: against,
        figure: key,
        ...pairedDifference(
          rows.map((r) => r[key]),
          base.map((r) => r[key]),
        ),
      });
    }
  };
  if (baseline) for (const label of labels) if (label !== baseline) compare(label, baseline);
  for (const run of runs[0].objectives) {
    if (run.ablationOf && labels.includes(run.ablationOf) && run.ablationOf !== baseline) compare(run.label, run.ablationOf);
  }
  const sftFigure = (pick: (run: SeedRun) => number) => meanInterval(runs.map(pick));
  return {
    method: INTERVAL_METHOD,
    level: INTERVAL_LEVEL,
    seeds: runs.map((run) => run.seed),
    tQuantile: runs.length > 1 ? studentTQuantile(1 - (1 - INTERVAL_LEVEL) / 2, runs.length - 1) : null,
    sft: {
      accuracy: sftFigure((run) => run.sft.evaluation.accuracy),
      chosenLogp: sftFigure((run) => run.sft.evaluation.chosenLogp),
      rejectedLogp: sftFigure((run) => run.sft.evaluation.rejectedLogp),
      margin: sftFigure((run) => run.sft.evaluation.chosenLogp - run.sft.evaluation.rejectedLogp),
      meanGeneratedLength: sftFigure((run) => run.sft.evaluation.meanGeneratedLength),
    },
    objectives,
    baseline,
    paired,
  };
}
