import { BOS, EOS, PAD, encodeText } from './arithmetic-vocabulary';

/** Model inputs and next-token labels of prompt+completion rows, right-padded to `steps`. */
export interface SequenceBatch {
  /** Int32 tokens `[rows, steps]`: `<bos> prompt completion` (the last token is not read), then `<pad>`. */
  readonly tokens: Int32Array;
  /** Next-token labels `[rows][steps]`: completion tokens and `<eos>`, `-100` on the prompt and padding. */
  readonly labels: number[][];
  readonly rows: number;
  readonly steps: number;
}

/** Tokens a prompt+completion row occupies as model input: `<bos>`, prompt, completion (the `<eos>` is only a label). */
export function sequenceSteps(prompt: string, completion: string): number {
  return 1 + prompt.length + completion.length;
}

/** Builds the model inputs and labels so that label `t` is the token after input `t`. */
export function buildSequenceBatch(rows: readonly { prompt: string; completion: string }[], steps: number): SequenceBatch {
  const tokens = new Int32Array(rows.length * steps).fill(PAD);
  const labels = rows
    .map(({ prompt, completion }) => {
      const sequence = [BOS, ...encodeText(prompt), ...encodeText(completion), EOS];
      if (sequence.length - 1 > steps) {
        throw new RangeError(`"${prompt}${completion}" needs ${sequence.length - 1} steps; the batch has ${steps}`);
      }
      return sequence;
    })
    .map((sequence, row) => {
      const promptTokens = 1 + rows[row].prompt.length;
      const rowLabels = new Array<number>(steps).fill(-100);
      for (let t = 0; t < sequence.length - 1; t++) {
        tokens[row * steps + t] = sequence[t];
        if (t + 1 >= promptTokens) rowLabels[t] = sequence[t + 1];
      }
      return rowLabels;
    });
  return { tokens, labels, rows: rows.length, steps };
}
