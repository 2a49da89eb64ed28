/** Token ids of the arithmetic task: `<pad>`, `<bos>`, `<eos>`, the digits, `+` and `=`. */
export const PAD = 0;
export const BOS = 1;
export const EOS = 2;
const SYMBOLS = ['<pad>', '<bos>', '<eos>', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '+', '='] as const;
export const VOCABULARY_SIZE = SYMBOLS.length;

/** Token ids of a text made of digits, `+` and `=`. */
export function encodeText(text: string): number[] {
  return [...text].map((char) => {
    const id = SYMBOLS.indexOf(char as (typeof SYMBOLS)[number]);
    if (id < 3) throw new Error(`arithmetic vocabulary: cannot encode ${JSON.stringify(char)} in ${JSON.stringify(text)}`);
    return id;
  });
}

/** The text of token ids, stopping at `<eos>`; other special tokens appear as `<pad>`, `<bos>`. */
export function decodeTokens(tokens: readonly number[]): string {
  let text = '';
  for (const id of tokens) {
    if (id === EOS) break;
    text += SYMBOLS[id] ?? '<?>';
  }
  return text;
}
