import { seededRandom } from './seeded-random';

/** One prompt with its correct answer, e.g. `12+7=` → `19`. */
export interface ArithmeticExample {
  readonly prompt: string;
  readonly answer: string;
}

/** A prompt with the correct answer (chosen) and a near miss (rejected), e.g. `19` vs `18`. */
export interface PreferencePair {
  readonly prompt: string;
  readonly chosen: string;
  readonly rejected: string;
}

/** The three disjoint parts of the task. */
export interface ArithmeticTask {
  /** Stage 1 (supervised fine-tuning) data. */
  readonly sft: readonly ArithmeticExample[];
  /** Stage 2 (preference optimisation) data: prompts disjoint from `sft` and `heldOut`. */
  readonly preference: readonly PreferencePair[];
  /** Evaluation pairs whose prompts neither stage sees. */
  readonly heldOut: readonly PreferencePair[];
}

export interface ArithmeticTaskOptions {
  /** Operands are integers in [0, maxOperand]. Default 49. */
  readonly maxOperand?: number;
  /** Number of held-out prompts (rounded to whole operand pairs). Default 256. */
  readonly heldOutSize?: number;
  /** Fraction of the rest used for SFT; the remainder is preference data. Default 0.34 (SLIME's protocol). */
  readonly sftFraction?: number;
  readonly seed: number;
}

/**
 * Generates the addition task deterministically from `seed`. Prompts are split by unordered
 * operand pair, so `3+4=` and `4+3=` always land in the same part: no part sees another's
 * sums. The rejected answer of a pair is a near miss sharing most tokens with the correct
 * one: the sum ±1 or ±10 (never negative).
 */
export function generateArithmeticTask(options: ArithmeticTaskOptions): ArithmeticTask {
  const maxOperand = options.maxOperand ?? 49;
  const heldOutSize = options.heldOutSize ?? 256;
  const sftFraction = options.sftFraction ?? 0.34;
  if (!Number.isInteger(maxOperand) || maxOperand < 2 || maxOperand > 999) {
    throw new RangeError(`maxOperand must be an integer in [2, 999], got ${maxOperand}`);
  }
  if (!(sftFraction > 0 && sftFraction < 1)) throw new RangeError(`sftFraction must be in (0, 1), got ${sftFraction}`);
  const random = seededRandom(options.seed);
  const groups: [number, number][] = [];
  for (let a = 0; a <= maxOperand; a++) for (let b = a; b <= maxOperand; b++) groups.push([a, b]);
  const shuffled = random.shuffle(groups);
  const examplesOf = ([a, b]: [number, number]): ArithmeticExample[] =>
    (a === b
      ? [[a, b]]
      : [
          [a, b],
          [b, a],
        ]
    ).map(([x, y]) => ({ prompt: `${x}+${y}=`, answer: String(x + y) }));

  const heldOutExamples: ArithmeticExample[] = [];
  let index = 0;
  while (heldOutExamples.length < heldOutSize && index < shuffled.length) heldOutExamples.push(...examplesOf(shuffled[index++]));
  const rest = shuffled.slice(index);
  if (rest.length < 2) throw new RangeError(`heldOutSize ${heldOutSize} leaves no training data for maxOperand ${maxOperand}`);
  const sftGroups = Math.max(1, Math.min(rest.length - 1, Math.round(rest.length * sftFraction)));
  const sft = random.shuffle(rest.slice(0, sftGroups).flatMap(examplesOf));
  const toPair = (example: ArithmeticExample): PreferencePair => ({
    prompt: example.prompt,
    chosen: example.answer,
    rejected: nearMiss(Number(example.answer), random.integer(0, 3)),
  });
  const preference = random.shuffle(rest.slice(sftGroups).flatMap(examplesOf)).map(toPair);
  const heldOut = heldOutExamples.map(toPair);
  return { sft, preference, heldOut };
}

/** Longest answer or near miss (in characters) of the task with operands up to `maxOperand`. */
export function longestAnswer(maxOperand: number): number {
  return String(2 * maxOperand + 10).length;
}

/** Model input steps every row of the task fits in: `<bos>`, `a+b=`, the answer (its `<eos>` is a label). */
export function taskSteps(maxOperand: number): number {
  return 1 + 2 * String(maxOperand).length + 2 + longestAnswer(maxOperand);
}

function nearMiss(sum: number, pick: number): string {
  const offsets = [1, -1, 10, -10].filter((offset) => sum + offset >= 0);
  return String(sum + offsets[pick % offsets.length]);
}
