/**
 * Conservative text widths for laying out SVG text without a font engine. Each character counts
 * at least as wide as in the common sans-serif fonts (DejaVu Sans, the widest of them on Linux,
 * has digits at 0.64 em and `m` at 0.97 em; Arial and Helvetica are narrower), so text measured
 * here fits wherever it is drawn.
 */

/** Characters counted as 1 em: the widest Latin letters, symbols, and anything outside ASCII (Δ, −, …). */
const WIDE = /[mwMW@%&]|[^\x00-\x7f]/;

/** Bold text is counted 10% wider. */
export const BOLD_FACTOR = 1.1;

/** Estimated width in pixels of `text` at `fontSize` px: 1 em for wide characters, 0.85 em for other capitals, 0.7 em otherwise. */
export function estimateTextWidth(text: string, fontSize: number, bold = false): number {
  let ems = 0;
  for (const char of text) ems += WIDE.test(char) ? 1 : /[A-Z]/.test(char) ? 0.85 : 0.7;
  return ems * fontSize * (bold ? BOLD_FACTOR : 1);
}

/**
 * Splits `text` into lines no wider than `maxWidth` (by {@link estimateTextWidth}): at spaces,
 * and inside a word too long for a line after `:`, `,`, `=`, `-`, `/` or, failing those, anywhere.
 */
export function wrapText(text: string, maxWidth: number, fontSize: number, bold = false): string[] {
  const fits = (s: string) => estimateTextWidth(s, fontSize, bold) <= maxWidth;
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    const candidate = line ? `${line} ${word}` : word;
    if (fits(candidate)) {
      line = candidate;
      continue;
    }
    if (line) lines.push(line);
    line = '';
    for (const piece of splitWord(word, fits)) {
      if (line) lines.push(line);
      line = piece;
    }
  }
  if (line || lines.length === 0) lines.push(line);
  return lines;
}

/** Pieces of a word that each fit, broken after punctuation where possible. */
function splitWord(word: string, fits: (s: string) => boolean): string[] {
  if (fits(word)) return [word];
  const pieces: string[] = [];
  let rest = word;
  while (rest && !fits(rest)) {
    let cut = 0;
    for (let i = 1; i <= rest.length; i++) {
      if (!fits(rest.slice(0, i))) break;
      cut = i;
    }
    if (cut === 0) cut = 1; // a single character wider than the line: it goes alone
    const punctuation = Math.max(...[':', ',', '=', '-', '/'].map((p) => rest.lastIndexOf(p, cut - 1)));
    if (punctuation + 1 >= cut / 2 && punctuation + 1 < cut) cut = punctuation + 1;
    pieces.push(rest.slice(0, cut));
    rest = rest.slice(cut);
  }
  if (rest) pieces.push(rest);
  return pieces;
}
