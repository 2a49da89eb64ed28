import { expect } from 'vitest';
import { createReferenceBackend, type ReferenceBackend } from '@pref/adapter-reference';
import type { BackendTensor, PrefBackend } from '@pref/core';

export const reference: ReferenceBackend = createReferenceBackend({ precision: 64 });

/** Host values of a tensor made on `backend` from the same description on both backends. */
export type Build = (backend: PrefBackend) => BackendTensor;

/** Largest `|a − b| / (atol + rtol·|b|)`, counting equal values (NaN and ±∞ included) as agreeing. */
export function worstMismatch(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol: number, atol: number): number {
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    if (Object.is(actual[i], expected[i]) || (Number.isNaN(actual[i]) && Number.isNaN(expected[i]))) continue;
    worst = Math.max(worst, Math.abs(actual[i] - expected[i]) / (atol + rtol * Math.abs(expected[i])));
  }
  return Number.isNaN(worst) ? Infinity : worst;
}

/**
 * Runs `build` on the float64 reference and on `backend`, and expects the same shape, dtype and
 * values within float32 tolerance (`rtol`, `atol`).
 */
export async function expectSameAsReference(backend: PrefBackend, build: Build, rtol = 1e-4, atol = 1e-5): Promise<void> {
  const expected = build(reference) as ReturnType<ReferenceBackend['fill']>;
  const actual = build(backend);
  expect(actual.shape).toEqual(expected.shape);
  expect(actual.dtype).toBe(expected.dtype);
  const [want] = await reference.read([expected]);
  const [got] = await backend.read([actual]);
  backend.dispose(actual);
  if (expected.dtype === 'int32') {
    expect(Array.from(got)).toEqual(Array.from(want));
    return;
  }
  const mismatch = worstMismatch(got, want, rtol, atol);
  if (!(mismatch <= 1)) {
    expect.fail(
      `values differ beyond tolerance (worst ${mismatch.toFixed(2)}×): got ${Array.from(got).slice(0, 8).join(', ')}…, expected ${Array.from(want).slice(0, 8).join(', ')}…`,
    );
  }
}
