import type { Tfjs } from './tfjs-module';
import type { CausalLm } from './causal-lm';
import { BOS, EOS, PAD, decodeTokens, encodeText } from './arithmetic-vocabulary';

/** What greedy decoding produced for each prompt. */
export interface Generation {
  readonly text: string;
  /** Tokens generated before `<eos>` (all of them when it never came). */
  readonly length: number;
  /** Whether `<eos>` was generated within the budget. */
  readonly finished: boolean;
}

/**
 * Greedy (argmax) decoding of every prompt at once, at most `maxNewTokens` tokens each. Rows
 * are right-padded; the causal mask keeps padding from influencing earlier positions.
 */
export async function greedyDecode(tf: Tfjs, model: CausalLm, prompts: readonly string[], maxNewTokens: number): Promise<Generation[]> {
  const encoded = prompts.map((prompt) => [BOS, ...encodeText(prompt)]);
  const steps = Math.max(...encoded.map((p) => p.length)) + maxNewTokens - 1;
  if (steps > model.shape.contextLength) {
    throw new RangeError(`decoding needs ${steps} steps; the model reads at most ${model.shape.contextLength}`);
  }
  const buffer = new Int32Array(prompts.length * steps).fill(PAD);
  encoded.forEach((tokens, row) => buffer.set(tokens, row * steps));
  const cursor = encoded.map((tokens) => tokens.length);
  const generated: number[][] = prompts.map(() => []);
  const done = prompts.map(() => false);
  for (let step = 0; step < maxNewTokens && done.some((d) => !d); step++) {
    const argmax = tf.tidy(() => tf.argMax(model.logits(buffer, prompts.length, steps), -1));
    const best = (await argmax.data()) as Int32Array;
    argmax.dispose();
    for (let row = 0; row < prompts.length; row++) {
      if (done[row]) continue;
      const token = best[row * steps + cursor[row] - 1];
      if (token === EOS) {
        done[row] = true;
        continue;
      }
      generated[row].push(token);
      if (cursor[row] < steps) buffer[row * steps + cursor[row]] = token;
      cursor[row]++;
    }
  }
  return generated.map((tokens, row) => ({ text: decodeTokens(tokens), length: tokens.length, finished: done[row] }));
}
