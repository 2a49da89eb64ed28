import type {
  BackendTensor,
  BinaryOp,
  CompareOp,
  LinearEntropyOptions,
  LinearHeadOptions,
  LinearTokenLogProbsGrads,
  PrefBackend,
  Shape,
  UnaryOp,
} from './pref-backend';
import { broadcastAxes, reducedShape, sameShape, sizeOf } from './broadcast-shape';
import {
  broadcastShapeOf,
  broadcastToShapeOf,
  checkAxis,
  checkShape,
  concatShapeOf,
  gatherShapeOf,
  reduceShapeOf,
  linearEntropyShapeOf,
  linearTokenShapeOf,
  reshapeShapeOf,
  scatterAddShapeOf,
  sliceShapeOf,
  tokenEntropyShapeOf,
  tokenShapeOf,
} from './op-shapes';
import { PrefParamError, PrefShapeError } from './pref-error';
import { Tensor, type GradientNode } from './tensor';

export type TensorLike = Tensor | number;

/**
 * The differentiable operations objectives are written with. Each call runs one backend
 * primitive and, when an input requires a gradient, records the primitive's gradient rule
 * (written in primitives too) so `backward` can run on any backend, eager or lazy.
 */
export class TensorOps {
  /** Every backend tensor created here, so a call can release them all at the end. */
  private readonly created: BackendTensor[] = [];
  private readonly scalars = new Map<number, Tensor>();

  constructor(readonly backend: PrefBackend) {}

  // ---- creation -------------------------------------------------------------------------

  /** Wraps a backend tensor; `inputName` marks a differentiable leaf. */
  wrap(value: BackendTensor, inputName: string | null = null): Tensor {
    this.created.push(value);
    return new Tensor(value, inputName !== null, null, inputName, this);
  }

  /** A caller's backend tensor (never released here) as a leaf; `inputName` marks a differentiable one. */
  external(value: BackendTensor, inputName: string | null = null): Tensor {
    return new Tensor(value, inputName !== null, null, inputName, this);
  }

  constant(data: ArrayLike<number>, shape: Shape): Tensor {
    this.checkLength('constant', data, shape);
    return this.wrap(this.backend.fromHost(data, shape));
  }

  constantInt(data: Int32Array, shape: Shape): Tensor {
    this.checkLength('constantInt', data, shape);
    return this.wrap(this.backend.fromHostInt(data, shape));
  }

  /** A scalar constant, created once per value and call (−0 is treated as 0). */
  scalar(value: number): Tensor {
    let t = this.scalars.get(value);
    if (!t) {
      t = this.wrap(this.backend.fill([], value === 0 ? 0 : value));
      this.scalars.set(value, t);
    }
    return t;
  }

  fill(shape: Shape, value: number): Tensor {
    checkShape('fill', shape);
    return this.wrap(this.backend.fill(shape, value));
  }

  private checkLength(op: string, data: ArrayLike<number>, shape: Shape): void {
    checkShape(op, shape);
    if (data.length !== sizeOf(shape)) {
      throw new PrefShapeError(op, [shape], `${op}: ${data.length} values for shape [${shape.join(', ')}] (${sizeOf(shape)} values)`);
    }
  }

  zerosLike(x: Tensor): Tensor {
    return this.fill(x.shape, 0);
  }

  private lift(x: TensorLike): Tensor {
    return typeof x === 'number' ? this.scalar(x) : x;
  }

  private result(value: BackendTensor, inputs: readonly Tensor[], backward: GradientNode['backward']): Tensor {
    this.created.push(value);
    if (inputs.some((t) => t.requiresGrad)) {
      return new Tensor(value, true, { inputs, backward }, null, this);
    }
    return new Tensor(value, false, null, null, this);
  }

  // ---- elementwise unary ----------------------------------------------------------------

  private unary(op: UnaryOp, x: Tensor, rule: (g: Tensor, out: Tensor) => Tensor): Tensor {
    const value = this.backend.unary(op, x.value);
    const out: Tensor = this.result(value, [x], (g) => [rule(g, out)]);
    return out;
  }

  neg(x: Tensor): Tensor {
    return this.unary('neg', x, (g) => this.neg(g));
  }
  exp(x: Tensor): Tensor {
    return this.unary('exp', x, (g, out) => this.mul(g, out));
  }
  log(x: Tensor): Tensor {
    return this.unary('log', x, (g) => this.div(g, x));
  }
  log1p(x: Tensor): Tensor {
    return this.unary('log1p', x, (g) => this.div(g, this.add(x, 1)));
  }
  expm1(x: Tensor): Tensor {
    return this.unary('expm1', x, (g, out) => this.mul(g, this.add(out, 1)));
  }
  sigmoid(x: Tensor): Tensor {
    return this.unary('sigmoid', x, (g, out) => this.mul(g, this.mul(out, this.sub(1, out))));
  }
  softplus(x: Tensor): Tensor {
    return this.unary('softplus', x, (g) => this.mul(g, this.sigmoid(x)));
  }
  /** `log σ(x) = −softplus(−x)`, stable for all x. */
  logSigmoid(x: Tensor): Tensor {
    return this.unary('logSigmoid', x, (g) => this.mul(g, this.sigmoid(this.neg(x))));
  }
  relu(x: Tensor): Tensor {
    return this.unary('relu', x, (g) => this.mul(g, this.greater(x, 0)));
  }
  square(x: Tensor): Tensor {
    return this.unary('square', x, (g) => this.mul(g, this.mul(x, 2)));
  }
  sqrt(x: Tensor): Tensor {
    return this.unary('sqrt', x, (g, out) => this.div(g, this.mul(out, 2)));
  }
  abs(x: Tensor): Tensor {
    return this.unary('abs', x, (g) => this.mul(g, this.sub(this.greater(x, 0), this.less(x, 0))));
  }

  // ---- elementwise binary (broadcasting) ------------------------------------------------

  private binary(
    op: BinaryOp,
    a: TensorLike,
    b: TensorLike,
    rule: (g: Tensor, a: Tensor, b: Tensor, out: Tensor) => [Tensor | null, Tensor | null],
  ): Tensor {
    const ta = this.lift(a);
    const tb = this.lift(b);
    broadcastShapeOf(op, [ta.shape, tb.shape]);
    const value = this.backend.binary(op, ta.value, tb.value);
    const out: Tensor = this.result(value, [ta, tb], (g) => {
      const [ga, gb] = rule(g, ta, tb, out);
      return [ga && ta.requiresGrad ? this.sumToShape(ga, ta.shape) : null, gb && tb.requiresGrad ? this.sumToShape(gb, tb.shape) : null];
    });
    return out;
  }

  add(a: TensorLike, b: TensorLike): Tensor {
    return this.binary('add', a, b, (g) => [g, g]);
  }
  sub(a: TensorLike, b: TensorLike): Tensor {
    return this.binary('sub', a, b, (g, _a, tb) => [g, tb.requiresGrad ? this.neg(g) : null]);
  }
  mul(a: TensorLike, b: TensorLike): Tensor {
    return this.binary('mul', a, b, (g, ta, tb) => [ta.requiresGrad ? this.mul(g, tb) : null, tb.requiresGrad ? this.mul(g, ta) : null]);
  }
  div(a: TensorLike, b: TensorLike): Tensor {
    return this.binary('div', a, b, (g, ta, tb, out) => [
      ta.requiresGrad ? this.div(g, tb) : null,
      tb.requiresGrad ? this.neg(this.div(this.mul(g, out), tb)) : null,
    ]);
  }
  /** `a^b`; the gradient with respect to `b` is only formed when `b` needs one (it uses log a). */
  pow(a: TensorLike, b: TensorLike): Tensor {
    return this.binary('pow', a, b, (g, ta, tb, out) => [
      ta.requiresGrad ? this.mul(g, this.mul(tb, this.pow(ta, this.sub(tb, 1)))) : null,
      tb.requiresGrad ? this.mul(g, this.mul(out, this.log(ta))) : null,
    ]);
  }
  /** Ties send the gradient to `a`. */
  maximum(a: TensorLike, b: TensorLike): Tensor {
    return this.binary('maximum', a, b, (g, ta, tb) => {
      const pickA = this.greaterEqual(ta, tb);
      return [this.mul(g, pickA), this.mul(g, this.sub(1, pickA))];
    });
  }
  /** Ties send the gradient to `a`. */
  minimum(a: TensorLike, b: TensorLike): Tensor {
    return this.binary('minimum', a, b, (g, ta, tb) => {
      const pickA = this.lessEqual(ta, tb);
      return [this.mul(g, pickA), this.mul(g, this.sub(1, pickA))];
    });
  }

  // ---- comparisons and selection --------------------------------------------------------

  private compare(op: CompareOp, a: TensorLike, b: TensorLike): Tensor {
    const ta = this.lift(a);
    const tb = this.lift(b);
    broadcastShapeOf(op, [ta.shape, tb.shape]);
    return this.result(this.backend.compare(op, ta.value, tb.value), [], () => []);
  }
  greater(a: TensorLike, b: TensorLike): Tensor {
    return this.compare('greater', a, b);
  }
  greaterEqual(a: TensorLike, b: TensorLike): Tensor {
    return this.compare('greaterEqual', a, b);
  }
  less(a: TensorLike, b: TensorLike): Tensor {
    return this.compare('less', a, b);
  }
  lessEqual(a: TensorLike, b: TensorLike): Tensor {
    return this.compare('lessEqual', a, b);
  }
  equal(a: TensorLike, b: TensorLike): Tensor {
    return this.compare('equal', a, b);
  }

  /** `cond ? a : b` elementwise (cond is 0/1); the unselected side gets exactly zero gradient. */
  where(cond: Tensor, a: TensorLike, b: TensorLike): Tensor {
    const ta = this.lift(a);
    const tb = this.lift(b);
    broadcastShapeOf('where', [cond.shape, ta.shape, tb.shape]);
    const value = this.backend.where(cond.value, ta.value, tb.value);
    return this.result(value, [ta, tb], (g) => [
      ta.requiresGrad ? this.sumToShape(this.where(cond, g, 0), ta.shape) : null,
      tb.requiresGrad ? this.sumToShape(this.where(cond, 0, g), tb.shape) : null,
    ]);
  }

  /** The same values with no gradient flowing back. */
  stopGradient(x: Tensor): Tensor {
    return x.requiresGrad ? new Tensor(x.value, false, null, null, this) : x;
  }

  // ---- reductions -----------------------------------------------------------------------

  /** Sum over `axes` (all axes when omitted). */
  sum(x: Tensor, axes?: number | readonly number[], keepDims = false): Tensor {
    const ax = this.axesOf('sum', x, axes);
    const value = this.backend.reduce('sum', x.value, ax, keepDims);
    return this.result(value, [x], (g) => [this.broadcastTo(this.reshape(g, reducedShape(x.shape, ax, true)), x.shape)]);
  }

  mean(x: Tensor, axes?: number | readonly number[], keepDims = false): Tensor {
    const ax = this.axesOf('mean', x, axes);
    const count = ax.reduce((n, a) => n * x.shape[a], 1);
    const value = this.backend.reduce('mean', x.value, ax, keepDims);
    return this.result(value, [x], (g) => [this.broadcastTo(this.reshape(this.div(g, count), reducedShape(x.shape, ax, true)), x.shape)]);
  }

  /** Max over `axes`; tied maxima share the gradient equally. */
  max(x: Tensor, axes?: number | readonly number[], keepDims = false): Tensor {
    const ax = this.axesOf('max', x, axes);
    const value = this.backend.reduce('max', x.value, ax, keepDims);
    const out: Tensor = this.result(value, [x], (g) => {
      const kept = reducedShape(x.shape, ax, true);
      const isMax = this.equal(x, this.reshape(out, kept));
      const share = this.div(isMax, this.sum(isMax, ax, true));
      return [this.mul(share, this.reshape(g, kept))];
    });
    return out;
  }

  private axesOf(op: string, x: Tensor, axes: number | readonly number[] | undefined): number[] {
    return reduceShapeOf(op, x.shape, axes, false).axes;
  }

  // ---- shape ----------------------------------------------------------------------------

  reshape(x: Tensor, shape: Shape): Tensor {
    reshapeShapeOf(x.shape, shape);
    if (sameShape(x.shape, shape)) return x;
    return this.result(this.backend.reshape(x.value, shape), [x], (g) => [this.reshape(g, x.shape)]);
  }

  broadcastTo(x: Tensor, shape: Shape): Tensor {
    broadcastToShapeOf(x.shape, shape);
    if (sameShape(x.shape, shape)) return x;
    return this.result(this.backend.broadcastTo(x.value, shape), [x], (g) => [this.sumToShape(g, x.shape)]);
  }

  /** Sums a broadcast gradient back to `shape`. */
  sumToShape(g: Tensor, shape: Shape): Tensor {
    if (sameShape(g.shape, shape)) return g;
    const axes = broadcastAxes(shape, g.shape);
    const summed = axes.length ? this.sum(g, axes, true) : g;
    return this.reshape(summed, shape);
  }

  slice(x: Tensor, begin: readonly number[], size: readonly number[]): Tensor {
    sliceShapeOf(x.shape, begin, size);
    const value = this.backend.slice(x.value, begin, size);
    return this.result(value, [x], (g) => {
      let padded = g;
      x.shape.forEach((dim, axis) => {
        const before = begin[axis];
        const after = dim - before - size[axis];
        const parts: Tensor[] = [];
        if (before > 0)
          parts.push(
            this.fill(
              padded.shape.map((d, i) => (i === axis ? before : d)),
              0,
            ),
          );
        parts.push(padded);
        if (after > 0)
          parts.push(
            this.fill(
              padded.shape.map((d, i) => (i === axis ? after : d)),
              0,
            ),
          );
        if (parts.length > 1) padded = this.concat(parts, axis);
      });
      return [padded];
    });
  }

  concat(xs: readonly Tensor[], axis: number): Tensor {
    const ax = concatShapeOf(
      xs.map((t) => t.value),
      axis,
    ).axis;
    if (xs.length === 1) return xs[0];
    const value = this.backend.concat(
      xs.map((t) => t.value),
      ax,
    );
    return this.result(value, xs, (g) => {
      let offset = 0;
      return xs.map((t) => {
        const begin = g.shape.map((_, i) => (i === ax ? offset : 0));
        offset += t.shape[ax];
        return t.requiresGrad ? this.slice(g, begin, t.shape) : null;
      });
    });
  }

  // ---- indexing -------------------------------------------------------------------------

  /** Int32 indices sorting `x` ascending along `axis`; no gradient. */
  argsort(x: Tensor, axis = -1): Tensor {
    return this.result(this.backend.argsort(x.value, checkAxis('argsort', axis, x.shape)), [], () => []);
  }

  gather(x: Tensor, indices: Tensor, axis = -1): Tensor {
    const ax = gatherShapeOf(x.shape, indices.value, axis).axis;
    const value = this.backend.gather(x.value, indices.value, ax);
    return this.result(value, [x], (g) => [this.scatterAdd(x.shape, indices, g, ax)]);
  }

  scatterAdd(shape: Shape, indices: Tensor, updates: Tensor, axis = -1): Tensor {
    const ax = scatterAddShapeOf(shape, indices.value, updates.shape, axis);
    const value = this.backend.scatterAdd(shape, indices.value, updates.value, ax);
    return this.result(value, [updates], (g) => [this.gather(g, indices, ax)]);
  }

  /** `x` sorted ascending along `axis`, differentiable (the gradient follows the permutation). */
  sort(x: Tensor, axis = -1): Tensor {
    return this.gather(x, this.argsort(x, axis), axis);
  }

  // ---- fused token log-probs ------------------------------------------------------------

  /**
   * `logits [..., V]`, int `labels [...]` → token log-probs `[...]`, 0 where ignored. The
   * backend's row log-sum-exp is kept on the tape as the gradient's residual (nothing is cached).
   */
  tokenLogProbs(logits: Tensor, labels: Tensor, ignoreIndex = -100): Tensor {
    const rowShape = tokenShapeOf('tokenLogProbs', logits.shape, labels.value);
    const vocab = logits.shape[logits.shape.length - 1];
    const rows = sizeOf(rowShape);
    const flatLogits = this.rawReshape(logits.value, [rows, vocab]);
    const flatLabels = this.rawReshape(labels.value, [rows]);
    const { logps, logSumExp } = this.backend.tokenLogProbs(flatLogits, flatLabels, ignoreIndex);
    this.created.push(logps, logSumExp);
    return this.result(this.rawReshape(logps, rowShape), [logits], (g) => {
      const upstream = this.rawReshape(g.value, [rows]);
      const grad = this.backend.tokenLogProbsGrad(flatLogits, flatLabels, logSumExp, upstream, ignoreIndex);
      this.created.push(grad);
      return [this.result(this.rawReshape(grad, logits.shape), [], () => [])];
    });
  }

  /**
   * Token log-probs from hidden states and an LM head, never forming the logits:
   * `hidden [..., H]`, `weight [V, H]`, `bias [V] | null`, int `labels [...]` → `[...]`, the
   * result of `tokenLogProbs` on `softcap(logitScale·(hidden·weightᵀ + bias))`. Differentiable
   * in `hidden`, `weight` and `bias` (one fused gradient primitive from the forward's residual).
   */
  linearTokenLogProbs(
    hidden: Tensor,
    weight: Tensor,
    bias: Tensor | null,
    labels: Tensor,
    options: Partial<LinearHeadOptions> = {},
  ): Tensor {
    const rowShape = labels.shape;
    const size = hidden.shape[hidden.shape.length - 1];
    const rows = sizeOf(rowShape);
    if (hidden.shape.length < 1 || !sameShape(hidden.shape.slice(0, -1), rowShape)) {
      throw new PrefShapeError(
        'linearTokenLogProbs',
        [hidden.shape, rowShape],
        `linearTokenLogProbs: hidden [${hidden.shape.join(', ')}] must be labels' shape [${rowShape.join(', ')}] plus the hidden size`,
      );
    }
    const flatHidden = this.rawReshape(hidden.value, [rows, size]);
    const flatLabels = this.rawReshape(labels.value, [rows]);
    linearTokenShapeOf('linearTokenLogProbs', flatHidden.shape, weight.shape, bias ? bias.shape : null, flatLabels);
    const head: LinearHeadOptions = {
      ignoreIndex: options.ignoreIndex ?? -100,
      logitScale: options.logitScale ?? 1,
      softcap: options.softcap ?? null,
      ...(options.chunkSize !== undefined ? { chunkSize: options.chunkSize } : {}),
    };
    checkLinearHead(head);
    const { logps, logSumExp } = this.backend.linearTokenLogProbs(flatHidden, weight.value, bias ? bias.value : null, flatLabels, head);
    this.created.push(logps, logSumExp);
    const inputs = bias ? [hidden, weight, bias] : [hidden, weight];
    return this.result(this.rawReshape(logps, rowShape), inputs, (g) => {
      const upstream = this.rawReshape(g.value, [rows]);
      const grads = this.backend.linearTokenLogProbsGrad(
        flatHidden,
        weight.value,
        bias ? bias.value : null,
        flatLabels,
        logSumExp,
        upstream,
        head,
      );
      return this.linearHeadGradients(grads, hidden, bias);
    });
  }

  /** A linear-head primitive's hidden, weight (and bias) gradients as leaves, the hidden one in `hidden`'s shape. */
  private linearHeadGradients(grads: LinearTokenLogProbsGrads<BackendTensor>, hidden: Tensor, bias: Tensor | null): (Tensor | null)[] {
    this.created.push(grads.hidden, grads.weight);
    if (grads.bias) this.created.push(grads.bias);
    const leaf = (value: BackendTensor) => this.result(value, [], () => []);
    const out: (Tensor | null)[] = [leaf(this.rawReshape(grads.hidden, hidden.shape)), leaf(grads.weight)];
    if (bias) out.push(grads.bias ? leaf(grads.bias) : null);
    return out;
  }

  // ---- fused token entropy --------------------------------------------------------------

  /**
   * Entropy (nats) of each token's distribution, `H = −Σ_v p_v·log p_v` with
   * `p = softmax(logits)`: `logits [..., V]` → `[...]`, one fused primitive; its gradient
   * (`tokenEntropyGrad`) uses the forward's log-sum-exp and entropy as residuals.
   */
  tokenEntropy(logits: Tensor): Tensor {
    const rowShape = tokenEntropyShapeOf('tokenEntropy', logits.shape);
    const vocab = logits.shape[logits.shape.length - 1];
    const rows = sizeOf(rowShape);
    const flatLogits = this.rawReshape(logits.value, [rows, vocab]);
    const { entropy, logSumExp } = this.backend.tokenEntropy(flatLogits);
    this.created.push(entropy, logSumExp);
    return this.result(this.rawReshape(entropy, rowShape), [logits], (g) => {
      const upstream = this.rawReshape(g.value, [rows]);
      const grad = this.backend.tokenEntropyGrad(flatLogits, logSumExp, entropy, upstream);
      this.created.push(grad);
      return [this.result(this.rawReshape(grad, logits.shape), [], () => [])];
    });
  }

  /**
   * Token entropy from hidden states and an LM head, never forming the logits:
   * `hidden [..., H]`, `weight [V, H]`, `bias [V] | null` → `[...]`, the result of `tokenEntropy`
   * on `softcap(logitScale·(hidden·weightᵀ + bias))`. Differentiable in `hidden`, `weight`, `bias`.
   */
  linearTokenEntropy(hidden: Tensor, weight: Tensor, bias: Tensor | null, options: Partial<LinearEntropyOptions> = {}): Tensor {
    if (hidden.shape.length < 1) {
      throw new PrefShapeError('linearTokenEntropy', [hidden.shape], 'linearTokenEntropy: hidden must have a hidden-size axis');
    }
    const rowShape = hidden.shape.slice(0, -1);
    const size = hidden.shape[hidden.shape.length - 1];
    const rows = sizeOf(rowShape);
    linearEntropyShapeOf('linearTokenEntropy', [rows, size], weight.shape, bias ? bias.shape : null);
    const flatHidden = this.rawReshape(hidden.value, [rows, size]);
    const head: LinearEntropyOptions = {
      logitScale: options.logitScale ?? 1,
      softcap: options.softcap ?? null,
      ...(options.chunkSize !== undefined ? { chunkSize: options.chunkSize } : {}),
    };
    checkLinearHead({ ...head, ignoreIndex: 0 }, 'linearTokenEntropy');
    const { entropy, logSumExp } = this.backend.linearTokenEntropy(flatHidden, weight.value, bias ? bias.value : null, head);
    this.created.push(entropy, logSumExp);
    const inputs = bias ? [hidden, weight, bias] : [hidden, weight];
    return this.result(this.rawReshape(entropy, rowShape), inputs, (g) => {
      const upstream = this.rawReshape(g.value, [rows]);
      const grads = this.backend.linearTokenEntropyGrad(
        flatHidden,
        weight.value,
        bias ? bias.value : null,
        logSumExp,
        entropy,
        upstream,
        head,
      );
      return this.linearHeadGradients(grads, hidden, bias);
    });
  }

  /** A backend reshape outside the tape (views of the same values); recorded for release. */
  private rawReshape(x: BackendTensor, shape: Shape): BackendTensor {
    if (sameShape(x.shape, shape)) return x;
    const out = this.backend.reshape(x, shape);
    this.created.push(out);
    return out;
  }

  // ---- lifetime -------------------------------------------------------------------------

  /** Releases every backend tensor created here except those in `keep`. */
  disposeAll(keep: readonly BackendTensor[] = []): void {
    const kept = new Set(keep);
    const seen = new Set<BackendTensor>();
    for (const t of this.created) {
      if (kept.has(t) || seen.has(t)) continue;
      seen.add(t);
      this.backend.dispose(t);
    }
    this.created.length = 0;
    this.scalars.clear();
  }
}

function checkLinearHead(head: LinearHeadOptions, op = 'linearTokenLogProbs'): void {
  const bad = (param: string, what: string) => new PrefParamError(param, `${op}: ${param} ${what}`);
  if (!Number.isInteger(head.ignoreIndex)) throw bad('ignoreIndex', `must be an integer, got ${head.ignoreIndex}`);
  if (!(Number.isFinite(head.logitScale) && head.logitScale !== 0))
    throw bad('logitScale', `must be finite and non-zero, got ${head.logitScale}`);
  if (head.softcap !== null && !(Number.isFinite(head.softcap) && head.softcap > 0))
    throw bad('softcap', `must be a positive number or null, got ${head.softcap}`);
  if (head.chunkSize !== undefined && !(Number.isInteger(head.chunkSize) && head.chunkSize >= 1)) {
    throw bad('chunkSize', `must be a positive integer, got ${head.chunkSize}`);
  }
}
