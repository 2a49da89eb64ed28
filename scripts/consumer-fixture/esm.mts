// ESM consumer: the published packages, imported as a user would, compute a loss and its gradient.
import { PrefError, valueAndGrad } from '@pref/core';
import { createReferenceBackend } from '@pref/adapter-reference';
import { slime } from '@pref/slime';

const backend = createReferenceBackend();
const result = await valueAndGrad(
  slime,
  { chosenLogps: [[-0.5, -1]], chosenMask: [[1, 1]], rejectedLogps: [[-2, -0.1]], rejectedMask: [[1, 1]] },
  { preset: 'paper' },
  { backend },
);
if (!Number.isFinite(result.loss)) throw new Error(`esm: loss ${result.loss}`);
const grad: ArrayLike<number> = result.grads.chosenLogps.data;
if (grad.length !== 2) throw new Error(`esm: gradient of length ${grad.length}`);
if (!(new PrefError('x') instanceof Error)) throw new Error('esm: PrefError is not an Error');
console.log(`esm ok: loss ${result.loss.toFixed(6)}`);
