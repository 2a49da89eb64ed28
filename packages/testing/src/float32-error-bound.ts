import { expect } from 'vitest';
import { createReferenceBackend, type ReferenceBackend, type ReferenceTensor } from '@pref/adapter-reference';
import { valueAndGrad, type AnyObjective, type Batch, type ObjectiveState, type ValueAndGradResult } from '@pref/core';

/** float32's unit roundoff, 2⁻²⁴. */
const UNIT_ROUNDOFF = 2 ** -24;
/**
 * Bound = `LAMBDA` × the root-mean-square error of `SAMPLES` modelled float32 evaluations.
 * Stochastic rounding errors are sub-Gaussian (Connolly, Higham & Mary 2021): one beyond 6 of
 * its standard deviations has probability ≤ 2·e⁻¹⁸ ≈ 3e-8 per element; and 16 samples estimate
 * that deviation below a sixth of itself with probability P(χ²₁₆ < 16/36) ≈ 2e-10.
 */
const LAMBDA = 6;
const SAMPLES = 16;
/** Results also agree to a few ulps of their own magnitude (a kernel may order a sum differently). */
const ULPS = 4;
/** float32's smallest normal number: a backend may flush anything smaller to zero. */
const SMALLEST_NORMAL = 2 ** -126;

/** √(mean e²), scaled so that subnormal deviations do not square to 0. */
function rootMeanSquare(errors: readonly number[]): number {
  const largest = errors.reduce((m, e) => Math.max(m, Math.abs(e)), 0);
  if (!(largest > 0)) return largest;
  return largest * Math.sqrt(errors.reduce((s, e) => s + (e / largest) ** 2, 0) / errors.length);
}

/** The error a float32 backend may show on one batch, per element, next to the float64 oracle. */
export interface Float32Bound {
  /** The float64 oracle's result (plain TypeScript kernels). */
  readonly oracle: ValueAndGradResult;
  readonly loss: number;
  readonly grads: Readonly<Record<string, Float64Array>>;
  readonly metrics: Readonly<Record<string, number>>;
}

export interface Float32BoundOptions {
  readonly state?: ObjectiveState | null;
  /** Modelled float32 evaluations (default 16). */
  readonly samples?: number;
  /** Seed of their rounding (default 1). */
  readonly seed?: number;
}

/**
 * How far a float32 backend may be from the float64 oracle on this batch, derived from the
 * batch instead of one tolerance for all: the objective runs 16 more times in float64 on a
 * model of float32 arithmetic, and each element's bound is 6× its root-mean-square deviation
 * from the oracle, plus 4 ulps of its magnitude and float32's smallest normal (a backend may
 * flush subnormals to zero). The model:
 * - inputs are rounded to the nearest float32, as every float32 backend does;
 * - every primitive's result is rounded to float32 stochastically (to one of its two float32
 *   neighbours, with probability by distance: unbiased, error below one ulp); functions a backend
 *   composes (`softplus`, `logSigmoid`, `sigmoid`, `log1p`, `expm1`) add 3 roundings of their
 *   result, and `pow`, computed as `exp(y·log x)`, a relative `u·|log result|`;
 * - a primitive that reduces n terms adds the accumulation error of a float32 sum, `u·√n·Σ|terms|`
 *   (`u = 2⁻²⁴`) times a standard normal draw; the token primitives add `u·(√V + |z| + |lse|)`
 *   relative to each probability (a log-sum-exp over V float32 terms, and `exp` of a rounded
 *   difference of logits), and the hidden-state primitives `u·√(V·H)·(1 + |result|)` to each
 *   result (a matmul over H inside a log-sum-exp over V).
 * So the bound grows where the problem amplifies rounding (z-scores of nearly equal values,
 * ratios `exp(Δ)` of large log-probs, cancellation in margins) and stays tight elsewhere.
 */
export async function float32ErrorBound(
  objective: AnyObjective,
  batch: Batch,
  params: Readonly<Record<string, unknown>>,
  options: Float32BoundOptions = {},
): Promise<Float32Bound> {
  const run = (backend: ReferenceBackend) =>
    valueAndGrad(objective, batch, params as never, { backend, state: (options.state ?? undefined) as never });
  const oracle = await run(createReferenceBackend({ precision: 64, kernels: 'js' }));
  const samples = options.samples ?? SAMPLES;
  const deviations = { loss: [] as number[], grads: {} as Record<string, number[][]>, metrics: {} as Record<string, number[]> };
  for (const [name, grad] of Object.entries(oracle.grads)) deviations.grads[name] = Array.from(grad.data, () => []);
  for (const name of Object.keys(oracle.metrics)) deviations.metrics[name] = [];
  for (let k = 0; k < samples; k++) {
    const modelled = await run(float32Model(mulberry32((options.seed ?? 1) * 7919 + k)));
    deviations.loss.push(modelled.loss - oracle.loss);
    for (const [name, grad] of Object.entries(oracle.grads)) {
      const got = modelled.grads[name].data;
      deviations.grads[name].forEach((list, i) => list.push(got[i] - grad.data[i]));
    }
    for (const [name, value] of Object.entries(oracle.metrics)) deviations.metrics[name].push(modelled.metrics[name] - value);
  }
  const bound = (errors: readonly number[], value: number) =>
    LAMBDA * rootMeanSquare(errors) + ULPS * UNIT_ROUNDOFF * Math.abs(value) + SMALLEST_NORMAL;
  return {
    oracle,
    loss: bound(deviations.loss, oracle.loss),
    grads: Object.fromEntries(
      Object.entries(deviations.grads).map(([name, lists]) => [
        name,
        Float64Array.from(lists, (errors, i) => bound(errors, oracle.grads[name].data[i])),
      ]),
    ),
    metrics: Object.fromEntries(Object.entries(deviations.metrics).map(([name, errors]) => [name, bound(errors, oracle.metrics[name])])),
  };
}

/**
 * The largest `|actual − oracle| / bound` over the loss, every gradient element and the metrics
 * (≤ 1: within the bound), and where it is. Metrics named in `skipMetrics` are not compared.
 */
export function float32Excess(
  actual: ValueAndGradResult,
  bound: Float32Bound,
  skipMetrics: (name: string) => boolean = () => false,
): { readonly worst: number; readonly where: string } {
  let worst = 0;
  let where = 'loss';
  const consider = (got: number, want: number, limit: number, at: string) => {
    const excess = got === want ? 0 : Math.abs(got - want) / limit;
    if (!(excess <= worst)) [worst, where] = [Number.isNaN(excess) ? Infinity : excess, at];
  };
  consider(actual.loss, bound.oracle.loss, bound.loss, 'loss');
  for (const [name, grad] of Object.entries(bound.oracle.grads)) {
    const got = actual.grads[name]?.data;
    if (!got) return { worst: Infinity, where: `grads.${name} missing` };
    grad.data.forEach((want, i) => consider(got[i], want, bound.grads[name][i], `grads.${name}[${i}]`));
  }
  for (const [name, want] of Object.entries(bound.oracle.metrics)) {
    if (!skipMetrics(name)) consider(actual.metrics[name], want, bound.metrics[name], `metrics.${name}`);
  }
  return { worst, where };
}

/** Accuracy metrics count margins > 0, a step that float32 cannot resolve at ties: conformance checks them. */
const isAccuracy = (name: string) => name.endsWith('accuracies');

/**
 * Asserts `actual` (a float32 backend's result) within `bound` everywhere: loss, every gradient
 * element, and the metrics except those `skipMetrics` names (default: the accuracies). `what`
 * starts the failure message, which names the element beyond its bound.
 */
export function expectWithinFloat32Bound(
  actual: ValueAndGradResult,
  bound: Float32Bound,
  what: string,
  skipMetrics: (name: string) => boolean = isAccuracy,
): void {
  expect(Object.keys(actual.grads).sort(), `${what}: gradient names`).toEqual(Object.keys(bound.oracle.grads).sort());
  const { worst, where } = float32Excess(actual, bound, skipMetrics);
  expect(worst, `${what}: ${where} beyond its derived float32 bound`).toBeLessThanOrEqual(1);
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const bits = new Float32Array(1);
const bitsAsInt = new Int32Array(bits.buffer);

/** `v` rounded to one of its two float32 neighbours, the farther with probability by distance. */
function roundStochastically(v: number, random: () => number): number {
  const near = Math.fround(v);
  if (near === v || !Number.isFinite(near)) return near;
  let other: number;
  if (near === 0) other = v > 0 ? 2 ** -149 : -(2 ** -149);
  else {
    bits[0] = near;
    bitsAsInt[0] += v > near === near > 0 ? 1 : -1;
    other = bits[0];
  }
  return random() < (v - near) / (other - near) ? other : near;
}

/**
 * Elementary functions a backend composes from several float32 operations (an `exp`, a `log`,
 * an add and a max or a division): the roundings beyond the result's own.
 */
const COMPOSED_ROUNDINGS: Readonly<Record<string, number>> = { log1p: 3, expm1: 3, sigmoid: 3, softplus: 3, logSigmoid: 3 };

type Data = Float64Array;
const dataOf = (t: ReferenceTensor) => t.data as Data;

/** The float64 reference backend computing as the model of float32 above says (results replaced in place). */
function float32Model(random: () => number): ReferenceBackend {
  const backend = createReferenceBackend({ precision: 64, kernels: 'js' });
  const u = UNIT_ROUNDOFF;
  const noise = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const round = (t: ReferenceTensor, extra?: (i: number) => number) => {
    if (t.dtype !== 'float') return t;
    const d = dataOf(t);
    for (let i = 0; i < d.length; i++) d[i] = roundStochastically(extra ? d[i] + extra(i) * noise() : d[i], random);
    return t;
  };
  const rows = (t: ReferenceTensor) => t.shape.slice(0, -1).reduce((a, b) => a * b, 1);
  /** `u·(√V + |z| + |lse|)·p` per logit: the error of a float32 softmax probability. */
  const softmaxError = (logits: ReferenceTensor, lse: ReferenceTensor) => {
    const z = dataOf(logits);
    const V = logits.shape[logits.shape.length - 1];
    const l = dataOf(lse);
    return (i: number) => {
      const r = Math.floor(i / V);
      return u * (Math.sqrt(V) + Math.abs(z[i]) + Math.abs(l[r])) * Math.exp(z[i] - l[r]);
    };
  };
  const plain = backend as unknown as Record<string, (...args: never[]) => unknown>;
  const call = (name: string, args: unknown[]) => (plain[name] as (...a: unknown[]) => unknown).apply(backend, args);
  const overrides: Record<string, (...args: never[]) => unknown> = {
    fromHost: (data: ArrayLike<number>, shape: readonly number[]) => call('fromHost', [Float64Array.from(data, Math.fround), shape]),
    fill: (shape: readonly number[], value: number) => call('fill', [shape, Math.fround(value)]),
    unary: (op: string, x: ReferenceTensor) => {
      const out = call('unary', [op, x]) as ReferenceTensor;
      const extra = COMPOSED_ROUNDINGS[op];
      if (!extra) return round(out);
      const d = dataOf(out);
      return round(out, (i) => u * extra * Math.abs(d[i]));
    },
    binary: (op: string, a: ReferenceTensor, b: ReferenceTensor) => {
      const out = call('binary', [op, a, b]) as ReferenceTensor;
      if (op !== 'pow') return round(out);
      // pow as exp(y·log x): relative error u·|y·log x| = u·|log result|.
      const d = dataOf(out);
      return round(out, (i) => u * Math.abs(d[i] * Math.log(Math.abs(d[i]))) || 0);
    },
    reduce: (op: string, x: ReferenceTensor, axes: readonly number[], keepDims: boolean) => {
      const out = call('reduce', [op, x, axes, keepDims]) as ReferenceTensor;
      if (op === 'max') return out;
      const n = x.shape.reduce((a, b) => a * b, 1) / Math.max(1, dataOf(out).length);
      const absolute = backend.reduce(op as 'sum', backend.unary('abs', x), axes, keepDims);
      const scale = Float64Array.from(dataOf(absolute), (s) => u * Math.sqrt(n) * s);
      backend.dispose(absolute);
      return round(out, (i) => scale[i]);
    },
    scatterAdd: (...args: unknown[]) => round(call('scatterAdd', args) as ReferenceTensor),
    tokenLogProbs: (logits: ReferenceTensor, ...rest: unknown[]) => {
      const result = call('tokenLogProbs', [logits, ...rest]) as { logps: ReferenceTensor; logSumExp: ReferenceTensor };
      const V = logits.shape[logits.shape.length - 1];
      const lse = dataOf(result.logSumExp);
      const logps = dataOf(result.logps);
      round(result.logps, (i) => (logps[i] === 0 ? 0 : u * (Math.sqrt(V) + Math.abs(logps[i]) + 2 * Math.abs(lse[i]))));
      round(result.logSumExp, (i) => u * (Math.sqrt(V) + Math.abs(lse[i])));
      return result;
    },
    tokenLogProbsGrad: (
      logits: ReferenceTensor,
      labels: ReferenceTensor,
      lse: ReferenceTensor,
      upstream: ReferenceTensor,
      ignore: number,
    ) => {
      const out = call('tokenLogProbsGrad', [logits, labels, lse, upstream, ignore]) as ReferenceTensor;
      const error = softmaxError(logits, lse);
      const up = dataOf(upstream);
      const V = logits.shape[logits.shape.length - 1];
      const d = dataOf(out);
      return round(out, (i) => (d[i] === 0 ? 0 : error(i) * Math.abs(up[Math.floor(i / V)])));
    },
    tokenEntropy: (logits: ReferenceTensor) => {
      const result = call('tokenEntropy', [logits]) as { entropy: ReferenceTensor; logSumExp: ReferenceTensor };
      const V = logits.shape[logits.shape.length - 1];
      const z = dataOf(logits);
      const lse = dataOf(result.logSumExp);
      const largest = Array.from({ length: rows(logits) }, (_, r) =>
        z.subarray(r * V, (r + 1) * V).reduce((m, v) => Math.max(m, Math.abs(v)), 0),
      );
      round(result.entropy, (r) => u * (Math.sqrt(V) * (1 + largest[r]) + Math.abs(lse[r])));
      round(result.logSumExp, (r) => u * (Math.sqrt(V) + Math.abs(lse[r])));
      return result;
    },
    tokenEntropyGrad: (logits: ReferenceTensor, lse: ReferenceTensor, entropy: ReferenceTensor, upstream: ReferenceTensor) => {
      const out = call('tokenEntropyGrad', [logits, lse, entropy, upstream]) as ReferenceTensor;
      const error = softmaxError(logits, lse);
      const V = logits.shape[logits.shape.length - 1];
      const z = dataOf(logits);
      const [l, h, up] = [dataOf(lse), dataOf(entropy), dataOf(upstream)];
      return round(out, (i) => {
        const r = Math.floor(i / V);
        return error(i) * Math.abs(up[r]) * (1 + Math.abs(z[i] - l[r]) + Math.abs(h[r]));
      });
    },
  };
  for (const name of ['linearTokenLogProbs', 'linearTokenEntropy', 'linearTokenLogProbsGrad', 'linearTokenEntropyGrad']) {
    overrides[name] = (...args: never[]) => {
      const [hidden, weight] = args as unknown as ReferenceTensor[];
      const n = weight.shape[0] * hidden.shape[hidden.shape.length - 1];
      const result = call(name, args) as Record<string, ReferenceTensor | null>;
      for (const t of Object.values(result)) if (t) round(t, (i) => u * Math.sqrt(n) * (1 + Math.abs(dataOf(t)[i])));
      return result;
    };
  }
  return new Proxy(backend, {
    get: (target, key, receiver) => (typeof key === 'string' && key in overrides ? overrides[key] : Reflect.get(target, key, receiver)),
  });
}
