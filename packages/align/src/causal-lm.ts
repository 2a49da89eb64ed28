import type * as TfCore from '@tensorflow/tfjs-core';
import type { Tfjs, TfTensor, TfVariable } from './tfjs-module';
import { seededRandom } from './seeded-random';

/** Size of the decoder-only transformer. */
export interface CausalLmShape {
  readonly vocabularySize: number;
  /** Longest token sequence the model reads (learned positions). */
  readonly contextLength: number;
  readonly width: number;
  readonly layers: number;
  readonly heads: number;
  /** Hidden width of each feed-forward block. */
  readonly mlpWidth: number;
}

/** Host copies of a model's weights (e.g. the SFT checkpoint every objective starts from). */
export type ModelSnapshot = readonly Float32Array[];

/** A small pre-norm decoder-only transformer whose weights are tfjs variables. */
export interface CausalLm {
  readonly shape: CausalLmShape;
  readonly variables: readonly TfVariable[];
  /** Next-token logits `[B, T, V]` for token ids `[B, T]` (row-major): row `t` scores token `t + 1`. */
  logits(tokens: Int32Array, rows: number, steps: number): TfCore.Tensor3D;
  snapshot(): Promise<ModelSnapshot>;
  restore(snapshot: ModelSnapshot): void;
  dispose(): void;
}

interface Head {
  readonly query: TfVariable;
  readonly key: TfVariable;
  readonly value: TfVariable;
  readonly out: TfVariable;
}

interface Block {
  readonly heads: readonly Head[];
  readonly up: TfVariable;
  readonly down: TfVariable;
}

/**
 * Creates the model with weights drawn from `seed` (same seed, same weights, on any backend).
 *
 * Every op works on same-shape operands (RMS norm through a matmul, positions through a
 * gather, one set of projections per head, no biases): the tfjs `cpu` backend's broadcasting
 * path is an order of magnitude slower than its same-shape path.
 */
export function createCausalLm(tf: Tfjs, shape: CausalLmShape, seed: number): CausalLm {
  const { vocabularySize: V, contextLength, width: D, layers, heads: H, mlpWidth: M } = shape;
  if (D % H !== 0) throw new RangeError(`model width ${D} must be a multiple of heads ${H}`);
  const headWidth = D / H;
  const random = seededRandom(seed);
  const variables: TfVariable[] = [];
  const weight = (rows: number, cols: number, std: number): TfVariable => {
    const values = new Float32Array(rows * cols).map(() => random.normal() * std);
    const v = tf.variable(tf.tensor2d(values, [rows, cols]), true);
    variables.push(v);
    return v;
  };
  const residualStd = 0.02 / Math.sqrt(2 * layers);
  // Token and position embeddings in one table: rows [0, V) tokens, [V, V + contextLength) positions.
  const embedding = weight(V + contextLength, D, 0.02);
  const blocks: Block[] = Array.from({ length: layers }, () => ({
    heads: Array.from({ length: H }, () => ({
      query: weight(D, headWidth, 0.02),
      key: weight(D, headWidth, 0.02),
      value: weight(D, headWidth, 0.02),
      out: weight(headWidth, D, residualStd),
    })),
    up: weight(D, M, 0.02),
    down: weight(M, D, residualStd),
  }));
  const unembedding = weight(D, V, 0.02);
  // Constants reused across calls, created outside any tidy: the mean-over-width matrix, and
  // per batch shape the causal mask and position ids.
  const cache = new Map<string, TfTensor>();
  const cached = (key: string, make: () => TfTensor): TfTensor => {
    let t = cache.get(key);
    if (!t) {
      t = tf.keep(make());
      cache.set(key, t);
    }
    return t;
  };
  const meanOverWidth = () => cached('mean', () => tf.fill([D, D], 1 / D));
  const rmsNorm = (x: TfCore.Tensor2D): TfCore.Tensor2D =>
    tf.mul(x, tf.rsqrt(tf.add(tf.matMul(tf.square(x), meanOverWidth()), 1e-5)));
  const causalMask = (B: number, T: number) =>
    cached(`mask ${B}x${T}`, () => {
      const values = new Float32Array(B * T * T);
      for (let b = 0; b < B; b++) for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) values[(b * T + i) * T + j] = -1e9;
      return tf.tensor3d(values, [B, T, T]);
    });
  /** One-hot rows `[B·T, V + contextLength]` selecting each token's and position's embedding (a matmul trains faster than a gather on cpu). */
  const embeddingSelector = (tokens: Int32Array, T: number): TfTensor => {
    const columns = V + contextLength;
    const selector = new Float32Array(tokens.length * columns);
    tokens.forEach((token, i) => {
      if (!(token >= 0 && token < V)) throw new RangeError(`token ${token} at position ${i} is outside the vocabulary [0, ${V})`);
      selector[i * columns + token] = 1;
      selector[i * columns + V + (i % T)] = 1;
    });
    return tf.tensor2d(selector, [tokens.length, columns]);
  };

  const logits = (tokens: Int32Array, B: number, T: number): TfCore.Tensor3D =>
    tf.tidy(() => {
      if (T > contextLength) throw new RangeError(`tokens have ${T} steps; the model reads at most ${contextLength}`);
      if (tokens.length !== B * T) throw new RangeError(`tokens hold ${tokens.length} ids, expected ${B}·${T}`);
      let x = tf.matMul(embeddingSelector(tokens, T), embedding) as TfCore.Tensor2D;
      const mask = causalMask(B, T);
      const scale = 1 / Math.sqrt(headWidth);
      for (const block of blocks) {
        const normed = rmsNorm(x);
        for (const head of block.heads) {
          const project = (w: TfVariable) => tf.reshape(tf.matMul(normed, w), [B, T, headWidth]) as TfCore.Tensor3D;
          const scores = tf.add(tf.matMul(tf.mul(project(head.query), scale), project(head.key), false, true), mask);
          const attended = tf.reshape(tf.matMul(tf.softmax(scores), project(head.value)), [B * T, headWidth]) as TfCore.Tensor2D;
          x = tf.add(x, tf.matMul(attended, head.out));
        }
        x = tf.add(x, tf.matMul(tf.relu(tf.matMul(rmsNorm(x), block.up)) as TfCore.Tensor2D, block.down));
      }
      return tf.reshape(tf.matMul(rmsNorm(x), unembedding), [B, T, V]) as TfCore.Tensor3D;
    });

  return {
    shape,
    variables,
    logits,
    snapshot: async () => Promise.all(variables.map(async (v) => Float32Array.from((await v.data()) as Float32Array))),
    restore: (snapshot) => {
      if (snapshot.length !== variables.length) throw new Error(`snapshot has ${snapshot.length} weights; the model has ${variables.length}`);
      variables.forEach((v, i) => tf.tidy(() => v.assign(tf.tensor(snapshot[i], v.shape))));
    },
    dispose: () => {
      variables.forEach((v) => v.dispose());
      cache.forEach((t) => t.dispose());
      cache.clear();
    },
  };
}
