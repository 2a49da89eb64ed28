import type { BackendTensor, Shape } from '@pref/core';
import type { Tensor as TfTensor } from '@tensorflow/tfjs-core';

/** A pref tensor of the tfjs backend: a handle on one `tf.Tensor` (float32 or int32). */
export class TfjsTensor implements BackendTensor {
  constructor(readonly tensor: TfTensor) {}

  get shape(): Shape {
    return this.tensor.shape;
  }

  get dtype(): 'float' | 'int32' {
    return this.tensor.dtype === 'int32' ? 'int32' : 'float';
  }
}
