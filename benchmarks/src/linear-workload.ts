import { PrefInputError, type Batch, type PrefBackend } from '@pref/core';
import type { ValueAndGradFn } from './bench-backends';
import { simpo } from '@pref/simpo';
import type { BenchCell } from './bench-report';
import type { CellPlan } from './measure-cell';
import { seededFloats, seededUniform } from './seeded-values';

/** `[B, T, H, V]`: rows, time steps, hidden size, vocabulary (the LM head's weight is `[V, H]`). */
export type LinearShape = readonly [rows: number, steps: number, hidden: number, vocab: number];

/**
 * Shapes of the linear (hidden-state) workload: the loss from `hidden [B, T, H]` and the LM
 * head's `weight [V, H]`, the logits never materialised. `linear-vocab` is a 128k vocabulary.
 */
export const LINEAR_SHAPES: Readonly<Record<'linear-small' | 'linear-medium' | 'linear-vocab', LinearShape>> = {
  'linear-small': [8, 128, 64, 4096],
  'linear-medium': [8, 256, 256, 32000],
  'linear-vocab': [4, 512, 64, 128256],
};

/** The reason every linear cell gives while core has no hidden-state inputs. */
export const LINEAR_UNAVAILABLE = 'not available: this core has no hidden-state path';

/** The reason once core accepts hidden-state inputs but the measurement below is not written yet. */
export const LINEAR_NOT_MEASURED =
  'core accepts hidden-state inputs, but this benchmark does not measure them yet (extension point: measureLinearCell in benchmarks/src/linear-workload.ts)';

/**
 * A hidden-state batch of `shape` in the form core is to accept: the `B` rows split into `B/2`
 * chosen and `B/2` rejected completions like the logits workload (`chosenHidden` /
 * `rejectedHidden` `[B/2, T, H]` with `chosenLabels` / `rejectedLabels` `[B/2, T]`), and
 * `lmHead: { weight: [V, H] }` (no bias). Float32-exact values, deterministic.
 */
export function createLinearBatch(shape: LinearShape, seed = 1): Batch {
  const [rows, steps, hidden, vocab] = shape;
  if (!(rows >= 2 && rows % 2 === 0) || !(steps >= 1) || !(hidden >= 1) || !(vocab >= 2)) {
    throw new RangeError(`linear shape must be [B, T, H, V] with B even ≥ 2, T, H ≥ 1, V ≥ 2; got [${shape.join(', ')}]`);
  }
  const half = rows / 2;
  const labels = (offset: number) => {
    const next = seededUniform(seed + offset);
    return { data: Int32Array.from({ length: half * steps }, () => Math.floor(next() * vocab)), shape: [half, steps] };
  };
  const scale = 1 / Math.sqrt(hidden);
  return {
    chosenHidden: { data: seededFloats(half * steps * hidden, seed, -1, 1), shape: [half, steps, hidden] },
    chosenLabels: labels(1),
    rejectedHidden: { data: seededFloats(half * steps * hidden, seed + 2, -1, 1), shape: [half, steps, hidden] },
    rejectedLabels: labels(3),
    lmHead: { weight: { data: seededFloats(vocab * hidden, seed + 4, -scale, scale), shape: [vocab, hidden] } },
  };
}

/** Whether `backend` (through `valueAndGrad`) takes hidden-state inputs, and if not, why. */
export type HiddenStateSupport = { readonly available: true } | { readonly available: false; readonly reason: string };

/**
 * Asks core, with a tiny hidden-state batch (`[2, 4, 8, 16]`), whether it takes hidden-state
 * inputs on `backend`. Core rejecting the inputs (a `PrefInputError`: unknown input
 * `chosenHidden`, ...) means this core has no hidden-state path; any other error is reported
 * as it is.
 */
export async function probeHiddenStatePath(backend: PrefBackend, valueAndGrad: ValueAndGradFn): Promise<HiddenStateSupport> {
  try {
    await valueAndGrad(simpo, createLinearBatch([2, 4, 8, 16]), {}, { backend });
    return { available: true };
  } catch (error) {
    const message = String((error as Error).message ?? error).split('\n')[0];
    if (error instanceof PrefInputError || (error as Error)?.name === 'PrefInputError') {
      // The first clause names the input ("unknown input chosenHidden"); the rest lists the schema.
      return { available: false, reason: `${LINEAR_UNAVAILABLE} (core: ${message.split(';')[0]})` };
    }
    return { available: false, reason: `the hidden-state probe failed on this backend: ${message}` };
  }
}

/**
 * The extension point for the linear workload. Today it measures nothing: every cell is
 * skipped with `LINEAR_UNAVAILABLE` (core rejected the inputs) or `LINEAR_NOT_MEASURED`.
 *
 * To implement it once core has `chosenHidden` / `lmHead`: build `createLinearBatch(shape)`,
 * compute the float64 oracle's result on it, then `measureCell` with
 * `run: () => valueAndGrad(simpo, batch, {}, { backend })` like the logits cell in
 * `run-benchmarks.ts` (the check covers `grads.chosenHidden`, `grads.rejectedHidden` and the
 * head's weight gradient), and add bandwidth and FLOP columns: traffic ≈ read the weight
 * `V·H` twice and the hidden states `B·T·H` twice, write both gradients once; work ≈
 * `3 · 2·B·T·H·V` multiply-adds (forward logits, then the hidden and weight gradients).
 */
export async function measureLinearCell(context: LinearCellContext): Promise<BenchCell> {
  const { support } = context;
  return {
    workload: 'linear',
    case: context.name,
    backend: context.backendId,
    status: 'skipped',
    reason: support.available ? LINEAR_NOT_MEASURED : support.reason,
    shape: [...context.shape],
    precision: context.precision,
  };
}

/** Everything a linear cell gets from the runner (more than the skeleton uses, for the implementation to come). */
export interface LinearCellContext {
  readonly name: string;
  readonly shape: LinearShape;
  readonly backendId: string;
  readonly backend: PrefBackend;
  readonly precision: 32 | 64;
  /** The float64 oracle backend the result is to be checked against. */
  readonly oracle: PrefBackend;
  readonly valueAndGrad: ValueAndGradFn;
  readonly plan: CellPlan;
  /** The probe's answer for this backend. */
  readonly support: HiddenStateSupport;
}
