import type { Tfjs } from './tfjs-module';
import type { CausalLm } from './causal-lm';
import type { PreferencePair } from './arithmetic-task';
import { pairLogProbs } from './completion-log-probs';
import { greedyDecode } from './greedy-decode';

/** How the model does on the held-out pairs. */
export interface HeldOutEvaluation {
  /** Fraction of prompts whose greedy answer equals the correct one exactly. */
  readonly accuracy: number;
  /** Mean number of tokens generated before `<eos>`. */
  readonly meanGeneratedLength: number;
  /** Mean summed log-prob of the correct answer (with `<eos>`). */
  readonly chosenLogp: number;
  /** Mean summed log-prob of the near miss (with `<eos>`). */
  readonly rejectedLogp: number;
  /** Fraction of pairs where the correct answer has the higher log-prob. */
  readonly preferenceAccuracy: number;
}

/** Greedy exact-match accuracy plus teacher-forced log-probs of both answers (one forward for both, chosen rows then rejected). */
export async function evaluateHeldOut(
  tf: Tfjs,
  model: CausalLm,
  pairs: readonly PreferencePair[],
  steps: number,
  maxNewTokens: number,
): Promise<HeldOutEvaluation> {
  const generations = await greedyDecode(
    tf,
    model,
    pairs.map((p) => p.prompt),
    maxNewTokens,
  );
  const { chosen, rejected } = await pairLogProbs(tf, model, pairs, steps);
  const mean = (values: ArrayLike<number>) => Array.from(values).reduce((s, v) => s + v, 0) / values.length;
  return {
    accuracy: mean(generations.map((g, i) => Number(g.finished && g.text === pairs[i].chosen))),
    meanGeneratedLength: mean(generations.map((g) => g.length)),
    chosenLogp: mean(chosen),
    rejectedLogp: mean(rejected),
    preferenceAccuracy: mean(Array.from(chosen, (c, i) => Number(c > rejected[i]))),
  };
}
