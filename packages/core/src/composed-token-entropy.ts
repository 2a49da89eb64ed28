import type { BackendTensor, LinearEntropyOptions, LinearTokenLogProbsGrads, PrefBackend, TokenEntropyResult } from './pref-backend';

/**
 * The token-entropy primitives (specification version 3) written in a backend's own elementwise,
 * reduce and shape primitives, for adapters without a dedicated kernel (or as the oracle of one).
 * The logits path forms `[N, V]` temporaries; the hidden-state path goes chunk by chunk over V
 * (an online log-sum-exp and an online `Σ p·z`), its matrix products as a broadcast product and
 * a sum (`[N, chunk, H]` temporaries, the chunk sized to `budget` values). Temporaries are disposed.
 */
class Scope<T extends BackendTensor> {
  private readonly temps: T[] = [];
  constructor(readonly b: PrefBackend<T>) {}
  t(x: T): T {
    this.temps.push(x);
    return x;
  }
  keep(x: T): T {
    const i = this.temps.lastIndexOf(x);
    if (i >= 0) this.temps.splice(i, 1);
    return x;
  }
  close(): void {
    for (const x of this.temps) this.b.dispose(x);
    this.temps.length = 0;
  }
}

/** `tokenEntropy` in primitives: `H = log s − Σ e^{z−m}(z−m)/s`, `s = Σ e^{z−m}`. */
export function composedTokenEntropy<T extends BackendTensor>(backend: PrefBackend<T>, logits: T): TokenEntropyResult<T> {
  const s = new Scope(backend);
  try {
    const rows = logits.shape[0];
    const m = s.t(backend.reduce('max', logits, [1], true));
    const shifted = s.t(backend.binary('sub', logits, m));
    const e = s.t(backend.unary('exp', shifted));
    const sum = s.t(backend.reduce('sum', e, [1], true));
    const logSum = s.t(backend.unary('log', sum));
    const dot = s.t(backend.reduce('sum', s.t(backend.binary('mul', e, shifted)), [1], true));
    const entropy = s.t(backend.binary('sub', logSum, s.t(backend.binary('div', dot, sum))));
    const lse = s.t(backend.binary('add', m, logSum));
    return {
      entropy: backend.reshape(entropy, [rows]),
      logSumExp: backend.reshape(lse, [rows]),
    };
  } finally {
    s.close();
  }
}

/** `tokenEntropyGrad` in primitives: `−upstream·p·(z − lse + H)`. */
export function composedTokenEntropyGrad<T extends BackendTensor>(
  backend: PrefBackend<T>,
  logits: T,
  logSumExp: T,
  entropy: T,
  upstream: T,
): T {
  const s = new Scope(backend);
  try {
    const col = (x: T) => s.t(backend.reshape(x, [x.shape[0], 1]));
    const logp = s.t(backend.binary('sub', logits, col(logSumExp)));
    const p = s.t(backend.unary('exp', logp));
    const inner = s.t(backend.binary('add', logp, col(entropy)));
    const scaled = s.t(backend.binary('mul', p, s.t(backend.unary('neg', col(upstream)))));
    return backend.binary('mul', scaled, inner);
  } finally {
    s.close();
  }
}

/** Values per `[N, chunk, H]` product the composed hidden-state path aims for. */
const COMPOSED_BUDGET = 1 << 20;

function chunkOf(rows: number, vocab: number, size: number, options: LinearEntropyOptions): number {
  if (options.chunkSize !== undefined) return Math.max(1, Math.min(options.chunkSize, vocab));
  return Math.max(1, Math.min(vocab, Math.floor(COMPOSED_BUDGET / Math.max(1, rows * size))));
}

/** The chunk's logits `[N, c]` and, with a softcap, tanh(·) (for the chain rule). */
function chunkLogits<T extends BackendTensor>(
  s: Scope<T>,
  hidden: T,
  weight: T,
  bias: T | null,
  v0: number,
  c: number,
  options: LinearEntropyOptions,
): { z: T; tanh: T | null; w: T } {
  const b = s.b;
  const [rows, size] = hidden.shape;
  const w = s.t(b.slice(weight, [v0, 0], [c, size]));
  const prod = s.t(b.binary('mul', s.t(b.reshape(hidden, [rows, 1, size])), s.t(b.reshape(w, [1, c, size]))));
  let y = s.t(b.reduce('sum', prod, [2], false));
  if (bias) y = s.t(b.binary('add', y, s.t(b.reshape(s.t(b.slice(bias, [v0], [c])), [1, c]))));
  if (options.logitScale !== 1) y = s.t(b.binary('mul', y, s.t(b.fill([], options.logitScale))));
  if (options.softcap === null) return { z: y, tanh: null, w };
  // tanh(x) = 2σ(2x) − 1
  const cap = options.softcap;
  const sig = s.t(b.unary('sigmoid', s.t(b.binary('mul', y, s.t(b.fill([], 2 / cap))))));
  const tanh = s.t(b.binary('sub', s.t(b.binary('mul', sig, s.t(b.fill([], 2)))), s.t(b.fill([], 1))));
  return { z: s.t(b.binary('mul', tanh, s.t(b.fill([], cap)))), tanh, w };
}

/** `linearTokenEntropy` in primitives, chunked over V with an online log-sum-exp and `Σ p·z`. */
export function composedLinearTokenEntropy<T extends BackendTensor>(
  backend: PrefBackend<T>,
  hidden: T,
  weight: T,
  bias: T | null,
  options: LinearEntropyOptions,
): TokenEntropyResult<T> {
  const s = new Scope(backend);
  const b = backend;
  try {
    const [rows, size] = hidden.shape;
    const vocab = weight.shape[0];
    const chunk = chunkOf(rows, vocab, size, options);
    // Running max m, Σ e^{z−m} (sum) and Σ e^{z−m}(z−m) (dot), each [N, 1].
    let m: T | null = null;
    let sum: T | null = null;
    let dot: T | null = null;
    for (let v0 = 0; v0 < vocab; v0 += chunk) {
      const c = Math.min(chunk, vocab - v0);
      const { z } = chunkLogits(s, hidden, weight, bias, v0, c, options);
      const mc = s.t(b.reduce('max', z, [1], true));
      const m2: T = m ? s.t(b.binary('maximum', m, mc)) : mc;
      const shifted = s.t(b.binary('sub', z, m2));
      const e = s.t(b.unary('exp', shifted));
      const sc = s.t(b.reduce('sum', e, [1], true));
      const dc = s.t(b.reduce('sum', s.t(b.binary('mul', e, shifted)), [1], true));
      if (m && sum && dot) {
        const delta = s.t(b.binary('sub', m, m2)); // ≤ 0
        const a = s.t(b.unary('exp', delta));
        const carried = s.t(b.binary('add', dot, s.t(b.binary('mul', delta, sum))));
        dot = s.t(b.binary('add', s.t(b.binary('mul', a, carried)), dc));
        sum = s.t(b.binary('add', s.t(b.binary('mul', a, sum)), sc));
      } else {
        dot = dc;
        sum = sc;
      }
      m = m2;
    }
    if (!m || !sum || !dot) {
      const zero = b.fill([rows], 0);
      return { entropy: zero, logSumExp: b.fill([rows], -Infinity) };
    }
    const logSum = s.t(b.unary('log', sum));
    const entropy = s.t(b.binary('sub', logSum, s.t(b.binary('div', dot, sum))));
    const lse = s.t(b.binary('add', m, logSum));
    return { entropy: b.reshape(entropy, [rows]), logSumExp: b.reshape(lse, [rows]) };
  } finally {
    s.close();
  }
}

/** `linearTokenEntropyGrad` in primitives, chunked like the forward. */
export function composedLinearTokenEntropyGrad<T extends BackendTensor>(
  backend: PrefBackend<T>,
  hidden: T,
  weight: T,
  bias: T | null,
  logSumExp: T,
  entropy: T,
  upstream: T,
  options: LinearEntropyOptions,
): LinearTokenLogProbsGrads<T> {
  const s = new Scope(backend);
  const b = backend;
  try {
    const [rows, size] = hidden.shape;
    const vocab = weight.shape[0];
    const chunk = chunkOf(rows, vocab, size, options);
    const col = (x: T) => s.t(b.reshape(x, [rows, 1]));
    const lse = col(logSumExp);
    const ent = col(entropy);
    const negUp = s.t(b.unary('neg', col(upstream)));
    let dHidden: T | null = null;
    const dWeights: T[] = [];
    const dBiases: T[] = [];
    for (let v0 = 0; v0 < vocab; v0 += chunk) {
      const c = Math.min(chunk, vocab - v0);
      const { z, tanh, w } = chunkLogits(s, hidden, weight, bias, v0, c, options);
      const logp = s.t(b.binary('sub', z, lse));
      const p = s.t(b.unary('exp', logp));
      let d = s.t(b.binary('mul', s.t(b.binary('mul', p, negUp)), s.t(b.binary('add', logp, ent))));
      if (tanh) d = s.t(b.binary('mul', d, s.t(b.binary('sub', s.t(b.fill([], 1)), s.t(b.unary('square', tanh))))));
      if (options.logitScale !== 1) d = s.t(b.binary('mul', d, s.t(b.fill([], options.logitScale))));
      const d3 = s.t(b.reshape(d, [rows, c, 1]));
      const dh = s.t(b.reduce('sum', s.t(b.binary('mul', d3, s.t(b.reshape(w, [1, c, size])))), [1], false));
      dHidden = dHidden ? s.t(b.binary('add', dHidden, dh)) : dh;
      dWeights.push(s.t(b.reduce('sum', s.t(b.binary('mul', d3, s.t(b.reshape(hidden, [rows, 1, size])))), [0], false)));
      if (bias) dBiases.push(s.t(b.reduce('sum', d, [0], false)));
    }
    const gradHidden = dHidden ? s.keep(dHidden) : b.fill([rows, size], 0);
    const gradWeight = dWeights.length === 0 ? b.fill([0, size], 0) : dWeights.length === 1 ? s.keep(dWeights[0]) : b.concat(dWeights, 0);
    const gradBias = !bias
      ? null
      : dBiases.length === 0
        ? b.fill([0], 0)
        : dBiases.length === 1
          ? s.keep(dBiases[0])
          : b.concat(dBiases, 0);
    return { hidden: gradHidden, weight: gradWeight, bias: gradBias };
  } finally {
    s.close();
  }
}
