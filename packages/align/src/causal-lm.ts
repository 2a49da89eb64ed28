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
  /** The last hidden states `[B, T, D]` (after the final norm): `logits = hidden · headWeightᵀ`. */
  hidden(tokens: Int32Array, rows: number, steps: number): TfCore.Tensor3D;
  /** The LM head as `[V, D]` (a transpose of the variable, on tfjs's tape: gradients reach it). */
  headWeight(): TfCore.Tensor2D;
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
 * Every op works on same-shape operands (RMS norm through a matmul, positions and tokens
 * through a one-hot matmul, one set of projections per head, no biases): the tfjs `cpu`
 * backend's broadcasting path is an order of magnitude slower than its same-shape path. The
 * matmuls' gradients transpose explicitly (see {@link differentiableOps}).
 */
export function createCausalLm(tf: Tfjs, shape: CausalLmShape, seed: number): CausalLm {
  const { vocabularySize: V, contextLength, width: D, layers, heads: H, mlpWidth: M } = shape;
  if (D % H !== 0) throw new RangeError(`model width ${D} must be a multiple of heads ${H}`);
  const headWidth = D / H;
  const random = seededRandom(seed);
  const variables: TfVariable[] = [];
  const weight = (rows: number, cols: number, std: number): TfVariable => {
    const values = new Float32Array(rows * cols).map(() => random.normal() * std);
    // In a tidy: the initial tensor is released (the variable keeps its own copy of the data).
    const v = tf.tidy(() => tf.variable(tf.tensor2d(values, [rows, cols]), true));
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
  const ops = differentiableOps(tf, tf.getBackend() === 'wasm');
  /** RMS norm of each row (no gain), its mean over the width taken by a matmul: `x · rsqrt(mean(x²) + ε)`. */
  const rmsNorm = (x: TfCore.Tensor2D): TfCore.Tensor2D => ops.rmsNorm(x, meanOverWidth());
  const causalMask = (B: number, T: number) =>
    cached(`mask ${B}x${T}`, () => {
      const values = new Float32Array(B * T * T);
      for (let b = 0; b < B; b++) for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) values[(b * T + i) * T + j] = -1e9;
      return tf.tensor3d(values, [B, T, T]);
    });
  /** One-hot rows `[B·T, V + contextLength]` selecting each token's and position's embedding (a matmul trains faster than a gather on cpu and wasm). */
  const embeddingSelector = (tokens: Int32Array, T: number): TfCore.Tensor2D => {
    const columns = V + contextLength;
    const selector = new Float32Array(tokens.length * columns);
    tokens.forEach((token, i) => {
      if (!(token >= 0 && token < V)) throw new RangeError(`token ${token} at position ${i} is outside the vocabulary [0, ${V})`);
      selector[i * columns + token] = 1;
      selector[i * columns + V + (i % T)] = 1;
    });
    return tf.tensor2d(selector, [tokens.length, columns]);
  };

  /** The last hidden states (after the final RMS norm), `[B·T, D]`. */
  const finalHidden = (tokens: Int32Array, B: number, T: number): TfCore.Tensor2D => {
    if (T > contextLength) throw new RangeError(`tokens have ${T} steps; the model reads at most ${contextLength}`);
    if (tokens.length !== B * T) throw new RangeError(`tokens hold ${tokens.length} ids, expected ${B}·${T}`);
    let x = ops.selectRows(embeddingSelector(tokens, T), embedding);
    const mask = causalMask(B, T);
    const scale = 1 / Math.sqrt(headWidth);
    for (const block of blocks) {
      const normed = rmsNorm(x);
      for (const head of block.heads) {
        const project = (w: TfVariable) => tf.reshape(ops.linear(normed, w), [B, T, headWidth]) as TfCore.Tensor3D;
        const scores = tf.add(
          ops.scores(tf.mul(project(head.query), scale) as TfCore.Tensor3D, project(head.key)),
          mask,
        ) as TfCore.Tensor3D;
        const attended = tf.reshape(ops.batchMatMul(tf.softmax(scores) as TfCore.Tensor3D, project(head.value)), [
          B * T,
          headWidth,
        ]) as TfCore.Tensor2D;
        x = tf.add(x, ops.linear(attended, head.out));
      }
      x = tf.add(x, ops.linear(tf.relu(ops.linear(rmsNorm(x), block.up)) as TfCore.Tensor2D, block.down));
    }
    return rmsNorm(x);
  };

  const hidden = (tokens: Int32Array, B: number, T: number): TfCore.Tensor3D =>
    tf.tidy(() => tf.reshape(finalHidden(tokens, B, T), [B, T, D]) as TfCore.Tensor3D);
  const logits = (tokens: Int32Array, B: number, T: number): TfCore.Tensor3D =>
    tf.tidy(() => tf.reshape(ops.linear(finalHidden(tokens, B, T), unembedding), [B, T, V]) as TfCore.Tensor3D);

  return {
    shape,
    variables,
    logits,
    hidden,
    headWeight: () => tf.transpose(unembedding) as TfCore.Tensor2D,
    snapshot: async () => Promise.all(variables.map(async (v) => Float32Array.from((await v.data()) as Float32Array))),
    restore: (snapshot) => {
      if (snapshot.length !== variables.length)
        throw new Error(`snapshot has ${snapshot.length} weights; the model has ${variables.length}`);
      variables.forEach((v, i) => tf.tidy(() => v.assign(tf.tensor(snapshot[i], v.shape))));
    },
    dispose: () => {
      variables.forEach((v) => v.dispose());
      cache.forEach((t) => t.dispose());
      cache.clear();
    },
  };
}

/**
 * The model's matmul-based ops. With `explicitTransposes` (the tfjs `wasm` backend) they have
 * their own gradients: tfjs's registered BatchMatMul gradient calls matmul with
 * `transposeA`/`transposeB`, which `wasm` runs about 10× slower than a plain matmul (measured
 * on `[640, 48]` operands), so these transpose explicitly (a cheap copy) and then multiply, and
 * RMS norm gets its closed-form gradient instead of tfjs's `rsqrt`/`pow` graph. On other
 * backends (`cpu`: explicit transposes are slower there) they are the plain tfjs ops, with
 * tfjs's gradients. Values are the same either way, up to float rounding.
 */
export function differentiableOps(tf: Tfjs, explicitTransposes: boolean) {
  if (!explicitTransposes) {
    return {
      linear: (x: TfCore.Tensor2D, w: TfCore.Tensor): TfCore.Tensor2D => tf.matMul(x, w as TfCore.Tensor2D),
      batchMatMul: (a: TfCore.Tensor3D, b: TfCore.Tensor3D): TfCore.Tensor3D => tf.matMul(a, b),
      /** `q · kᵀ` per batch row. */
      scores: (q: TfCore.Tensor3D, k: TfCore.Tensor3D): TfCore.Tensor3D => tf.matMul(q, k, false, true),
      rmsNorm: (x: TfCore.Tensor2D, mean: TfCore.Tensor): TfCore.Tensor2D =>
        tf.mul(x, tf.rsqrt(tf.add(tf.matMul(tf.square(x), mean as TfCore.Tensor2D), 1e-5))),
      selectRows: (selector: TfCore.Tensor2D, w: TfCore.Tensor): TfCore.Tensor2D => tf.matMul(selector, w as TfCore.Tensor2D),
    };
  }
  const grad = <T extends TfCore.Tensor>(
    f: (...args: TfCore.Tensor[]) => { value: T; gradFunc: (dy: T, saved: TfCore.Tensor[]) => TfCore.Tensor[] },
  ) => tf.customGrad(f as unknown as Parameters<typeof tf.customGrad>[0]) as (...args: TfCore.Tensor[]) => T;
  /** `x [N, K] · w [K, M]`. */
  const linear = grad<TfCore.Tensor2D>((x, w, save) => {
    (save as unknown as TfCore.GradSaveFunc)([x, w]);
    return {
      value: tf.matMul(x as TfCore.Tensor2D, w as TfCore.Tensor2D),
      gradFunc: (dy, [xs, ws]) => [tf.matMul(dy, tf.transpose(ws)), tf.matMul(tf.transpose(xs), dy)],
    };
  });
  /** `a [B, N, K] · b [B, K, M]`. */
  const batchMatMul = grad<TfCore.Tensor3D>((a, b, save) => {
    (save as unknown as TfCore.GradSaveFunc)([a, b]);
    return {
      value: tf.matMul(a as TfCore.Tensor3D, b as TfCore.Tensor3D),
      gradFunc: (dy, [as, bs]) => [tf.matMul(dy, tf.transpose(bs, [0, 2, 1])), tf.matMul(tf.transpose(as, [0, 2, 1]), dy)],
    };
  });
  /** `x · rsqrt(x² · mean + ε)` with `mean` the `[D, D]` matrix of 1/D (a constant: no gradient). */
  const rmsNormOf = (mean: TfCore.Tensor) =>
    grad<TfCore.Tensor2D>((x, save) => {
      const r = tf.rsqrt(tf.add(tf.matMul(tf.square(x as TfCore.Tensor2D), mean as TfCore.Tensor2D), 1e-5)) as TfCore.Tensor2D;
      // Saved, not captured: the forward runs in a tidy that may release `mean` (when the caller made it there).
      (save as unknown as TfCore.GradSaveFunc)([x, r, mean]);
      return {
        value: tf.mul(x, r) as TfCore.Tensor2D,
        // d/dx of x·r(x): r·dy − x·r³·mean(dy·x)
        gradFunc: (dy, [xs, rs, means]) => [
          tf.sub(
            tf.mul(rs, dy),
            tf.mul(tf.mul(xs, tf.mul(tf.square(rs), rs)), tf.matMul(tf.mul(dy, xs) as TfCore.Tensor2D, means as TfCore.Tensor2D)),
          ),
        ],
      };
    });
  const norms = new WeakMap<TfCore.Tensor, (x: TfCore.Tensor2D) => TfCore.Tensor2D>();
  return {
    linear: (x: TfCore.Tensor2D, w: TfCore.Tensor) => linear(x, w),
    batchMatMul: (a: TfCore.Tensor3D, b: TfCore.Tensor3D) => batchMatMul(a, b),
    scores: (q: TfCore.Tensor3D, k: TfCore.Tensor3D) => batchMatMul(q, tf.transpose(k, [0, 2, 1])),
    rmsNorm: (x: TfCore.Tensor2D, mean: TfCore.Tensor): TfCore.Tensor2D => {
      let norm = norms.get(mean);
      if (!norm) norms.set(mean, (norm = rmsNormOf(mean)));
      return norm(x);
    },
    /** `selector [N, K] · w [K, M]` with the gradient for `w` only (`selector` is a constant, e.g. one-hot rows). */
    selectRows: (selector: TfCore.Tensor2D, w: TfCore.Tensor): TfCore.Tensor2D =>
      grad<TfCore.Tensor2D>((ws, save) => {
        // Saved, not captured: the forward runs in a tidy that releases what it made.
        (save as unknown as TfCore.GradSaveFunc)([selector]);
        return {
          value: tf.matMul(selector, ws as TfCore.Tensor2D),
          gradFunc: (dy, [rows]) => [tf.matMul(tf.transpose(rows), dy)],
        };
      })(w),
  };
}
