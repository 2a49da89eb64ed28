import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { worstMismatch } from '@pref/testing';
import { createOnnxruntimeBackend } from '../src';
import { defaultChunkSize } from '../src/graph-recorder';
import { planGraph } from '../src/graph-plan';
import { lowerGraph } from '../src/lower-graph';

const backend = await createOnnxruntimeBackend({ sessionOptions: { intraOpNumThreads: 1 } });

interface Head {
  rows: number;
  size: number;
  vocab: number;
  hidden: Float32Array;
  weight: Float32Array;
  bias: Float32Array | null;
  labels: Int32Array;
  upstream: Float32Array;
  logitScale: number;
  softcap: number | null;
}

/** Float64 oracle: the logits path on `softcap(scale·(hidden·weightᵀ + bias))`, with every gradient. */
function oracle(h: Head) {
  const { rows, size, vocab } = h;
  const logps = new Float64Array(rows);
  const logSumExp = new Float64Array(rows);
  const dHidden = new Float64Array(rows * size);
  const dWeight = new Float64Array(vocab * size);
  const dBias = new Float64Array(vocab);
  for (let n = 0; n < rows; n++) {
    const z = new Float64Array(vocab);
    const slope = new Float64Array(vocab);
    for (let v = 0; v < vocab; v++) {
      let dot = h.bias ? h.bias[v] : 0;
      for (let k = 0; k < size; k++) dot += h.hidden[n * size + k] * h.weight[v * size + k];
      const scaled = h.logitScale * dot;
      const t = h.softcap === null ? 0 : Math.tanh(scaled / h.softcap);
      z[v] = h.softcap === null ? scaled : h.softcap * t;
      slope[v] = h.logitScale * (h.softcap === null ? 1 : 1 - t * t);
    }
    const max = Math.max(...z);
    const lse = max + Math.log(z.reduce((s, x) => s + Math.exp(x - max), 0));
    logSumExp[n] = lse;
    if (h.labels[n] === -100) continue;
    logps[n] = z[h.labels[n]] - lse;
    for (let v = 0; v < vocab; v++) {
      const dz = h.upstream[n] * ((v === h.labels[n] ? 1 : 0) - Math.exp(z[v] - lse)) * slope[v];
      dBias[v] += dz;
      for (let k = 0; k < size; k++) {
        dHidden[n * size + k] += dz * h.weight[v * size + k];
        dWeight[v * size + k] += dz * h.hidden[n * size + k];
      }
    }
  }
  return { logps, logSumExp, dHidden, dWeight, dBias };
}

async function run(h: Head, chunkSize?: number) {
  const options = { ignoreIndex: -100, logitScale: h.logitScale, softcap: h.softcap, ...(chunkSize === undefined ? {} : { chunkSize }) };
  const hidden = backend.fromHost(h.hidden, [h.rows, h.size]);
  const weight = backend.fromHost(h.weight, [h.vocab, h.size]);
  const bias = h.bias ? backend.fromHost(h.bias, [h.vocab]) : null;
  const labels = backend.fromHostInt(h.labels, [h.rows]);
  const forward = backend.linearTokenLogProbs(hidden, weight, bias, labels, options);
  const grads = backend.linearTokenLogProbsGrad(
    hidden,
    weight,
    bias,
    labels,
    forward.logSumExp,
    backend.fromHost(h.upstream, [h.rows]),
    options,
  );
  const read = [forward.logps, forward.logSumExp, grads.hidden, grads.weight, ...(grads.bias ? [grads.bias] : [])];
  const [logps, logSumExp, dHidden, dWeight, dBias] = await backend.read(read);
  return { logps, logSumExp, dHidden, dWeight, dBias: dBias ?? null };
}

function expectClose(name: string, actual: ArrayLike<number>, expected: ArrayLike<number>) {
  expect(actual.length, name).toBe(expected.length);
  const scale = Math.max(1, ...Array.from(expected, Math.abs));
  expect(worstMismatch(actual, expected, 1e-4, 2e-5 * scale), name).toBeLessThanOrEqual(1);
}

function head(
  seed: number,
  rows: number,
  size: number,
  vocab: number,
  withBias: boolean,
  logitScale: number,
  softcap: number | null,
): Head {
  let state = seed >>> 0 || 1;
  const next = () => (state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 4294967296;
  const values = (n: number, spread: number) => Float32Array.from({ length: n }, () => (next() - 0.5) * 2 * spread);
  return {
    rows,
    size,
    vocab,
    logitScale,
    softcap,
    hidden: values(rows * size, 1.5),
    weight: values(vocab * size, 1),
    bias: withBias ? values(vocab, 0.5) : null,
    labels: Int32Array.from({ length: rows }, (_, n) => (n % 4 === 3 ? -100 : Math.floor(next() * vocab))),
    upstream: values(rows, 1),
  };
}

describe('linearTokenLogProbs (+Grad): chunked Gemm in an ONNX Loop equals the logits path', () => {
  const h = head(7, 9, 5, 23, true, 1, null);
  const want = oracle(h);
  for (const chunk of [1, 4, 7, 22, 23, 64, undefined]) {
    it(`chunk size ${chunk ?? 'default'} over V = 23 (values, log-sum-exp, hidden/weight/bias gradients)`, async () => {
      const got = await run(h, chunk);
      expectClose('logps', got.logps, want.logps);
      h.labels.forEach((label, n) => {
        if (label === -100) expect(got.logps[n]).toBe(0);
      });
      expectClose('logSumExp', got.logSumExp, want.logSumExp);
      expectClose('dHidden', got.dHidden, want.dHidden);
      expectClose('dWeight', got.dWeight, want.dWeight);
      expectClose('dBias', got.dBias!, want.dBias);
    });
  }

  it('softcap, logit scale, no bias, any sizes and chunks (fast-check)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          seed: fc.integer(),
          rows: fc.integer({ min: 1, max: 6 }),
          size: fc.integer({ min: 1, max: 6 }),
          vocab: fc.integer({ min: 1, max: 19 }),
          bias: fc.boolean(),
          logitScale: fc.constantFrom(1, 0.5, 3),
          softcap: fc.constantFrom(null, 2, 30),
          chunk: fc.integer({ min: 1, max: 25 }),
        }),
        async ({ seed, rows, size, vocab, bias, logitScale, softcap, chunk }) => {
          const h = head(seed, rows, size, vocab, bias, logitScale, softcap);
          const want = oracle(h);
          const got = await run(h, chunk);
          expectClose('logps', got.logps, want.logps);
          expectClose('logSumExp', got.logSumExp, want.logSumExp);
          expectClose('dHidden', got.dHidden, want.dHidden);
          expectClose('dWeight', got.dWeight, want.dWeight);
          if (bias) expectClose('dBias', got.dBias!, want.dBias);
          else expect(got.dBias).toBeNull();
        },
      ),
      { numRuns: 40, seed: 20261203 },
    );
  });

  it('one compiled graph serves every N, H, V and chunk size', async () => {
    const fresh = await createOnnxruntimeBackend({ sessionOptions: { intraOpNumThreads: 1 } });
    for (const [rows, size, vocab, chunk] of [
      [3, 4, 10, 3],
      [5, 2, 17, 4],
      [2, 6, 9, 9],
      [4, 3, 31, 8],
    ]) {
      const h = head(rows * 31 + vocab, rows, size, vocab, true, 1, 5);
      const options = { ignoreIndex: -100, logitScale: 1, softcap: 5, chunkSize: chunk };
      const { logps, logSumExp } = fresh.linearTokenLogProbs(
        fresh.fromHost(h.hidden, [rows, size]),
        fresh.fromHost(h.weight, [vocab, size]),
        fresh.fromHost(h.bias!, [vocab]),
        fresh.fromHostInt(h.labels, [rows]),
        options,
      );
      const [got] = await fresh.read([logps, logSumExp]);
      expectClose('logps', got, oracle(h).logps);
    }
    expect(fresh.sessionsCreated).toBe(1);
  });

  it('the default chunk keeps a [N, chunk] block near 32 MiB and never above V', () => {
    expect(defaultChunkSize(4096, 128256)).toBe(2048);
    expect(defaultChunkSize(8, 4096)).toBe(4096);
    expect(defaultChunkSize(1 << 20, 32000)).toBe(256);
    expect(defaultChunkSize(10, 7)).toBe(7);
  });

  it('no [N, V] value: every matrix product and exponential over V sits inside a Loop body over chunks', () => {
    const h = head(3, 4, 3, 10, true, 1, 5);
    const options = { ignoreIndex: -100, logitScale: 1, softcap: 5, chunkSize: 4 };
    const hidden = backend.fromHost(h.hidden, [4, 3]);
    const weight = backend.fromHost(h.weight, [10, 3]);
    const bias = backend.fromHost(h.bias!, [10]);
    const labels = backend.fromHostInt(h.labels, [4]);
    const forward = backend.linearTokenLogProbs(hidden, weight, bias, labels, options);
    const grads = backend.linearTokenLogProbsGrad(
      hidden,
      weight,
      bias,
      labels,
      forward.logSumExp,
      backend.fromHost(h.upstream, [4]),
      options,
    );
    const { model } = lowerGraph(planGraph([forward.logps, grads.hidden, grads.weight, grads.bias!]));
    const main = model.graph!.node!;
    const loops = main.filter((n) => n.opType === 'Loop');
    expect(loops).toHaveLength(2);
    const wide = ['MatMul', 'Gemm', 'Exp', 'Softmax', 'LogSoftmax', 'ReduceMax', 'ScatterElements', 'Tanh'];
    expect(main.filter((n) => wide.includes(n.opType!)).map((n) => n.opType)).toEqual([]);
    for (const loop of loops) {
      const body = loop.attribute!.find((a) => a.name === 'body')!.g!.node!;
      expect(body.some((n) => n.opType === 'Gemm')).toBe(true);
    }
  });
});
