import { availableParallelism, cpus } from 'node:os';
import { PrefParamError, resolveObjectiveParams, type ParamValues } from '@pref/core';
import { createTfjsBackend } from '@pref/adapter-tfjs';
import { loadTfjs } from './tfjs-module';
import { createCausalLm, type CausalLmShape } from './causal-lm';
import { generateArithmeticTask, longestAnswer, taskSteps } from './arithmetic-task';
import { VOCABULARY_SIZE } from './arithmetic-vocabulary';
import { runSftStage } from './sft-stage';
import { runPreferenceStage, type PreferenceStepLog } from './preference-stage';
import { completionLogProbs } from './completion-log-probs';
import { evaluateHeldOut, type HeldOutEvaluation } from './held-out-evaluation';
import { checkObjectiveSupported, DEFAULT_OBJECTIVES, parseObjectiveList, type ObjectiveSelection } from './objective-selection';
import { loadObjectiveRegistry } from './objective-registry';
import { createProgressBar, type ProgressStream } from './progress-bar';
import { writeAlignReport } from './write-align-report';

/** Model sizes: `small` is the default run's; `tiny` is for tests and smoke runs. */
export const MODEL_SIZES = {
  small: { width: 48, layers: 2, heads: 2, mlpWidth: 96 },
  tiny: { width: 16, layers: 1, heads: 1, mlpWidth: 32 },
} as const satisfies Record<string, Pick<CausalLmShape, 'width' | 'layers' | 'heads' | 'mlpWidth'>>;
export type ModelSize = keyof typeof MODEL_SIZES;

export interface AlignOptions {
  /** `--objectives` text (e.g. `slime:preset=paper,dpo:beta=0.1`) or parsed selections. Default `slime,simpo,dpo,lmpo`. */
  readonly objectives?: string | readonly ObjectiveSelection[];
  /** Preference-optimisation steps per objective. Default 100. */
  readonly steps?: number;
  /** Supervised fine-tuning steps. Default 300. */
  readonly sftSteps?: number;
  /** Seed of the data, the initial weights and the batch order. Default 1. */
  readonly seed?: number;
  /** tfjs backend: `cpu` (default), `wasm`, `webgpu`, `tensorflow`. */
  readonly backend?: string;
  /** Report folder; `null` writes nothing. Default `report/align`. */
  readonly out?: string | null;
  readonly model?: ModelSize;
  /** Pairs per preference step (each step reads 2× rows). Default 32. */
  readonly batchSize?: number;
  /** Examples per SFT step. Default 64. */
  readonly sftBatchSize?: number;
  /** Adam learning rate of stage 2. Default 5e-4. */
  readonly learningRate?: number;
  /** Adam learning rate of stage 1. Default 3e-3. */
  readonly sftLearningRate?: number;
  /** Held-out evaluations per objective (evenly spaced, plus the start). Default 5. */
  readonly evaluations?: number;
  /** Operands of the task are in [0, maxOperand]. Default 49. */
  readonly maxOperand?: number;
  /** Held-out prompts. Default 256. */
  readonly heldOutSize?: number;
  /** Progress output (stderr by default); `null` prints nothing. */
  readonly progress?: ProgressStream | null;
}

/** The settings a run used, every default filled in. */
export type AlignSettings = Required<Omit<AlignOptions, 'objectives' | 'progress' | 'out'>> & {
  readonly objectives: readonly ObjectiveSelection[];
  readonly out: string | null;
};

/** A held-out evaluation at a given preference step (0 = the SFT checkpoint). */
export type EvaluationPoint = HeldOutEvaluation & { readonly step: number };

export interface ObjectiveRun {
  readonly label: string;
  readonly id: string;
  readonly title: string;
  /** Every parameter as used (defaults, preset and explicit values merged). */
  readonly params: ParamValues;
  readonly steps: readonly PreferenceStepLog[];
  readonly evaluations: readonly EvaluationPoint[];
  /** Mean wall time of a training step (evaluation excluded), milliseconds. */
  readonly millisecondsPerStep: number;
}

/** One row of the summary table. */
export interface SummaryRow {
  readonly objective: string;
  readonly accuracyAfterSft: number;
  readonly accuracyAfterAlignment: number;
  /** Change of the held-out mean summed log-prob of the correct answer, alignment − SFT. */
  readonly chosenLogpChange: number;
  readonly rejectedLogpChange: number;
  /** Held-out mean (chosen − rejected) summed log-prob after alignment. */
  readonly finalMargin: number;
  readonly meanGeneratedLength: number;
  readonly millisecondsPerStep: number;
}

export interface AlignReport {
  readonly settings: AlignSettings;
  readonly environment: {
    readonly tfjsBackend: string;
    readonly tfjsVersion: string;
    readonly node: string;
    readonly platform: string;
    readonly cpu: string;
    readonly cores: number;
  };
  readonly data: { readonly sft: number; readonly preference: number; readonly heldOut: number; readonly example: { prompt: string; chosen: string; rejected: string } };
  readonly sft: { readonly losses: readonly number[]; readonly seconds: number; readonly evaluation: HeldOutEvaluation };
  readonly objectives: readonly ObjectiveRun[];
  readonly summary: readonly SummaryRow[];
  readonly totalSeconds: number;
  /** Files written, relative to `settings.out`. */
  readonly files: readonly string[];
}

/**
 * `pref align`: trains a small causal LM on the generated addition task with SFT (stage 1),
 * then, from that checkpoint, each selected objective on disjoint preference pairs (stage 2),
 * evaluating held-out exact-match accuracy and the log-probs of correct and near-miss answers.
 * Writes JSON, CSV, SVG and markdown reports to `out`.
 */
export async function runAlign(options: AlignOptions = {}): Promise<AlignReport> {
  const started = performance.now();
  const settings: AlignSettings = {
    objectives: typeof options.objectives === 'string' || options.objectives === undefined
      ? parseObjectiveList(options.objectives ?? DEFAULT_OBJECTIVES)
      : options.objectives,
    steps: options.steps ?? 100,
    sftSteps: options.sftSteps ?? 300,
    seed: options.seed ?? 1,
    backend: options.backend ?? 'cpu',
    out: options.out === undefined ? 'report/align' : options.out,
    model: options.model ?? 'small',
    batchSize: options.batchSize ?? 32,
    sftBatchSize: options.sftBatchSize ?? 64,
    learningRate: options.learningRate ?? 5e-4,
    sftLearningRate: options.sftLearningRate ?? 3e-3,
    evaluations: options.evaluations ?? 5,
    maxOperand: options.maxOperand ?? 49,
    heldOutSize: options.heldOutSize ?? 256,
  };
  checkPositiveInteger('steps', settings.steps);
  checkPositiveInteger('sftSteps', settings.sftSteps);
  checkPositiveInteger('batchSize', settings.batchSize);
  checkPositiveInteger('sftBatchSize', settings.sftBatchSize);
  checkPositiveInteger('evaluations', settings.evaluations);
  if (!(settings.learningRate > 0)) throw new PrefParamError('learningRate', `learningRate must be positive, got ${settings.learningRate}`);
  if (!(settings.sftLearningRate > 0)) throw new PrefParamError('sftLearningRate', `sftLearningRate must be positive, got ${settings.sftLearningRate}`);
  if (!Number.isInteger(settings.seed)) throw new PrefParamError('seed', `seed must be an integer, got ${settings.seed}`);
  if (!(settings.model in MODEL_SIZES)) throw new PrefParamError('model', `model must be one of ${Object.keys(MODEL_SIZES).join(', ')}, got ${settings.model}`);
  const progress = options.progress === undefined ? process.stderr : options.progress;

  const registry = await loadObjectiveRegistry();
  const plan = settings.objectives.map((selection) => {
    const objective = registry[selection.id];
    if (!objective) throw new PrefParamError('objectives', `unknown objective ${selection.id}; installed: ${Object.keys(registry).sort().join(', ')}`);
    return { selection, objective, needs: checkObjectiveSupported(objective, selection.params) };
  });

  const tf = await loadTfjs(settings.backend);
  const backend = createTfjsBackend({ tf });
  const task = generateArithmeticTask({ seed: settings.seed, maxOperand: settings.maxOperand, heldOutSize: settings.heldOutSize });
  const steps = taskSteps(settings.maxOperand);
  const maxNewTokens = longestAnswer(settings.maxOperand) + 1;
  const model = createCausalLm(tf, { vocabularySize: VOCABULARY_SIZE, contextLength: steps, ...MODEL_SIZES[settings.model] }, settings.seed);
  const log = (text: string) => progress?.write(`${text}\n`);
  try {
    log(`pref align: ${task.sft.length} SFT examples, ${task.preference.length} preference pairs, ${task.heldOut.length} held-out pairs; tfjs ${settings.backend}`);
    const sftStarted = performance.now();
    const sftBar = progress ? createProgressBar(progress, 'sft', settings.sftSteps) : null;
    const losses = await runSftStage(tf, model, task.sft, {
      steps: settings.sftSteps,
      batchSize: settings.sftBatchSize,
      learningRate: settings.sftLearningRate,
      sequenceSteps: steps,
      seed: settings.seed + 1,
      onStep: (step, loss) => sftBar?.update(step, { loss }),
    });
    const sftSeconds = (performance.now() - sftStarted) / 1000;
    const sftEvaluation = await evaluateHeldOut(tf, model, task.heldOut, steps, maxNewTokens);
    sftBar?.finish(`held-out accuracy ${sftEvaluation.accuracy.toFixed(3)}`);
    const checkpoint = await model.snapshot();

    const referenceSums = plan.some((p) => p.needs.referenceSums)
      ? {
          chosen: await completionLogProbs(tf, model, task.preference.map((p) => ({ prompt: p.prompt, completion: p.chosen })), steps),
          rejected: await completionLogProbs(tf, model, task.preference.map((p) => ({ prompt: p.prompt, completion: p.rejected })), steps),
        }
      : undefined;

    const runs: ObjectiveRun[] = [];
    for (const { selection, objective, needs } of plan) {
      model.restore(checkpoint);
      const evaluationSteps = new Set(Array.from({ length: settings.evaluations }, (_, i) => Math.round(((i + 1) * settings.steps) / settings.evaluations)));
      const evaluations: EvaluationPoint[] = [{ step: 0, ...sftEvaluation }];
      const bar = progress ? createProgressBar(progress, selection.label, settings.steps) : null;
      const stepLogs = await runPreferenceStage(tf, model, objective, selection.params, task.preference, {
        backend,
        steps: settings.steps,
        batchSize: settings.batchSize,
        learningRate: settings.learningRate,
        sequenceSteps: steps,
        seed: settings.seed + 2,
        referenceSums: needs.referenceSums ? referenceSums : undefined,
        onStep: async (entry) => {
          if (evaluationSteps.has(entry.step)) evaluations.push({ step: entry.step, ...(await evaluateHeldOut(tf, model, task.heldOut, steps, maxNewTokens)) });
          bar?.update(entry.step, { loss: entry.loss, margin: entry.margin, acc: entry.accuracy, 'held-out': evaluations.at(-1)!.accuracy });
        },
      });
      const final = evaluations.at(-1)!;
      bar?.finish(`held-out accuracy ${sftEvaluation.accuracy.toFixed(3)} → ${final.accuracy.toFixed(3)}`);
      runs.push({
        label: selection.label,
        id: objective.id,
        title: objective.title,
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
        chosenLogpChange: final.chosenLogp - sftEvaluation.chosenLogp,
        rejectedLogpChange: final.rejectedLogp - sftEvaluation.rejectedLogp,
        finalMargin: final.chosenLogp - final.rejectedLogp,
        meanGeneratedLength: final.meanGeneratedLength,
        millisecondsPerStep: run.millisecondsPerStep,
      };
    });
    const report: Omit<AlignReport, 'files' | 'totalSeconds'> = {
      settings,
      environment: {
        tfjsBackend: tf.getBackend(),
        tfjsVersion: tf.version_core,
        node: process.version,
        platform: `${process.platform} ${process.arch}`,
        cpu: cpus()[0]?.model ?? 'unknown',
        cores: availableParallelism(),
      },
      data: { sft: task.sft.length, preference: task.preference.length, heldOut: task.heldOut.length, example: task.preference[0] },
      sft: { losses, seconds: sftSeconds, evaluation: sftEvaluation },
      objectives: runs,
      summary,
    };
    const totalSeconds = (performance.now() - started) / 1000;
    const files = settings.out ? await writeAlignReport({ ...report, totalSeconds, files: [] }, settings.out) : [];
    return { ...report, totalSeconds, files };
  } finally {
    model.dispose();
  }
}

function checkPositiveInteger(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) throw new PrefParamError(name, `${name} must be a positive integer, got ${value}`);
}
