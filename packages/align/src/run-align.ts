import { availableParallelism, cpus } from 'node:os';
import { PrefParamError } from '@pref/core';
import { createTfjsBackend } from '@pref/adapter-tfjs';
import { loadTfjs } from './tfjs-module';
import { checkObjectiveSupported, DEFAULT_OBJECTIVES, parseObjectiveList, type ObjectiveSelection } from './objective-selection';
import { loadObjectiveRegistry } from './objective-registry';
import { parseAblationList, withAblations, type AblationName } from './ablations';
import { checkSeeds, parseSeedList } from './seed-list';
import { DEFAULT_LOSS_INPUT, LOSS_INPUTS, type LossInputKind } from './loss-input';
import type { ProgressStream } from './progress-bar';
import { runSeed } from './run-seed';
import { aggregateSeeds } from './aggregate-seeds';
import { writeAlignReport } from './write-align-report';
import { MODEL_SIZES, type AlignReport, type AlignSettings, type ModelSize, type SeedRun } from './report-types';

export {
  MODEL_SIZES,
  type ModelSize,
  type AlignSettings,
  type AlignReport,
  type SeedRun,
  type ObjectiveRun,
  type SummaryRow,
  type EvaluationPoint,
  type SeedTimings,
  type DataSizes,
  type AlignEnvironment,
} from './report-types';

/** The tfjs backend `pref align` trains on unless told otherwise: `wasm` (about 10× faster than `cpu` here, see docs/align.md). */
export const DEFAULT_TFJS_BACKEND = 'wasm';

export interface AlignOptions {
  /** `--objectives` text (e.g. `slime:preset=paper,dpo:beta=0.1`) or parsed selections. Default `slime,simpo,dpo,lmpo`. */
  readonly objectives?: string | readonly ObjectiveSelection[];
  /** `--ablations`: ablation sets (`slime`, `lmpo`, `all`) whose presets are added as runs. */
  readonly ablations?: string | readonly AblationName[];
  /** Preference-optimisation steps per objective. Default 100. */
  readonly steps?: number;
  /** Supervised fine-tuning steps. Default 300. */
  readonly sftSteps?: number;
  /** One seed of the data, the initial weights and the batch order. Default 1. Not with `seeds`. */
  readonly seed?: number;
  /** Several seeds, each running the whole protocol: a list, or `--seeds` text (`5` = 1..5, `1,2,3`). */
  readonly seeds?: string | readonly number[];
  /** tfjs backend: `wasm` (default), `cpu`, `webgpu`, `tensorflow`. */
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
  /** What the preference losses read from the model: `hidden` (default: hidden states and LM head) or `logits`. */
  readonly lossInput?: LossInputKind;
  /** Progress output (stderr by default); `null` prints nothing. */
  readonly progress?: ProgressStream | null;
}

/** Fills in the defaults of `options` and checks them; throws a `PrefParamError` naming the bad option. */
export function resolveAlignSettings(options: AlignOptions = {}): AlignSettings {
  if (options.seed !== undefined && options.seeds !== undefined) {
    throw new PrefParamError('seeds', 'give --seed or --seeds, not both');
  }
  const seeds =
    options.seeds === undefined
      ? checkSeeds([options.seed ?? 1])
      : typeof options.seeds === 'string'
        ? parseSeedList(options.seeds)
        : checkSeeds(options.seeds);
  const ablations =
    options.ablations === undefined ? [] : typeof options.ablations === 'string' ? parseAblationList(options.ablations) : options.ablations;
  const selected =
    typeof options.objectives === 'string' || options.objectives === undefined
      ? parseObjectiveList(options.objectives ?? DEFAULT_OBJECTIVES)
      : options.objectives;
  const settings: AlignSettings = {
    objectives: withAblations(selected, ablations),
    ablations: [...ablations],
    steps: options.steps ?? 100,
    sftSteps: options.sftSteps ?? 300,
    seed: seeds[0],
    seeds,
    backend: options.backend ?? DEFAULT_TFJS_BACKEND,
    out: options.out === undefined ? 'report/align' : options.out,
    model: options.model ?? 'small',
    batchSize: options.batchSize ?? 32,
    sftBatchSize: options.sftBatchSize ?? 64,
    learningRate: options.learningRate ?? 5e-4,
    sftLearningRate: options.sftLearningRate ?? 3e-3,
    evaluations: options.evaluations ?? 5,
    maxOperand: options.maxOperand ?? 49,
    heldOutSize: options.heldOutSize ?? 256,
    lossInput: options.lossInput ?? DEFAULT_LOSS_INPUT,
  };
  checkPositiveInteger('steps', settings.steps);
  checkPositiveInteger('sftSteps', settings.sftSteps);
  checkPositiveInteger('batchSize', settings.batchSize);
  checkPositiveInteger('sftBatchSize', settings.sftBatchSize);
  checkPositiveInteger('evaluations', settings.evaluations);
  if (!(settings.learningRate > 0)) throw new PrefParamError('learningRate', `learningRate must be positive, got ${settings.learningRate}`);
  if (!(settings.sftLearningRate > 0))
    throw new PrefParamError('sftLearningRate', `sftLearningRate must be positive, got ${settings.sftLearningRate}`);
  if (!(settings.model in MODEL_SIZES))
    throw new PrefParamError('model', `model must be one of ${Object.keys(MODEL_SIZES).join(', ')}, got ${settings.model}`);
  if (!(settings.lossInput in LOSS_INPUTS))
    throw new PrefParamError('lossInput', `lossInput must be one of ${Object.keys(LOSS_INPUTS).join(', ')}, got ${settings.lossInput}`);
  return settings;
}

/**
 * `pref align`: for each seed, trains a small causal LM on the generated addition task with
 * SFT (stage 1), then, from that checkpoint, each selected objective on disjoint preference
 * pairs (stage 2), evaluating held-out exact-match accuracy and the log-probs of correct and
 * near-miss answers. With several seeds, adds means with 95% Student t intervals over seeds
 * and paired comparisons with SimPO. Writes JSON, CSV, SVG and markdown reports to `out`.
 */
export async function runAlign(options: AlignOptions = {}): Promise<AlignReport> {
  const started = performance.now();
  const settings = resolveAlignSettings(options);
  const progress = options.progress === undefined ? process.stderr : options.progress;

  const registry = await loadObjectiveRegistry();
  const plan = settings.objectives.map((selection) => {
    const objective = registry[selection.id];
    if (!objective)
      throw new PrefParamError('objectives', `unknown objective ${selection.id}; installed: ${Object.keys(registry).sort().join(', ')}`);
    return { selection, objective, needs: checkObjectiveSupported(objective, selection.params) };
  });

  const tf = await loadTfjs(settings.backend);
  const backend = createTfjsBackend({ tf });
  const runs: SeedRun[] = [];
  for (const [i, seed] of settings.seeds.entries()) {
    const prefix = settings.seeds.length > 1 ? `seed ${seed} (${i + 1}/${settings.seeds.length}) ` : '';
    runs.push(await runSeed(tf, backend, plan, settings, seed, progress, prefix));
  }
  const first = runs[0];
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
    data: first.data,
    sft: first.sft,
    objectives: first.objectives,
    summary: first.summary,
    seeds: runs,
    aggregate: runs.length > 1 ? aggregateSeeds(runs) : null,
  };
  const totalSeconds = (performance.now() - started) / 1000;
  const files = settings.out ? await writeAlignReport({ ...report, totalSeconds, files: [] }, settings.out) : [];
  return { ...report, totalSeconds, files };
}

function checkPositiveInteger(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) throw new PrefParamError(name, `${name} must be a positive integer, got ${value}`);
}
