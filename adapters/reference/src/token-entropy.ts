/**
 * The token-entropy primitives on the plain TypeScript path (`kernels: 'js'`), in float64:
 * one pass per row (running max, `Σ e^{z−m}`, `Σ e^{z−m}(z−m)`), the hidden-state path one row
 * of logits at a time (never `[N, V]`).
 */
type Values = ArrayLike<number>;
type Out = { [i: number]: number; readonly length: number };

/** `H = log s − Σ e^{z−m}(z−m)/s` and `lse = m + log s` of `z[base .. base+vocab)`. */
function rowEntropy(z: Values, base: number, vocab: number): { entropy: number; lse: number } {
  let max = -Infinity;
  for (let v = 0; v < vocab; v++) if (z[base + v] > max) max = z[base + v];
  if (vocab === 0) return { entropy: 0, lse: -Infinity };
  let sum = 0;
  let dot = 0;
  for (let v = 0; v < vocab; v++) {
    const d = z[base + v] - max;
    const e = Math.exp(d);
    sum += e;
    if (e !== 0) dot += e * d;
  }
  const logSum = Math.log(sum);
  return { entropy: logSum - dot / sum, lse: max + logSum };
}

/** `logits [rows, vocab]` → entropy and log-sum-exp `[rows]`. */
export function tokenEntropyRows(z: Values, rows: number, vocab: number, entropy: Out, lse: Out): void {
  for (let row = 0; row < rows; row++) {
    const r = rowEntropy(z, row * vocab, vocab);
    entropy[row] = r.entropy;
    lse[row] = r.lse;
  }
}

/** `grad[n, v] = −upstream[n]·p·(z − lse + H)`. */
export function tokenEntropyGradRows(
  z: Values,
  rows: number,
  vocab: number,
  lse: Values,
  entropy: Values,
  upstream: Values,
  grad: Out,
): void {
  for (let row = 0; row < rows; row++) {
    const up = upstream[row];
    const base = row * vocab;
    if (up === 0) {
      for (let v = 0; v < vocab; v++) grad[base + v] = 0;
      continue;
    }
    const l = lse[row];
    const h = entropy[row];
    for (let v = 0; v < vocab; v++) {
      const logp = z[base + v] - l;
      const p = Math.exp(logp);
      grad[base + v] = p === 0 ? 0 : -up * p * (logp + h);
    }
  }
}

export interface LinearRows {
  readonly rows: number;
  readonly vocab: number;
  readonly size: number;
  /** Writes the row's logits into `z` and, with a softcap, tanh(·) into `tanh`. */
  logitsOfRow(row: number, z: Float64Array, tanh: Float64Array | null): void;
}

/** The hidden-state forward, row by row. */
export function linearTokenEntropyRows(head: LinearRows, entropy: Out, lse: Out): void {
  const z = new Float64Array(head.vocab);
  for (let row = 0; row < head.rows; row++) {
    head.logitsOfRow(row, z, null);
    const r = rowEntropy(z, 0, head.vocab);
    entropy[row] = r.entropy;
    lse[row] = r.lse;
  }
}

/** The hidden-state gradient, row by row: the logits' gradient through the head (chain rule). */
export function linearTokenEntropyGradRows(
  head: LinearRows,
  hidden: Values,
  weight: Values,
  lse: Values,
  entropy: Values,
  upstream: Values,
  logitScale: number,
  softcap: number | null,
  gradHidden: Out,
  gradWeight: Out,
  gradBias: Out | null,
): void {
  const { rows, vocab, size } = head;
  const z = new Float64Array(vocab);
  const tanh = softcap === null ? null : new Float64Array(vocab);
  const dH = new Float64Array(size);
  for (let row = 0; row < rows; row++) {
    const up = upstream[row];
    if (up === 0) continue;
    head.logitsOfRow(row, z, tanh);
    const l = lse[row];
    const h = entropy[row];
    dH.fill(0);
    const hBase = row * size;
    for (let v = 0; v < vocab; v++) {
      const logp = z[v] - l;
      const p = Math.exp(logp);
      if (p === 0) continue;
      const dz = -up * p * (logp + h);
      const t = tanh ? tanh[v] : 0;
      const d = logitScale * dz * (tanh ? 1 - t * t : 1);
      if (d === 0) continue;
      if (gradBias) gradBias[v] += d;
      const wBase = v * size;
      for (let k = 0; k < size; k++) {
        dH[k] += d * weight[wBase + k];
        gradWeight[wBase + k] += d * hidden[hBase + k];
      }
    }
    for (let k = 0; k < size; k++) gradHidden[hBase + k] = dH[k];
  }
}
