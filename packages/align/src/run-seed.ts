import { resolveObjectiveParams, type AnyObjective, type ParamValues, type PrefBackend } from '@pref/core';
import type { Tfjs } from './tfjs-module';
import { createCausalLm } from './causal-lm';
import { generateArithmeticTask, longestAnswer, taskSteps } from './arithmetic-task';
import { VOCABULARY_SIZE } from './arithmetic-vocabulary';
import { runSftStage } from './sft-stage';
import { runPreferenceStage } from './preference-stage';
import { pairLogProbs } from './completion-log-probs';
import { evaluateHeldOut } from './held-out-evaluation';
import type { ObjectiveNeeds, ObjectiveSelection } from './objective-selection';
import { createProgressBar, type ProgressStream } from './progress-bar';
import { MODEL_SIZES, type AlignSettings, type EvaluationPoint, type ObjectiveRun, type SeedRun, type SummaryRow } from './report-types';

/** An objective to run, resolved against the installed objectives. */
export interface PlannedObjective {
  readonly selection: ObjectiveSelection;
  readonly objective: AnyObjective;
  readonly needs: ObjectiveNeeds;
}

/**
 * The protocol for one seed: the task, the initial weights and both batch orders come from
 * `seed` (task and weights: `seed`; SFT batches: `seed + 1`; preference batches: `seed + 2`,
 * the same for every objective). SFT, then each objective from the SFT checkpoint, with
 * held-out evaluations at the start and at `settings.evaluations` evenly spaced steps.
 */
export async function runSeed(
  tf: Tfjs,
  backend: PrefBackend,
  plan: readonly PlannedObjective[],
  settings: AlignSettings,
  seed: number,
  progress: ProgressStream | null,
  /** Prefix of progress labels, e.g. `seed 2/5 `. */
  labelPrefix = '',
): Promise<SeedRun> {
  const started = performance.now();
  const seconds = (since: number) => (performance.now() - since) / 1000;
  const task = generateArithmeticTask({ seed, maxOperand: settings.maxOperand, heldOutSize: settings.heldOutSize });
  const steps = taskSteps(settings.maxOperand);
  const maxNewTokens = longestAnswer(settings.maxOperand) + 1;
  const model = createCausalLm(tf, { vocabularySize: VOCABULARY_SIZE, contextLength: steps, ...MODEL_SIZES[settings.model] }, seed);
  const log = (text: string) => progress?.write(`${text}\n`);
  try {
    log(
      `pref align${labelPrefix ? ` ${labelPrefix.trim()}` : ''}: seed ${seed}, ${task.sft.length} SFT examples, ${task.preference.length} preference pairs, ${task.heldOut.length} held-out pairs; tfjs ${tf.getBackend()}`,
    );
    const sftStarted = performance.now();
    const sftBar = progress ? createProgressBar(progress, `${labelPrefix}sft`, settings.sftSteps) : null;
    const losses = await runSftStage(tf, model, task.sft, {
      steps: settings.sftSteps,
      batchSize: settings.sftBatchSize,
      learningRate: settings.sftLearningRate,
      sequenceSteps: steps,
      seed: seed + 1,
      onStep: (step, loss) => sftBar?.update(step, { loss }),
    });
    const sftSeconds = seconds(sftStarted);
    const sftEvaluationStarted = performance.now();
    const sftEvaluation = await evaluateHeldOut(tf, model, task.heldOut, steps, maxNewTokens);
    const sftEvaluationSeconds = seconds(sftEvaluationStarted);
    sftBar?.finish(`held-out accuracy ${sftEvaluation.accuracy.toFixed(3)}`);
    const checkpoint = await model.snapshot();

    const referenceStarted = performance.now();
    const referenceSums = plan.some((p) => p.needs.referenceSums) ? await pairLogProbs(tf, model, task.preference, steps) : undefined;
    const referenceSeconds = referenceSums ? seconds(referenceStarted) : 0;

    const evaluationSteps = new Set(
      Array.from({ length: settings.evaluations }, (_, i) => Math.round(((i + 1) * settings.steps) / settings.evaluations)),
    );
    const runs: ObjectiveRun[] = [];
    const objectiveTimings: { label: string; training: number; evaluation: number }[] = [];
    for (const { selection, objective, needs } of plan) {
      model.restore(checkpoint);
      const evaluations: EvaluationPoint[] = [{ step: 0, ...sftEvaluation }];
      const bar = progress ? createProgressBar(progress, `${labelPrefix}${selection.label}`, settings.steps) : null;
      const objectiveStarted = performance.now();
      let evaluationSeconds = 0;
      const stepLogs = await runPreferenceStage(tf, model, objective, selection.params, task.preference, {
        backend,
        steps: settings.steps,
        batchSize: settings.batchSize,
        learningRate: settings.learningRate,
        sequenceSteps: steps,
        seed: seed + 2,
        referenceSums: needs.referenceSums ? referenceSums : undefined,
        lossInput: settings.lossInput,
        onStep: async (entry) => {
          if (evaluationSteps.has(entry.step)) {
            const evaluationStarted = performance.now();
            evaluations.push({ step: entry.step, ...(await evaluateHeldOut(tf, model, task.heldOut, steps, maxNewTokens)) });
            evaluationSeconds += seconds(evaluationStarted);
          }
          bar?.update(entry.step, {
            loss: entry.loss,
            margin: entry.margin,
            acc: entry.accuracy,
            'held-out': evaluations.at(-1)!.accuracy,
          });
        },
      });
      const final = evaluations.at(-1)!;
      bar?.finish(`held-out accuracy ${sftEvaluation.accuracy.toFixed(3)} → ${final.accuracy.toFixed(3)}`);
      objectiveTimings.push({
        label: selection.label,
        training: seconds(objectiveStarted) - evaluationSeconds,
        evaluation: evaluationSeconds,
      });
      runs.push({
        label: selection.label,
        id: objective.id,
        title: objective.title,
        ...(selection.ablationOf ? { ablationOf: selection.ablationOf } : {}),
        params: resolveObjectiveParams(objective, selection.params) as ParamValues,
        steps: stepLogs,
        evaluations,
        millisecondsPerStep: stepLogs.reduce((s, e) => s + e.milliseconds, 0) / stepLogs.length,
      });
    }

    const summary = runs.map((run): SummaryRow => {
      const final = run.evaluations.at(-1)!;
      return {
        objective: run.label,
        accuracyAfterSft: sftEvaluation.accuracy,
        accuracyAfterAlignment: final.accuracy,
        accuracyChange: final.accuracy - sftEvaluation.accuracy,
        chosenLogpChange: final.chosenLogp - sftEvaluation.chosenLogp,
        rejectedLogpChange: final.rejectedLogp - sftEvaluation.rejectedLogp,
        finalMargin: final.chosenLogp - final.rejectedLogp,
        meanGeneratedLength: final.meanGeneratedLength,
        millisecondsPerStep: run.millisecondsPerStep,
      };
    });
    return {
      seed,
      data: { sft: task.sft.length, preference: task.preference.length, heldOut: task.heldOut.length, example: task.preference[0] },
      sft: { losses, seconds: sftSeconds, evaluation: sftEvaluation },
      objectives: runs,
      summary,
      timings: {
        sft: sftSeconds,
        sftEvaluation: sftEvaluationSeconds,
        referenceLogProbs: referenceSeconds,
        objectives: objectiveTimings,
        total: seconds(started),
      },
    };
  } finally {
    model.dispose();
  }
}
