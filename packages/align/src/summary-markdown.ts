import type { AlignReport, SeedRun } from './report-types';
import { SUMMARY_FIGURES, type SeedAggregate } from './aggregate-seeds';
import type { IntervalEstimate } from './seed-statistics';

const signed = (value: number, digits = 3) => `${value >= 0 ? '+' : ''}${value.toFixed(digits)}`;
const cell = (text: string) => text.replace(/\|/g, '\\|');

/** The markdown summary: settings, SFT result, one table row per objective; with several seeds, means with intervals, paired comparisons and per-seed tables. */
export function renderSummaryMarkdown(report: AlignReport): string {
  const { settings, environment, data } = report;
  const multi = report.seeds.length > 1;
  const range = (pick: (run: SeedRun) => number) => {
    const values = report.seeds.map(pick);
    const lo = Math.min(...values);
    const hi = Math.max(...values);
    return lo === hi ? String(lo) : `${lo}–${hi}`;
  };
  const seedText = multi ? `seeds ${settings.seeds.join(', ')}` : `seed ${settings.seed}`;
  const lines = [
    '# pref align — summary',
    '',
    `Task: addition \`a+b=\` with a, b in [0, ${settings.maxOperand}]; chosen = the sum, rejected = a near miss (sum ±1 or ±10), e.g. \`${data.example.prompt}\` → \`${data.example.chosen}\` vs \`${data.example.rejected}\`.`,
    `Data${multi ? ' (per seed)' : ''}: ${range((r) => r.data.sft)} SFT examples, ${range((r) => r.data.preference)} preference pairs (disjoint prompts), ${range((r) => r.data.heldOut)} held-out pairs.`,
    `Model: ${settings.model} transformer; SFT ${settings.sftSteps} steps (batch ${settings.sftBatchSize}, Adam ${settings.sftLearningRate}); ` +
      `preference ${settings.steps} steps per objective (batch ${settings.batchSize} pairs, Adam ${settings.learningRate}, losses on the model's ${settings.lossInput === 'logits' ? 'logits' : 'last hidden states and LM head'}); ${seedText}.`,
    `Run: tfjs ${environment.tfjsBackend} ${environment.tfjsVersion}, Node ${environment.node}, ${environment.cores} cores (${environment.cpu}); ` +
      `SFT ${multi ? `${mean(report.seeds.map((r) => r.sft.seconds)).toFixed(1)} s per seed` : `${report.sft.seconds.toFixed(1)} s`}, total ${report.totalSeconds.toFixed(1)} s.`,
    `Time${multi ? ' (summed over seeds)' : ''}: ${timeLine(report.seeds)}.`,
    '',
    'Held-out log-probs are summed over the answer tokens and `<eos>` (teacher forcing); accuracy is exact match of greedy decoding.',
    '',
  ];
  if (!multi) {
    lines.push(
      '| Objective | Held-out acc. after SFT | after alignment | Δ mean chosen log-prob | Δ mean rejected log-prob | Final margin | Mean generated length | Time per step (ms) |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
      ...report.summary.map(
        (row) =>
          `| ${cell(row.objective)} | ${row.accuracyAfterSft.toFixed(3)} | ${row.accuracyAfterAlignment.toFixed(3)} | ${signed(row.chosenLogpChange)} | ${signed(row.rejectedLogpChange)} | ${row.finalMargin.toFixed(3)} | ${row.meanGeneratedLength.toFixed(2)} | ${row.millisecondsPerStep.toFixed(0)} |`,
      ),
      '',
      `SFT checkpoint: held-out mean chosen log-prob ${report.sft.evaluation.chosenLogp.toFixed(3)}, rejected ${report.sft.evaluation.rejectedLogp.toFixed(3)}, ` +
        `margin ${(report.sft.evaluation.chosenLogp - report.sft.evaluation.rejectedLogp).toFixed(3)}, mean generated length ${report.sft.evaluation.meanGeneratedLength.toFixed(2)}.`,
      '',
    );
    return lines.join('\n');
  }
  lines.push(...aggregateSections(report, report.aggregate!));
  return lines.join('\n');
}

function aggregateSections(report: AlignReport, aggregate: SeedAggregate): string[] {
  const n = aggregate.seeds.length;
  const interval = (e: IntervalEstimate, digits: number, isSigned: boolean) => {
    const f = (v: number) => (isSigned ? signed(v, digits) : v.toFixed(digits));
    return e.low === null || e.high === null ? f(e.mean) : `${f(e.mean)} [${f(e.low)}, ${f(e.high)}]`;
  };
  const out = [
    `## Across ${n} seeds: mean [95% interval]`,
    '',
    `Intervals: two-sided 95% Student t over the ${n} seeds, mean ± t(0.975, ${n - 1}) · s/√${n} with t = ${aggregate.tQuantile!.toFixed(3)} ` +
      '(s: sample standard deviation over seeds). Each seed runs the whole protocol: its own data split, initial weights and batch order.',
    '',
    `| Objective | ${SUMMARY_FIGURES.map((f) => f.title).join(' | ')} | Time per step (ms) |`,
    `| --- | ${SUMMARY_FIGURES.map(() => '---:').join(' | ')} | ---: |`,
    ...aggregate.objectives.map(
      (row) =>
        `| ${cell(row.objective)} | ${SUMMARY_FIGURES.map((f) => interval(row.figures[f.key], f.digits, f.signed)).join(' | ')} | ${row.figures.millisecondsPerStep.mean.toFixed(0)} |`,
    ),
    '',
    `SFT checkpoint over seeds: held-out accuracy ${interval(aggregate.sft.accuracy, 3, false)}, mean chosen log-prob ${interval(aggregate.sft.chosenLogp, 3, false)}, ` +
      `rejected ${interval(aggregate.sft.rejectedLogp, 3, false)}, margin ${interval(aggregate.sft.margin, 3, false)}, mean generated length ${interval(aggregate.sft.meanGeneratedLength, 2, false)}.`,
    '',
  ];
  out.push(
    '## Direction of the held-out log-prob changes',
    '',
    'Whether each objective raised or lowered the held-out log-prob of the correct (chosen) and the near-miss (rejected) answer ' +
      'from the SFT checkpoint: "lowers" or "raises" when the whole 95% interval over seeds is below or above 0, "unclear" when it spans 0 ' +
      "(the SLIME and LMPO papers' claim: margin-only objectives lower the chosen likelihood, SLIME and LMPO do not).",
    '',
    '| Objective | Chosen answer | Rejected answer |',
    '| --- | --- | --- |',
    ...aggregate.objectives.map(
      (row) => `| ${cell(row.objective)} | ${direction(row.figures.chosenLogpChange)} | ${direction(row.figures.rejectedLogpChange)} |`,
    ),
    '',
  );
  const pairedTable = (rows: SeedAggregate['paired']) => [
    '| Objective | Figure | Mean paired difference | 95% interval | Sign | Seeds agreeing |',
    '| --- | --- | ---: | ---: | :---: | ---: |',
    ...rows.map((p) => {
      const figure = SUMMARY_FIGURES.find((f) => f.key === p.figure)!;
      const e = p.difference;
      const range = e.low === null || e.high === null ? '—' : `[${signed(e.low, figure.digits)}, ${signed(e.high, figure.digits)}]`;
      return `| ${cell(p.objective)} | ${figure.title} | ${signed(e.mean, figure.digits)} | ${range} | ${p.sign > 0 ? '+' : p.sign < 0 ? '−' : '0'} | ${p.seedsAgreeing}/${e.n} |`;
    }),
    '',
  ];
  const vsBaseline = aggregate.paired.filter((p) => p.baseline === aggregate.baseline);
  if (aggregate.baseline) {
    out.push(
      `## Paired with ${aggregate.baseline}`,
      '',
      `Per seed, objective − ${aggregate.baseline} on the same seed; the mean of those differences with its 95% Student t interval, ` +
        'its sign, and how many seeds have a difference of that sign.',
      '',
      ...pairedTable(vsBaseline),
    );
  } else {
    out.push('No SimPO run was selected: no paired comparison with SimPO.', '');
  }
  const vsFull = aggregate.paired.filter((p) => p.baseline !== aggregate.baseline);
  if (vsFull.length) {
    out.push(
      '## Ablations paired with the full objective',
      '',
      'Per seed, ablation − the full objective (default parameters) on the same seed.',
      '',
      ...pairedTable(vsFull),
    );
  }
  out.push(
    '## Per seed: held-out accuracy after alignment',
    '',
    `| Objective | ${report.seeds.map((r) => `seed ${r.seed}`).join(' | ')} |`,
    `| --- | ${report.seeds.map(() => '---:').join(' | ')} |`,
    `| (SFT checkpoint) | ${report.seeds.map((r) => r.sft.evaluation.accuracy.toFixed(3)).join(' | ')} |`,
    ...report.objectives.map(
      (run) =>
        `| ${cell(run.label)} | ${report.seeds.map((r) => r.summary.find((row) => row.objective === run.label)!.accuracyAfterAlignment.toFixed(3)).join(' | ')} |`,
    ),
    '',
  );
  return out;
}

function timeLine(runs: readonly SeedRun[]): string {
  const sum = (pick: (run: SeedRun) => number) => runs.reduce((s, run) => s + pick(run), 0);
  const training = sum((r) => r.timings.objectives.reduce((s, o) => s + o.training, 0));
  const evaluation = sum((r) => r.timings.sftEvaluation + r.timings.objectives.reduce((s, o) => s + o.evaluation, 0));
  return (
    `SFT steps ${sum((r) => r.timings.sft).toFixed(1)} s, preference steps ${training.toFixed(1)} s, ` +
    `held-out evaluations ${evaluation.toFixed(1)} s, reference log-probs ${sum((r) => r.timings.referenceLogProbs).toFixed(1)} s`
  );
}

function mean(values: readonly number[]): number {
  return values.reduce((s, v) => s + v, 0) / values.length;
}

/** `lowers`/`raises` when the 95% interval lies below/above 0, else `unclear`; with the interval. */
export function direction(e: IntervalEstimate): string {
  if (e.low === null || e.high === null) return `unclear (one seed: ${signed(e.mean)})`;
  const range = `${signed(e.mean)} [${signed(e.low)}, ${signed(e.high)}]`;
  if (e.high < 0) return `lowers ${range}`;
  if (e.low > 0) return `raises ${range}`;
  return `unclear ${range}`;
}
