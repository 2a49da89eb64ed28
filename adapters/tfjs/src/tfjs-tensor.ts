import type { BackendTensor, Shape } from '@pref/core';
import type { Tensor as TfTensor } from '@tensorflow/tfjs-core';
import type { FloatBlock } from '@pref/cpu-kernels';

/** A pref tensor of the tfjs backend: a handle on one `tf.Tensor` (float32 or int32). */
export class TfjsTensor implements BackendTensor {
  /** On a `tokenLogProbs` residual (the WebAssembly kernel): the softmax its gradient turns into the gradient. @internal */
  probs: FloatBlock | null = null;
  constructor(private current: TfTensor) {}

  get tensor(): TfTensor {
    return this.current;
  }

  get shape(): Shape {
    return this.current.shape;
  }

  get dtype(): 'float' | 'int32' {
    return this.current.dtype === 'int32' ? 'int32' : 'float';
  }

  /**
   * Points the handle at another `tf.Tensor` holding the same values: `tfjsLoss` moves core's
   * taped forward onto the copies tfjs saved for the gradient. @internal
   */
  rebind(tensor: TfTensor): void {
    this.current = tensor;
  }
}
