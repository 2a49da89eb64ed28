import { backward, TensorOps, type PrefBackend, type Tensor } from '@pref/core';
import { createReferenceBackend } from '../src';

export const backend: PrefBackend = createReferenceBackend();

export interface HostInput {
  readonly data: number[];
  readonly shape: number[];
}

/** Value of `build` (a scalar) at `inputs`, on the float64 reference backend. */
export async function evaluate(build: (ops: TensorOps, xs: Tensor[]) => Tensor, inputs: readonly HostInput[]): Promise<number> {
  const ops = new TensorOps(backend);
  const xs = inputs.map((x) => ops.constant(x.data, x.shape));
  const [value] = await backend.read([build(ops, xs).value]);
  return value[0];
}

/** Autodiff gradients of `build` with respect to every input. */
export async function autodiffGrads(build: (ops: TensorOps, xs: Tensor[]) => Tensor, inputs: readonly HostInput[]): Promise<number[][]> {
  const ops = new TensorOps(backend);
  const xs = inputs.map((x, i) => ops.wrap(backend.fromHost(x.data, x.shape), `x${i}`));
  const grads = backward(ops, build(ops, xs), xs);
  const values = await backend.read(grads.map((g, i) => (g ?? ops.zerosLike(xs[i])).value));
  return values.map((v) => Array.from(v));
}

/** Central finite differences of `build` with respect to every input element. */
export async function numericGrads(
  build: (ops: TensorOps, xs: Tensor[]) => Tensor,
  inputs: readonly HostInput[],
  step = 1e-6,
): Promise<number[][]> {
  const out: number[][] = [];
  for (let k = 0; k < inputs.length; k++) {
    const grad: number[] = [];
    for (let i = 0; i < inputs[k].data.length; i++) {
      const shifted = (delta: number) =>
        inputs.map((x, j) => (j === k ? { shape: x.shape, data: x.data.map((v, e) => (e === i ? v + delta : v)) } : x));
      grad.push(((await evaluate(build, shifted(step))) - (await evaluate(build, shifted(-step)))) / (2 * step));
    }
    out.push(grad);
  }
  return out;
}

/** Largest scaled mismatch between autodiff and finite differences (≤ 1 is agreement). */
export async function gradientMismatch(
  build: (ops: TensorOps, xs: Tensor[]) => Tensor,
  inputs: readonly HostInput[],
  rtol = 1e-5,
  atol = 1e-7,
): Promise<number> {
  const [auto, numeric] = await Promise.all([autodiffGrads(build, inputs), numericGrads(build, inputs)]);
  let worst = 0;
  auto.forEach((g, k) =>
    g.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - numeric[k][i]) / (atol + rtol * Math.abs(numeric[k][i]))))),
  );
  return worst;
}
