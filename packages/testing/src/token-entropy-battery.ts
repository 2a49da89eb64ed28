import { describe, expect, it } from 'vitest';
import { backward, PrefShapeError, TensorOps, type PrefBackend, type Tensor } from '@pref/core';
import type { BackendUnderTest } from './describe-conformance';
import { worstMismatch } from './finite-differences';

/** Deterministic values in [0, 1) (a fixed LCG). */
function seeded(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Float64 entropy, log-sum-exp and `dΣ w·H / dz` of `z [rows, vocab]` (the oracle). */
export function hostTokenEntropy(z: ArrayLike<number>, rows: number, vocab: number, weights: ArrayLike<number>) {
  const entropy = new Float64Array(rows);
  const grad = new Float64Array(rows * vocab);
  for (let r = 0; r < rows; r++) {
    let max = -Infinity;
    for (let v = 0; v < vocab; v++) max = Math.max(max, z[r * vocab + v]);
    let sum = 0;
    for (let v = 0; v < vocab; v++) sum += Math.exp(z[r * vocab + v] - max);
    const lse = max + Math.log(sum);
    let h = 0;
    for (let v = 0; v < vocab; v++) {
      const logp = z[r * vocab + v] - lse;
      h -= Math.exp(logp) * logp;
    }
    entropy[r] = h;
    for (let v = 0; v < vocab; v++) {
      const logp = z[r * vocab + v] - lse;
      grad[r * vocab + v] = -weights[r] * Math.exp(logp) * (logp + h);
    }
  }
  return { entropy, grad };
}

/** Logits cases: vocabularies that are not multiples of 4 or 8, one of size 1, large logits. */
export const TOKEN_ENTROPY_CASES = [
  { name: '[3, 5]', shape: [3, 5], scale: 1 },
  { name: '[4, 7] scale 3', shape: [4, 7], scale: 3 },
  { name: '[2, 13] scale 8', shape: [2, 13], scale: 8 },
  { name: '[6, 37]', shape: [6, 37], scale: 2 },
  { name: '[3, 1]', shape: [3, 1], scale: 1 },
  { name: '[2, 131] scale 0.5', shape: [2, 131], scale: 0.5 },
  { name: '[2, 3, 11] (3-D)', shape: [2, 3, 11], scale: 2 },
] as const;

/** Heads for the hidden-state path: V not a multiple of 4/8, chunks that do not divide V, softcap, scale. */
export const LINEAR_ENTROPY_CASES = [
  { name: 'bias, chunk 7 of V 37', rows: 4, size: 5, vocab: 37, bias: true, chunkSize: 7 },
  { name: 'no bias, softcap 3, logitScale 0.7, backend chunk', rows: 3, size: 6, vocab: 29, bias: false, logitScale: 0.7, softcap: 3 },
  { name: 'bias, softcap 2, chunk 1', rows: 2, size: 3, vocab: 11, bias: true, softcap: 2, chunkSize: 1 },
  { name: 'no bias, V 3, backend chunk', rows: 5, size: 4, vocab: 3, bias: false },
] as const;

type LinearCase = (typeof LINEAR_ENTROPY_CASES)[number] & { logitScale?: number; softcap?: number; chunkSize?: number };

function hostLinear(c: LinearCase, hidden: Float64Array, weight: Float64Array, bias: Float64Array | null, weights: Float64Array) {
  const { rows, size, vocab } = c;
  const s = c.logitScale ?? 1;
  const z = new Float64Array(rows * vocab);
  const tanh = new Float64Array(rows * vocab);
  for (let r = 0; r < rows; r++) {
    for (let v = 0; v < vocab; v++) {
      let dot = bias ? bias[v] : 0;
      for (let k = 0; k < size; k++) dot += hidden[r * size + k] * weight[v * size + k];
      const y = s * dot;
      if (c.softcap) {
        tanh[r * vocab + v] = Math.tanh(y / c.softcap);
        z[r * vocab + v] = c.softcap * tanh[r * vocab + v];
      } else z[r * vocab + v] = y;
    }
  }
  const { entropy, grad } = hostTokenEntropy(z, rows, vocab, weights);
  const dHidden = new Float64Array(rows * size);
  const dWeight = new Float64Array(vocab * size);
  const dBias = new Float64Array(vocab);
  for (let r = 0; r < rows; r++) {
    for (let v = 0; v < vocab; v++) {
      const t = tanh[r * vocab + v];
      const d = s * grad[r * vocab + v] * (c.softcap ? 1 - t * t : 1);
      dBias[v] += d;
      for (let k = 0; k < size; k++) {
        dHidden[r * size + k] += d * weight[v * size + k];
        dWeight[v * size + k] += d * hidden[r * size + k];
      }
    }
  }
  return { entropy, dHidden, dWeight, dBias };
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: { rtol: number; atol: number }, what: string) {
  expect(actual.length, what).toBe(expected.length);
  const worst = worstMismatch(actual, expected, tol.rtol, tol.atol);
  expect(worst, `${what}: worst |a − b| / (atol + rtol·|b|)`).toBeLessThanOrEqual(1);
}

/** `Σ_n w_n·H_n` with the entropy from `ops.tokenEntropy`, its value, entropy and gradient read. */
async function entropyAndGrad(backend: PrefBackend, z: Float64Array, shape: readonly number[], weights: Float64Array, composed: boolean) {
  const ops = new TensorOps(backend);
  try {
    const logits = ops.wrap(backend.fromHost(z, shape), 'logits');
    const h = composed ? composedFormula(ops, logits) : ops.tokenEntropy(logits);
    const loss = ops.sum(ops.mul(h, ops.constant(weights, shape.slice(0, -1))));
    const [grad] = backward(ops, loss, [logits]);
    const [entropy, g] = await backend.read([h.value, grad!.value]);
    return { entropy: Float64Array.from(entropy), grad: Float64Array.from(g) };
  } finally {
    ops.disposeAll();
  }
}

/** GRPO's earlier `[N, T, V]` formula, in `TensorOps` (the composed reference). */
function composedFormula(ops: TensorOps, logits: Tensor): Tensor {
  const axis = logits.shape.length - 1;
  const shifted = ops.sub(logits, ops.stopGradient(ops.max(logits, axis, true)));
  const logProbs = ops.sub(shifted, ops.log(ops.sum(ops.exp(shifted), axis, true)));
  return ops.neg(ops.sum(ops.mul(ops.exp(logProbs), logProbs), axis));
}

/**
 * The token-entropy primitives on one backend: `ops.tokenEntropy` and `ops.linearTokenEntropy`
 * (values and gradients) against the float64 oracle and the composed formula, finite
 * differences of the backend's own forward on small shapes, and the shape errors.
 */
export function describeTokenEntropyBattery(options: {
  readonly backend: BackendUnderTest;
  /** Against the float64 oracle (float64: ~1e-9; float32: ~2e-4). */
  readonly tolerance: { readonly rtol: number; readonly atol: number };
}): void {
  describe(`token entropy primitives on ${options.backend.name}`, async () => {
    const created = await options.backend.create().catch((error: Error) => ({ unavailable: error.message }));
    if ('unavailable' in created) {
      it.skip(`skipped: ${options.backend.name} unavailable: ${created.unavailable}`, () => {});
      return;
    }
    const backend = created;
    const tol = options.tolerance;
    const f64 = backend.capabilities.precision === 64;

    for (const c of TOKEN_ENTROPY_CASES) {
      it(`tokenEntropy ${c.name}: value and gradient equal the float64 oracle and the composed formula`, async () => {
        const next = seeded(c.shape.reduce<number>((a, b) => a * 31 + b, 7));
        const size = c.shape.reduce<number>((a, b) => a * b, 1);
        const vocab = c.shape[c.shape.length - 1];
        const rows = size / vocab;
        const z = Float64Array.from({ length: size }, () => (next() * 2 - 1) * c.scale);
        const w = Float64Array.from({ length: rows }, () => next() * 2 - 1);
        const oracle = hostTokenEntropy(z, rows, vocab, w);
        const fused = await entropyAndGrad(backend, z, c.shape, w, false);
        expectClose(fused.entropy, oracle.entropy, tol, 'entropy');
        expectClose(fused.grad, oracle.grad, tol, 'gradient');
        const composed = await entropyAndGrad(backend, z, c.shape, w, true);
        expectClose(fused.entropy, composed.entropy, tol, 'entropy vs composed');
        expectClose(fused.grad, composed.grad, tol, 'gradient vs composed');
      });
    }

    it('tokenEntropy: the gradient equals central finite differences of the forward ([2, 5])', async () => {
      const next = seeded(11);
      const shape = [2, 5];
      const z = Float64Array.from({ length: 10 }, () => next() * 4 - 2);
      const w = Float64Array.from([0.7, -1.3]);
      const { grad } = await entropyAndGrad(backend, z, shape, w, false);
      const step = f64 ? 1e-6 : 1e-2;
      const fd = new Float64Array(z.length);
      const lossAt = async (values: Float64Array) => {
        const { entropy } = await entropyAndGrad(backend, values, shape, w, false);
        return entropy[0] * w[0] + entropy[1] * w[1];
      };
      for (let i = 0; i < z.length; i++) {
        const plus = z.slice();
        const minus = z.slice();
        plus[i] += step;
        minus[i] -= step;
        fd[i] = ((await lossAt(plus)) - (await lossAt(minus))) / (2 * step);
      }
      expectClose(grad, fd, f64 ? { rtol: 1e-6, atol: 1e-8 } : { rtol: 2e-2, atol: 2e-3 }, 'finite differences');
    });

    for (const c of LINEAR_ENTROPY_CASES as readonly LinearCase[]) {
      it(`linearTokenEntropy ${c.name}: value and gradients equal the float64 oracle`, async () => {
        const next = seeded(c.rows * 1000 + c.vocab);
        const hidden = Float64Array.from({ length: c.rows * c.size }, () => next() * 2 - 1);
        const weight = Float64Array.from({ length: c.vocab * c.size }, () => (next() * 2 - 1) * 1.5);
        const bias = c.bias ? Float64Array.from({ length: c.vocab }, () => next() - 0.5) : null;
        const w = Float64Array.from({ length: c.rows }, () => next() * 2 - 1);
        const oracle = hostLinear(c, hidden, weight, bias, w);
        const ops = new TensorOps(backend);
        try {
          const h = ops.wrap(backend.fromHost(hidden, [c.rows, c.size]), 'hidden');
          const wt = ops.wrap(backend.fromHost(weight, [c.vocab, c.size]), 'weight');
          const b = bias ? ops.wrap(backend.fromHost(bias, [c.vocab]), 'bias') : null;
          const ent = ops.linearTokenEntropy(h, wt, b, {
            ...(c.logitScale !== undefined ? { logitScale: c.logitScale } : {}),
            ...(c.softcap !== undefined ? { softcap: c.softcap } : {}),
            ...(c.chunkSize !== undefined ? { chunkSize: c.chunkSize } : {}),
          });
          const loss = ops.sum(ops.mul(ent, ops.constant(w, [c.rows])));
          const grads = backward(ops, loss, b ? [h, wt, b] : [h, wt]);
          const values = await backend.read([ent.value, ...grads.map((g) => g!.value)]);
          expectClose(values[0], oracle.entropy, tol, 'entropy');
          expectClose(values[1], oracle.dHidden, tol, 'hidden gradient');
          expectClose(values[2], oracle.dWeight, tol, 'weight gradient');
          if (b) expectClose(values[3], oracle.dBias, tol, 'bias gradient');
        } finally {
          ops.disposeAll();
        }
      });
    }

    it('shape errors name the op', () => {
      const ops = new TensorOps(backend);
      try {
        const scalar = ops.wrap(backend.fill([], 1));
        expect(() => ops.tokenEntropy(scalar)).toThrow(PrefShapeError);
        const hidden = ops.wrap(backend.fill([2, 3], 0));
        const weight = ops.wrap(backend.fill([5, 4], 0));
        expect(() => ops.linearTokenEntropy(hidden, weight, null)).toThrow(/linearTokenEntropy/);
        const good = ops.wrap(backend.fill([5, 3], 0));
        const badBias = ops.wrap(backend.fill([4], 0));
        expect(() => ops.linearTokenEntropy(hidden, good, badBias)).toThrow(PrefShapeError);
      } finally {
        ops.disposeAll();
      }
    });
  });
}
