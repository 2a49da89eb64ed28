import type { BackendTensor, Shape } from './pref-backend';
import type { TensorLike, TensorOps } from './tensor-ops';
import { PrefError } from './pref-error';

/** How a recorded tensor's gradient flows back to its inputs. */
export interface GradientNode {
  readonly inputs: readonly Tensor[];
  /** Input gradients from the output gradient; `null` for inputs that need none. */
  readonly backward: (outputGrad: Tensor) => readonly (Tensor | null)[];
}

let nextTensorId = 0;
type Axes = number | readonly number[];

/**
 * A tensor as objectives see it: a backend handle plus, when it depends on a
 * differentiable input, the tape node that produced it.
 *
 * Its methods are the `TensorOps` it was made with, so math reads left to right and is
 * recorded on the same tape: `logps.neg().sub(delta).softplus().pow(p)` is
 * `ops.pow(ops.softplus(ops.sub(ops.neg(logps), delta)), p)`.
 */
export class Tensor {
  readonly id = nextTensorId++;
  constructor(
    readonly value: BackendTensor,
    readonly requiresGrad: boolean = false,
    readonly node: GradientNode | null = null,
    /** Set on differentiable inputs: the batch input this leaf stands for. */
    readonly inputName: string | null = null,
    /** The ops that made it (its methods run through them); `null` for a bare handle. */
    private readonly ops: TensorOps | null = null,
  ) {}

  get shape(): Shape {
    return this.value.shape;
  }

  get rank(): number {
    return this.value.shape.length;
  }

  private get o(): TensorOps {
    if (!this.ops) throw new PrefError('this tensor was not made by TensorOps, so it has no methods; use ctx.ops.<op>(tensor, ...)');
    return this.ops;
  }

  neg(): Tensor {
    return this.o.neg(this);
  }
  exp(): Tensor {
    return this.o.exp(this);
  }
  log(): Tensor {
    return this.o.log(this);
  }
  log1p(): Tensor {
    return this.o.log1p(this);
  }
  expm1(): Tensor {
    return this.o.expm1(this);
  }
  sigmoid(): Tensor {
    return this.o.sigmoid(this);
  }
  softplus(): Tensor {
    return this.o.softplus(this);
  }
  logSigmoid(): Tensor {
    return this.o.logSigmoid(this);
  }
  relu(): Tensor {
    return this.o.relu(this);
  }
  square(): Tensor {
    return this.o.square(this);
  }
  sqrt(): Tensor {
    return this.o.sqrt(this);
  }
  abs(): Tensor {
    return this.o.abs(this);
  }

  add(b: TensorLike): Tensor {
    return this.o.add(this, b);
  }
  sub(b: TensorLike): Tensor {
    return this.o.sub(this, b);
  }
  mul(b: TensorLike): Tensor {
    return this.o.mul(this, b);
  }
  div(b: TensorLike): Tensor {
    return this.o.div(this, b);
  }
  pow(b: TensorLike): Tensor {
    return this.o.pow(this, b);
  }
  maximum(b: TensorLike): Tensor {
    return this.o.maximum(this, b);
  }
  minimum(b: TensorLike): Tensor {
    return this.o.minimum(this, b);
  }

  greater(b: TensorLike): Tensor {
    return this.o.greater(this, b);
  }
  greaterEqual(b: TensorLike): Tensor {
    return this.o.greaterEqual(this, b);
  }
  less(b: TensorLike): Tensor {
    return this.o.less(this, b);
  }
  lessEqual(b: TensorLike): Tensor {
    return this.o.lessEqual(this, b);
  }
  equal(b: TensorLike): Tensor {
    return this.o.equal(this, b);
  }
  /** `this ? a : b` elementwise (this is a 0/1 mask). */
  where(a: TensorLike, b: TensorLike): Tensor {
    return this.o.where(this, a, b);
  }

  sum(axes?: Axes, keepDims = false): Tensor {
    return this.o.sum(this, axes, keepDims);
  }
  mean(axes?: Axes, keepDims = false): Tensor {
    return this.o.mean(this, axes, keepDims);
  }
  max(axes?: Axes, keepDims = false): Tensor {
    return this.o.max(this, axes, keepDims);
  }

  reshape(shape: Shape): Tensor {
    return this.o.reshape(this, shape);
  }
  broadcastTo(shape: Shape): Tensor {
    return this.o.broadcastTo(this, shape);
  }
  slice(begin: readonly number[], size: readonly number[]): Tensor {
    return this.o.slice(this, begin, size);
  }
  gather(indices: Tensor, axis = -1): Tensor {
    return this.o.gather(this, indices, axis);
  }
  /** The same values with no gradient flowing back. */
  stopGradient(): Tensor {
    return this.o.stopGradient(this);
  }
}
