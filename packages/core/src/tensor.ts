import type { BackendTensor, Shape } from './pref-backend';

/** How a recorded tensor's gradient flows back to its inputs. */
export interface GradientNode {
  readonly inputs: readonly Tensor[];
  /** Input gradients from the output gradient; `null` for inputs that need none. */
  readonly backward: (outputGrad: Tensor) => readonly (Tensor | null)[];
}

let nextTensorId = 0;

/**
 * A tensor as objectives see it: a backend handle plus, when it depends on a
 * differentiable input, the tape node that produced it.
 */
export class Tensor {
  readonly id = nextTensorId++;
  constructor(
    readonly value: BackendTensor,
    readonly requiresGrad: boolean = false,
    readonly node: GradientNode | null = null,
    /** Set on differentiable inputs: the batch input this leaf stands for. */
    readonly inputName: string | null = null,
  ) {}

  get shape(): Shape {
    return this.value.shape;
  }

  get rank(): number {
    return this.value.shape.length;
  }
}
