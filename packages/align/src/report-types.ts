import type { ParamValues } from '@pref/core';
import type { ObjectiveSelection } from './objective-selection';
import type { AblationName } from './ablations';
import type { PreferenceStepLog } from './preference-stage';
import type { HeldOutEvaluation } from './held-out-evaluation';
import type { LossInputKind } from './loss-input';
import type { SeedAggregate } from './aggregate-seeds';

/** Model sizes: `small` is the default run's; `tiny` is for tests and smoke runs. */
export const MODEL_SIZES = {
  small: { width: 48, layers: 2, heads: 2, mlpWidth: 96 },
  tiny: { width: 16, layers: 1, heads: 1, mlpWidth: 32 },
} as const;
export type ModelSize = keyof typeof MODEL_SIZES;

/** The settings a run used, every default filled in. */
export interface AlignSettings {
  /** Every objective run: `--objectives`, then the runs `--ablations` added. */
  readonly objectives: readonly ObjectiveSelection[];
  /** Ablation sets added (`--ablations`). */
  readonly ablations: readonly AblationName[];
  readonly steps: number;
  readonly sftSteps: number;
  /** The first seed (the only one, by default). */
  readonly seed: number;
  /** Every seed run, in order. */
  readonly seeds: readonly number[];
  readonly backend: string;
  readonly out: string | null;
  readonly model: ModelSize;
  readonly batchSize: number;
  readonly sftBatchSize: number;
  readonly learningRate: number;
  readonly sftLearningRate: number;
  readonly evaluations: number;
  readonly maxOperand: number;
  readonly heldOutSize: number;
  /** What the preference losses read from the model. */
  readonly lossInput: LossInputKind;
}

/** A held-out evaluation at a given preference step (0 = the SFT checkpoint). */
export type EvaluationPoint = HeldOutEvaluation & { readonly step: number };

export interface ObjectiveRun {
  readonly label: string;
  readonly id: string;
  readonly title: string;
  /** For a run added by `--ablations`, the objective it ablates. */
  readonly ablationOf?: string;
  /** Every parameter as used (defaults, preset and explicit values merged). */
  readonly params: ParamValues;
  readonly steps: readonly PreferenceStepLog[];
  readonly evaluations: readonly EvaluationPoint[];
  /** Mean wall time of a training step (evaluation excluded), milliseconds. */
  readonly millisecondsPerStep: number;
}

/** One row of the summary table (one objective, one seed). */
export interface SummaryRow {
  readonly objective: string;
  readonly accuracyAfterSft: number;
  readonly accuracyAfterAlignment: number;
  /** `accuracyAfterAlignment − accuracyAfterSft`. */
  readonly accuracyChange: number;
  /** Change of the held-out mean summed log-prob of the correct answer, alignment − SFT. */
  readonly chosenLogpChange: number;
  readonly rejectedLogpChange: number;
  /** Held-out mean (chosen − rejected) summed log-prob after alignment. */
  readonly finalMargin: number;
  readonly meanGeneratedLength: number;
  readonly millisecondsPerStep: number;
}

/** Where a seed's time went, in seconds of wall time. */
export interface SeedTimings {
  /** SFT training steps. */
  readonly sft: number;
  /** Held-out evaluation of the SFT checkpoint (greedy decoding and teacher-forced log-probs). */
  readonly sftEvaluation: number;
  /** Summed log-probs of the preference pairs under the SFT model (0 when no objective reads them). */
  readonly referenceLogProbs: number;
  /** Per objective: its preference steps, and its held-out evaluations. */
  readonly objectives: readonly { readonly label: string; readonly training: number; readonly evaluation: number }[];
  /** The whole seed, model setup included. */
  readonly total: number;
}

export interface DataSizes {
  readonly sft: number;
  readonly preference: number;
  readonly heldOut: number;
  readonly example: { readonly prompt: string; readonly chosen: string; readonly rejected: string };
}

/** Everything one seed produced: the same protocol, its data, initial weights and batch order from `seed`. */
export interface SeedRun {
  readonly seed: number;
  readonly data: DataSizes;
  readonly sft: { readonly losses: readonly number[]; readonly seconds: number; readonly evaluation: HeldOutEvaluation };
  readonly objectives: readonly ObjectiveRun[];
  readonly summary: readonly SummaryRow[];
  readonly timings: SeedTimings;
}

export interface AlignEnvironment {
  readonly tfjsBackend: string;
  readonly tfjsVersion: string;
  readonly node: string;
  readonly platform: string;
  readonly cpu: string;
  readonly cores: number;
}

export interface AlignReport {
  readonly settings: AlignSettings;
  readonly environment: AlignEnvironment;
  /** The first seed's data sizes (`seeds` has every seed's). */
  readonly data: DataSizes;
  /** The first seed's SFT stage. */
  readonly sft: SeedRun['sft'];
  /** The first seed's objective runs (the only seed's, by default). */
  readonly objectives: readonly ObjectiveRun[];
  /** The first seed's summary rows. */
  readonly summary: readonly SummaryRow[];
  /** Every seed's results, in the order of `settings.seeds` (the first is the one above). */
  readonly seeds: readonly SeedRun[];
  /** Means, 95% intervals and paired comparisons over seeds; null with one seed. */
  readonly aggregate: SeedAggregate | null;
  readonly totalSeconds: number;
  /** Files written, relative to `settings.out`. */
  readonly files: readonly string[];
}
