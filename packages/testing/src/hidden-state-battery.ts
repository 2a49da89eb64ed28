import { describe, expect, it } from 'vitest';
import {
  sequenceInputName,
  toHostTensor,
  valueAndGrad,
  type AnyObjective,
  type Batch,
  type InputSchema,
  type PrefBackend,
  type ValueAndGradResult,
} from '@pref/core';
import { loadConformanceCases } from './conformance-cases';
import { EARLIER_DEFAULTS } from './earlier-defaults';
import type { BackendUnderTest } from './describe-conformance';
import { worstMismatch } from './finite-differences';
import { expectWithinFloat32Bound, float32ErrorBound } from './float32-error-bound';

/** One configuration of the LM head the battery runs every objective through. */
export interface HiddenStateHeadCase {
  readonly name: string;
  readonly hiddenSize: number;
  readonly vocab: number;
  readonly bias: boolean;
  readonly logitScale?: number;
  readonly softcap?: number;
  /** `valueAndGrad`'s `lmHead.chunkSize`; absent = the backend's choice. */
  readonly chunkSize?: number;
}

/** Chunk sizes that do not divide V, a chunk of one row, softcapping and a logit scale. */
export const HIDDEN_STATE_HEAD_CASES: readonly HiddenStateHeadCase[] = [
  { name: 'bias, chunk 7 of V 37', hiddenSize: 5, vocab: 37, bias: true, chunkSize: 7 },
  { name: 'no bias, softcap 3, logitScale 0.7, backend chunk', hiddenSize: 6, vocab: 29, bias: false, logitScale: 0.7, softcap: 3 },
  { name: 'bias, softcap 2, chunk 1', hiddenSize: 3, vocab: 11, bias: true, softcap: 2, chunkSize: 1 },
];

/** Deterministic values in [lo, hi) (a fixed LCG: the battery must not depend on Math.random). */
function seeded(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** The float64 logits `softcap(s·(h·Wᵀ + b))` `[R, V]` and tanh(·) (for the chain rule), on the host. */
function hostLogits(hidden: Float64Array, weight: Float64Array, bias: Float64Array | null, head: HiddenStateHeadCase) {
  const { hiddenSize: H, vocab: V } = head;
  const rows = hidden.length / H;
  const logits = new Float64Array(rows * V);
  const tanh = new Float64Array(rows * V);
  const s = head.logitScale ?? 1;
  for (let r = 0; r < rows; r++) {
    for (let v = 0; v < V; v++) {
      let dot = bias ? bias[v] : 0;
      for (let k = 0; k < H; k++) dot += hidden[r * H + k] * weight[v * H + k];
      const y = s * dot;
      if (head.softcap) {
        const t = Math.tanh(y / head.softcap);
        tanh[r * V + v] = t;
        logits[r * V + v] = head.softcap * t;
      } else logits[r * V + v] = y;
    }
  }
  return { logits, tanh };
}

/** `dHidden`, `dWeight`, `dBias` from the gradient of the logits (the chain rule, float64). */
function chainRule(
  gradLogits: ArrayLike<number>,
  hidden: Float64Array,
  weight: Float64Array,
  tanh: Float64Array,
  head: HiddenStateHeadCase,
) {
  const { hiddenSize: H, vocab: V } = head;
  const rows = hidden.length / H;
  const s = head.logitScale ?? 1;
  const dHidden = new Float64Array(rows * H);
  const dWeight = new Float64Array(V * H);
  const dBias = new Float64Array(V);
  for (let r = 0; r < rows; r++) {
    for (let v = 0; v < V; v++) {
      const t = tanh[r * V + v];
      const d = s * gradLogits[r * V + v] * (head.softcap ? 1 - t * t : 1);
      dBias[v] += d;
      for (let k = 0; k < H; k++) {
        dHidden[r * H + k] += d * weight[v * H + k];
        dWeight[v * H + k] += d * hidden[r * H + k];
      }
    }
  }
  return { dHidden, dWeight, dBias };
}

export interface HiddenStatePair {
  /** The batch on the hidden-state path (`<prefix>Hidden`, `<prefix>Labels`, `lmHead`). */
  readonly hidden: Batch;
  /** The same on the logits path, with the float64 logits `softcap(s·(h·Wᵀ + b))`. */
  readonly logits: Batch;
  /** Sequence prefixes converted. */
  readonly prefixes: readonly string[];
  readonly values: {
    readonly weight: Float64Array;
    readonly bias: Float64Array | null;
    readonly hidden: Readonly<Record<string, Float64Array>>;
    readonly tanh: Readonly<Record<string, Float64Array>>;
  };
}

/**
 * Turns a batch given as log-probs with masks into the same batch on the hidden-state path
 * (random hidden states and head, labels where the mask is 1, −100 where it is 0) and on the
 * logits path with the logits of that head; other inputs are kept.
 */
export function hiddenStatePair(schema: InputSchema, batch: Batch, head: HiddenStateHeadCase, seed = 1): HiddenStatePair {
  const next = seeded(seed);
  const { hiddenSize: H, vocab: V } = head;
  const weight = Float64Array.from({ length: V * H }, () => (next() * 2 - 1) * 1.5);
  const bias = head.bias ? Float64Array.from({ length: V }, () => next() - 0.5) : null;
  const hiddenBatch: Record<string, unknown> = { ...batch };
  const logitsBatch: Record<string, unknown> = { ...batch };
  const prefixes: string[] = [];
  const hiddenValues: Record<string, Float64Array> = {};
  const tanhValues: Record<string, Float64Array> = {};
  for (const spec of Object.values(schema)) {
    if (spec.kind !== 'sequence') continue;
    const name = (suffix: string) => sequenceInputName(spec.prefix, suffix);
    if (batch[name('Mask')] === undefined) continue;
    const mask = toHostTensor(name('Mask'), batch[name('Mask')]);
    const [rows, steps] = mask.shape;
    const labels = Array.from(mask.data, (m) => (m ? Math.floor(next() * V) : -100));
    const hidden = Float64Array.from({ length: rows * steps * H }, () => next() * 2 - 1);
    const { logits, tanh } = hostLogits(hidden, weight, bias, head);
    for (const b of [hiddenBatch, logitsBatch]) {
      delete b[name('Logps')];
      delete b[name('Mask')];
      b[name('Labels')] = { data: labels, shape: [rows, steps] };
    }
    hiddenBatch[name('Hidden')] = { data: hidden, shape: [rows, steps, H] };
    logitsBatch[name('Logits')] = { data: logits, shape: [rows, steps, V] };
    prefixes.push(spec.prefix);
    hiddenValues[spec.prefix] = hidden;
    tanhValues[spec.prefix] = tanh;
  }
  hiddenBatch['lmHead'] = {
    weight: { data: weight, shape: [V, H] },
    ...(bias ? { bias: { data: bias, shape: [V] } } : {}),
    ...(head.logitScale !== undefined ? { logitScale: head.logitScale } : {}),
    ...(head.softcap !== undefined ? { softcap: head.softcap } : {}),
  };
  return { hidden: hiddenBatch, logits: logitsBatch, prefixes, values: { weight, bias, hidden: hiddenValues, tanh: tanhValues } };
}

/**
 * How the hidden path is compared: fixed relative and absolute tolerances against the logits
 * path, or `'float32'`: within the bound derived for the batch (`float32ErrorBound`) of the
 * float64 hidden path (which the float64 batteries check against the logits path at 1e-9).
 */
export type HiddenStateTolerance = { readonly rtol: number; readonly atol: number } | 'float32';

/**
 * Compares the hidden-state path with the logits path on `hidden·weightᵀ + bias` for one
 * objective, batch and head: loss, metrics, and the hidden, weight and bias gradients (the
 * logits path's gradient through the chain rule, in float64). `oracle` computes the logits
 * path (default: `backend`).
 */
export async function expectHiddenMatchesLogits(
  objective: AnyObjective,
  batch: Batch,
  params: Readonly<Record<string, unknown>>,
  head: HiddenStateHeadCase,
  backends: { readonly backend: PrefBackend; readonly oracle?: PrefBackend },
  tolerance: HiddenStateTolerance,
  state: Readonly<Record<string, number>> | null = null,
): Promise<void> {
  const pair = hiddenStatePair(objective.inputs as InputSchema, batch, head);
  const chunk = head.chunkSize !== undefined ? { lmHead: { chunkSize: head.chunkSize } } : {};
  if (tolerance === 'float32') {
    const [fromHidden, bound] = await Promise.all([
      valueAndGrad(objective, pair.hidden, params as never, { backend: backends.backend, state, ...chunk }) as Promise<ValueAndGradResult>,
      float32ErrorBound(objective, pair.hidden, params, { state }),
    ]);
    expectWithinFloat32Bound(fromHidden, bound, objective.id);
    return;
  }
  const fromLogits = (await valueAndGrad(objective, pair.logits, params as never, {
    backend: backends.oracle ?? backends.backend,
    state,
  })) as ValueAndGradResult;
  const fromHidden = (await valueAndGrad(objective, pair.hidden, params as never, {
    backend: backends.backend,
    state,
    ...chunk,
  })) as ValueAndGradResult;
  const { rtol, atol } = tolerance;
  const close = (what: string, actual: ArrayLike<number>, expected: ArrayLike<number>) => {
    expect(actual.length, `${what}: length`).toBe(expected.length);
    expect(worstMismatch(actual, expected, rtol, atol), `${what} (worst |a − b| / (atol + rtol·|b|))`).toBeLessThanOrEqual(1);
  };
  close('loss', [fromHidden.loss], [fromLogits.loss]);
  for (const [name, value] of Object.entries(fromLogits.metrics)) close(`metric ${name}`, [fromHidden.metrics[name]], [value]);
  const dWeight = new Float64Array(head.vocab * head.hiddenSize);
  const dBias = new Float64Array(head.vocab);
  for (const prefix of pair.prefixes) {
    const logitsName = sequenceInputName(prefix, 'Logits');
    const hiddenName = sequenceInputName(prefix, 'Hidden');
    const g = fromLogits.grads[logitsName];
    expect(g, `grads.${logitsName} on the logits path`).toBeDefined();
    const chain = chainRule(g.data, pair.values.hidden[prefix], pair.values.weight, pair.values.tanh[prefix], head);
    const got = fromHidden.grads[hiddenName];
    expect(got, `grads.${hiddenName}`).toBeDefined();
    expect([...got.shape]).toEqual([...toHostTensor(hiddenName, pair.hidden[hiddenName]).shape]);
    close(`grads.${hiddenName}`, got.data, chain.dHidden);
    chain.dWeight.forEach((v, i) => (dWeight[i] += v));
    chain.dBias.forEach((v, i) => (dBias[i] += v));
  }
  expect(fromHidden.grads['lmHead.weight'], 'grads["lmHead.weight"]').toBeDefined();
  expect([...fromHidden.grads['lmHead.weight'].shape]).toEqual([head.vocab, head.hiddenSize]);
  close('grads["lmHead.weight"]', fromHidden.grads['lmHead.weight'].data, dWeight);
  if (head.bias) close('grads["lmHead.bias"]', fromHidden.grads['lmHead.bias'].data, dBias);
  else expect(fromHidden.grads['lmHead.bias']).toBeUndefined();
}

/**
 * The hidden-state battery for a backend: for every objective in `objectives`, the first
 * conformance cases that succeed (at most `casesPerObjective`), converted to the hidden path,
 * must equal the logits path on `hidden·weightᵀ + bias` under every head of
 * {@link HIDDEN_STATE_HEAD_CASES}. Unavailable backends are reported as skipped with the reason.
 */
export function describeHiddenStateBattery(options: {
  readonly backend: BackendUnderTest;
  readonly objectives: Readonly<Record<string, AnyObjective>>;
  /** Relative and absolute tolerance (float64: 1e-9), or `'float32'`: the bound derived per batch. */
  readonly tolerance: HiddenStateTolerance;
  /** Computes the logits path (default: the backend under test). */
  readonly oracle?: () => PrefBackend;
  readonly casesPerObjective?: number;
}): void {
  describe(`hidden-state path equals the logits path on ${options.backend.name}`, async () => {
    const created = await options.backend.create().catch((error: Error) => ({ unavailable: error.message }));
    if ('unavailable' in created) {
      it.skip(`skipped: ${options.backend.name} unavailable: ${created.unavailable}`, () => {});
      return;
    }
    const backend = created;
    const oracle = options.oracle?.();
    const cases = loadConformanceCases().filter((c) => !('error' in c.expected) && options.objectives[c.objective]);
    const perObjective = new Map<string, number>();
    for (const testCase of cases) {
      const count = perObjective.get(testCase.objective) ?? 0;
      if (count >= (options.casesPerObjective ?? 2)) continue;
      // WPO weights need the full distribution: the logits path only.
      if (testCase.params['useWeighting']) continue;
      const sequences = Object.values(options.objectives[testCase.objective].inputs as InputSchema).filter((s) => s.kind === 'sequence');
      // Cases on the log-probs path only (every sequence given as log-probs with a mask).
      if (!sequences.every((s) => testCase.inputs[sequenceInputName(s.prefix, 'Mask')] !== undefined)) continue;
      perObjective.set(testCase.objective, count + 1);
      const params = { ...(EARLIER_DEFAULTS[testCase.id] ?? {}), ...testCase.params };
      for (const head of HIDDEN_STATE_HEAD_CASES) {
        it(`${testCase.id}: ${head.name}`, () =>
          expectHiddenMatchesLogits(
            options.objectives[testCase.objective],
            testCase.inputs,
            params,
            head,
            { backend, oracle },
            options.tolerance,
            testCase.state ?? null,
          ));
      }
    }
  });
}
