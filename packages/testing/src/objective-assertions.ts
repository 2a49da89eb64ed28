import { expect } from 'vitest';
import { valueAndGrad, type AnyObjective, type Batch, type ObjectiveState, type PrefBackend } from '@pref/core';
import { finiteDifferenceGrad, worstMismatch } from './finite-differences';
import { runDataParallel } from './data-parallel';

type Params = Readonly<Record<string, unknown>>;
type Rows = readonly (readonly number[])[];

/** Autodiff gradients with respect to `inputs` agree with central finite differences (float64). */
export async function expectGradientsMatchFiniteDifferences(
  objective: AnyObjective,
  batch: Batch,
  params: Params,
  options: {
    readonly backend: PrefBackend;
    readonly inputs: readonly string[];
    readonly rtol?: number;
    readonly atol?: number;
    readonly state?: ObjectiveState | null;
  },
): Promise<void> {
  const result = await valueAndGrad(objective, batch, params, { backend: options.backend, state: options.state ?? null });
  for (const name of options.inputs) {
    const numeric = await finiteDifferenceGrad(objective, batch, params, name, { state: options.state ?? null });
    expect(worstMismatch(result.grads[name].data, numeric, options.rtol ?? 1e-4, options.atol ?? 1e-6), name).toBeLessThanOrEqual(1);
  }
}

/**
 * Replacing every masked-out value of the named `[N, T]` inputs by `junk` changes nothing: the
 * loss, the metrics and every gradient are identical to the last bit.
 */
export async function expectMaskedValuesIgnored(
  objective: AnyObjective,
  batch: Batch,
  params: Params,
  options: { readonly backend: PrefBackend; readonly masked: Readonly<Record<string, string>>; readonly junk: number },
): Promise<void> {
  const base = await valueAndGrad(objective, batch, params, { backend: options.backend });
  const scrambled: Record<string, unknown> = { ...batch };
  for (const [input, maskName] of Object.entries(options.masked)) {
    const mask = batch[maskName] as Rows;
    scrambled[input] = (batch[input] as Rows).map((row, b) => row.map((v, t) => (mask[b][t] ? v : options.junk)));
  }
  const again = await valueAndGrad(objective, scrambled, params, { backend: options.backend });
  expect(again.loss).toBe(base.loss);
  expect(again.metrics).toEqual(base.metrics);
  for (const name of Object.keys(base.grads)) {
    expect(Array.from(again.grads[name].data), name).toEqual(Array.from(base.grads[name].data));
  }
}

/** Split over simulated workers at `boundaries`, every worker reports the single-worker loss and metrics, and the gradients agree. */
export async function expectDataParallelAgreement(
  objective: AnyObjective,
  batch: Batch,
  params: Params,
  options: {
    readonly backend: PrefBackend;
    readonly rows: number;
    readonly boundaries: readonly number[];
    /** Decimal digits of loss and metric agreement (default 12). */
    readonly digits?: number;
    /** Gradient tolerance (default 1e-12 relative, 1e-15 absolute). */
    readonly gradRtol?: number;
    readonly gradAtol?: number;
    readonly state?: ObjectiveState | null;
  },
): Promise<void> {
  const state = options.state ?? null;
  const single = await valueAndGrad(objective, batch, params, { backend: options.backend, state });
  const { workers, grads } = await runDataParallel(objective, batch, params, { ...options, state });
  const digits = options.digits ?? 12;
  for (const worker of workers) {
    expect(worker.loss).toBeCloseTo(single.loss, digits);
    for (const [name, value] of Object.entries(single.metrics)) expect(worker.metrics[name], name).toBeCloseTo(value, digits);
  }
  for (const name of Object.keys(single.grads)) {
    expect(
      worstMismatch(grads[name], single.grads[name].data, options.gradRtol ?? 1e-12, options.gradAtol ?? 1e-15),
      name,
    ).toBeLessThanOrEqual(1);
  }
}

/** The masks of the pairwise log-prob inputs, for `expectMaskedValuesIgnored`. */
export const PAIRWISE_MASKS = { chosenLogps: 'chosenMask', rejectedLogps: 'rejectedMask' } as const;
