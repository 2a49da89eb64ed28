import type { AlignReport } from './run-align';

const signed = (value: number, digits = 3) => `${value >= 0 ? '+' : ''}${value.toFixed(digits)}`;

/** The markdown summary: settings, SFT result, and one table row per objective. */
export function renderSummaryMarkdown(report: AlignReport): string {
  const { settings, environment, data, sft } = report;
  const lines = [
    '# pref align — summary',
    '',
    `Task: addition \`a+b=\` with a, b in [0, ${settings.maxOperand}]; chosen = the sum, rejected = a near miss (sum ±1 or ±10), e.g. \`${data.example.prompt}\` → \`${data.example.chosen}\` vs \`${data.example.rejected}\`.`,
    `Data: ${data.sft} SFT examples, ${data.preference} preference pairs (disjoint prompts), ${data.heldOut} held-out pairs.`,
    `Model: ${settings.model} transformer; SFT ${settings.sftSteps} steps (batch ${settings.sftBatchSize}, Adam ${settings.sftLearningRate}); ` +
      `preference ${settings.steps} steps per objective (batch ${settings.batchSize} pairs, Adam ${settings.learningRate}); seed ${settings.seed}.`,
    `Run: tfjs ${environment.tfjsBackend} ${environment.tfjsVersion}, Node ${environment.node}, ${environment.cores} cores (${environment.cpu}); ` +
      `SFT ${sft.seconds.toFixed(1)} s, total ${report.totalSeconds.toFixed(1)} s.`,
    '',
    'Held-out log-probs are summed over the answer tokens and `<eos>` (teacher forcing); accuracy is exact match of greedy decoding.',
    '',
    '| Objective | Held-out acc. after SFT | after alignment | Δ mean chosen log-prob | Δ mean rejected log-prob | Final margin | Mean generated length | Time per step (ms) |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...report.summary.map((row) =>
      `| ${row.objective.replace(/\|/g, '\\|')} | ${row.accuracyAfterSft.toFixed(3)} | ${row.accuracyAfterAlignment.toFixed(3)} | ${signed(row.chosenLogpChange)} | ${signed(row.rejectedLogpChange)} | ${row.finalMargin.toFixed(3)} | ${row.meanGeneratedLength.toFixed(2)} | ${row.millisecondsPerStep.toFixed(0)} |`,
    ),
    '',
    `SFT checkpoint: held-out mean chosen log-prob ${sft.evaluation.chosenLogp.toFixed(3)}, rejected ${sft.evaluation.rejectedLogp.toFixed(3)}, ` +
      `margin ${(sft.evaluation.chosenLogp - sft.evaluation.rejectedLogp).toFixed(3)}, mean generated length ${sft.evaluation.meanGeneratedLength.toFixed(2)}.`,
    '',
  ];
  return lines.join('\n');
}
