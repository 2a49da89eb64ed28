import { createReferenceBackend } from '@pref/adapter-reference';
import { nest, toHostTensor, valueAndGrad, type AnyObjective, type Batch, type ObjectiveState } from '@pref/core';

/**
 * Central finite differences of an objective's loss with respect to one input, on the float64
 * reference backend: `(L(x + h·e_i) − L(x − h·e_i)) / 2h` for every element.
 */
export async function finiteDifferenceGrad(
  objective: AnyObjective,
  batch: Batch,
  params: Readonly<Record<string, unknown>>,
  inputName: string,
  options: { readonly step?: number; readonly state?: ObjectiveState | null } = {},
): Promise<Float64Array> {
  const backend = createReferenceBackend({ kernels: 'js' });
  const h = options.step ?? 1e-6;
  const host = toHostTensor(inputName, batch[inputName]);
  const base = Float64Array.from(host.data);
  const grad = new Float64Array(base.length);
  const lossAt = async (values: Float64Array) => {
    const shifted = { ...batch, [inputName]: nest(values, host.shape) };
    return (await valueAndGrad(objective, shifted, params, { backend, state: options.state ?? null })).loss;
  };
  for (let i = 0; i < base.length; i++) {
    const plus = base.slice();
    const minus = base.slice();
    plus[i] += h;
    minus[i] -= h;
    grad[i] = ((await lossAt(plus)) - (await lossAt(minus))) / (2 * h);
  }
  return grad;
}

/** Largest `|a − b| / (atol + rtol·|b|)`; ≤ 1 means the arrays agree. */
export function worstMismatch(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol: number, atol: number): number {
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    worst = Math.max(worst, Math.abs(actual[i] - expected[i]) / (atol + rtol * Math.abs(expected[i])));
  }
  return worst;
}
