import { PrefInputError, type Batch, type PrefBackend } from '@pref/core';
import type { ValueAndGradFn } from './bench-backends';
import { simpo } from '@pref/simpo';
import type { BenchCell } from './bench-report';
import { measureCell, type CellPlan } from './measure-cell';
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
 * One linear cell: SimPO loss and gradients (both hidden states and the head's weight) from
 * `createLinearBatch(shape)` through `valueAndGrad` on the hidden-state path, checked against
 * the float64 oracle before it is timed. The oracle computes the same batch on its own
 * hidden-state path (the float64 TypeScript rows, which the hidden-state battery proves equal to
 * the logits path on `hidden·weightᵀ`), so no `[B, T, V]` tensor is built even for
 * `linear-vocab` (its float64 logits alone would be 2 GiB). Peak memory is measured like the
 * other workloads; a note gives the size the logits path's logits would have.
 */
export async function measureLinearCell(context: LinearCellContext): Promise<BenchCell> {
  const { support } = context;
  const base = {
    workload: 'linear' as const,
    case: context.name,
    backend: context.backendId,
    shape: [...context.shape],
    precision: context.precision,
  };
  if (!support.available) return { ...base, status: 'skipped', reason: support.reason };
  const batch = createLinearBatch(context.shape);
  let oracle: Awaited<ReturnType<ValueAndGradFn>>;
  try {
    oracle = await context.valueAndGrad(simpo, batch, {}, { backend: context.oracle });
  } catch (error) {
    return { ...base, status: 'failed', reason: `the float64 oracle failed: ${String((error as Error).message ?? error).split('\n')[0]}` };
  }
  const measured = await measureCell({
    run: () => context.valueAndGrad(simpo, batch, {}, { backend: context.backend }),
    oracle,
    precision: context.precision,
    plan: context.plan,
  });
  const [rows, steps, , vocab] = context.shape;
  const logitsBytes = rows * steps * vocab * (context.precision === 32 ? 4 : 8);
  const notes = [
    ...measured.notes,
    `the logits path on this shape would hold [${rows}, ${steps}, ${vocab}] logits (${(logitsBytes / 2 ** 20).toFixed(0)} MiB) and a gradient of the same size`,
  ];
  return {
    ...base,
    status: measured.status,
    ...(measured.reason !== undefined && { reason: measured.reason }),
    ...(measured.check && { check: measured.check }),
    ...(measured.timing && { timing: measured.timing }),
    ...(measured.memory && { memory: measured.memory }),
    notes,
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
