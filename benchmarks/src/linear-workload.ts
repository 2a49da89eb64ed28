import { PrefInputError, type Batch, type PrefBackend } from '@pref/core';
import type { ValueAndGradFn } from './bench-backends';
import { simpo } from '@pref/simpo';
import type { BenchCell, CellLinear, LinearBaseline, LinearOracleKind } from './bench-report';
import type { CheckedResult } from './compare-with-oracle';
import type { LinearBaselineRunner } from './linear-baseline';
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

/** Multiply-adds of one forward `hidden·Wᵀ`: `B·T·H·V` (the backward does about three times that). */
export function linearMultiplyAdds(shape: LinearShape): number {
  return shape[0] * shape[1] * shape[2] * shape[3];
}

/**
 * Largest forward (in multiply-adds) checked against the pure-TS float64 oracle: `linear-small`'s
 * 2^28, whose pure-TS check took 3.5 s on this project's 2-core machine; the next shapes are ~63×
 * that (minutes). Larger shapes are checked against the float64 reference backend with its
 * WebAssembly kernels (`{ backend: 'reference', precision: 64 }`, ~10 s on them), which the
 * hidden-state battery and the kernels' tests hold to the pure-TS oracle at 1e-9 / 1e-12.
 */
export const PURE_TS_ORACLE_MAX_MULTIPLY_ADDS = 2 ** 28;

/** The oracle a linear shape is checked against: `pure-ts` up to `limit` multiply-adds, else `wasm`. */
export function chooseLinearOracle(shape: LinearShape, limit = PURE_TS_ORACLE_MAX_MULTIPLY_ADDS): LinearOracleKind {
  return linearMultiplyAdds(shape) <= limit ? 'pure-ts' : 'wasm';
}

/** What each oracle is, for the cell notes. */
export const LINEAR_ORACLE_NOTES: Readonly<Record<LinearOracleKind, string>> = {
  'pure-ts': 'checked against the pure-TS float64 oracle (reference backend, kernels: js)',
  wasm: 'checked against the float64 reference backend with its WebAssembly kernels (the pure-TS oracle would take minutes on this shape; those kernels are tested against it)',
};

/**
 * Seconds one run of `shape` is predicted to take from an earlier shape's run (time per
 * multiply-add, scaled), or null without one.
 */
export function predictLinearSeconds(
  previous: { readonly seconds: number; readonly multiplyAdds: number } | undefined,
  shape: LinearShape,
): number | null {
  if (!previous || !(previous.multiplyAdds > 0)) return null;
  return (previous.seconds / previous.multiplyAdds) * linearMultiplyAdds(shape);
}

/** Fused median over the matmul + logits median (the target is ≤ 1.3). */
export function fusedRatio(fusedMs: number, baselineMs: number): number {
  return fusedMs / baselineMs;
}

const gib = (bytes: number) => `${(bytes / 2 ** 30).toFixed(2)} GiB`;

/**
 * Whether the matmul + logits baseline may run: null when it may, else why not — over the
 * WebAssembly memory limit, over 80% of the free memory, or predicted over the cell budget.
 */
export function baselineSkipReason(options: {
  readonly bytes: number;
  readonly limitBytes?: number;
  readonly freeBytes: number;
  readonly predictedSeconds: number | null;
  readonly budgetSeconds: number;
  readonly logitsBytes: number;
}): string | null {
  const { bytes, limitBytes, freeBytes, predictedSeconds, budgetSeconds, logitsBytes } = options;
  if (limitBytes !== undefined && bytes > limitBytes)
    return `needs ${gib(bytes)} (logits ${gib(logitsBytes)} and their gradient), over the ${gib(limitBytes)} WebAssembly memory limit`;
  if (bytes > 0.8 * freeBytes)
    return `needs ${gib(bytes)} (logits ${gib(logitsBytes)} and their gradient), over 80% of the ${gib(freeBytes)} free`;
  if (predictedSeconds !== null && predictedSeconds > budgetSeconds)
    return `predicted ${predictedSeconds.toFixed(0)} s per run, over the ${budgetSeconds} s cell budget`;
  return null;
}

/**
 * One linear cell: SimPO loss and gradients (both hidden states and the head's weight) from
 * `createLinearBatch(shape)` through `valueAndGrad` on the hidden-state path, checked against
 * the float64 oracle's result (`expected`, computed once per shape on the oracle's own
 * hidden-state path, which the hidden-state battery proves equal to the logits path on
 * `hidden·weightᵀ`), then timed. Beside it, where the backend can matmul and the logits fit, the
 * matmul + logits path on the same backend, checked against the same oracle and timed, and the
 * ratio of the medians. Peak memory of the first (cold) run is recorded too.
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
  const batch = context.batch ?? createLinearBatch(context.shape);
  const expected = context.expected;
  const oracleNote = LINEAR_ORACLE_NOTES[context.oracleKind] + (context.oracleNote ? ` (${context.oracleNote})` : '');
  const measured = await measureCell({
    run: () => context.valueAndGrad(simpo, batch, {}, { backend: context.backend }),
    oracle: expected,
    precision: context.precision,
    plan: context.plan,
    firstRunMemory: true,
  });
  context.onMeasured?.(measured.timing ? measured.timing.median / 1000 : measured.firstRunSeconds);
  const [rows, steps, , vocab] = context.shape;
  const logitsBytes = rows * steps * vocab * (context.precision === 32 ? 4 : 8);
  let baseline: LinearBaseline;
  if (measured.status !== 'ok') baseline = { status: 'skipped', reason: 'the fused cell did not pass its check' };
  else baseline = context.baseline ? await context.baseline() : { status: 'n/a', reason: 'no baseline given' };
  const ratio =
    measured.timing && baseline.status === 'ok' && baseline.timing ? fusedRatio(measured.timing.median, baseline.timing.median) : undefined;
  const linear: CellLinear = {
    oracle: context.oracleKind,
    multiplyAdds: linearMultiplyAdds(context.shape),
    ...(context.chunkSize && { chunkSize: context.chunkSize }),
    ...(measured.memory?.firstRunPeakRssDeltaBytes !== undefined && {
      firstRunPeakRssDeltaBytes: measured.memory.firstRunPeakRssDeltaBytes,
    }),
    baseline,
    ...(ratio !== undefined && { ratio }),
  };
  const notes = [
    oracleNote,
    ...measured.notes,
    `the logits path on this shape would hold [${rows}, ${steps}, ${vocab}] logits (${(logitsBytes / 2 ** 20).toFixed(0)} MiB) and a gradient of the same size`,
    ...(baseline.status === 'ok' || baseline.status === 'failed' ? [] : [`matmul + logits ${baseline.status}: ${baseline.reason ?? ''}`]),
    ...(baseline.notes ?? []),
  ];
  return {
    ...base,
    status: measured.status,
    ...(measured.reason !== undefined && { reason: measured.reason }),
    ...(measured.check && { check: measured.check }),
    ...(measured.timing && { timing: measured.timing }),
    ...(measured.memory && { memory: measured.memory }),
    linear,
    notes,
  };
}

/**
 * Measures a baseline runner like a cell (checked against `expected`, then timed), and frees it;
 * `secondsPerRun` (the timed median, else the checked run) feeds the next shape's prediction.
 */
export async function measureLinearBaseline(
  runner: LinearBaselineRunner,
  expected: CheckedResult,
  precision: 32 | 64,
  plan: CellPlan,
): Promise<LinearBaseline & { readonly secondsPerRun: number }> {
  try {
    const measured = await measureCell({ run: runner.run, oracle: expected, precision, plan, firstRunMemory: true });
    return {
      status: measured.status,
      method: runner.method,
      ...(measured.reason !== undefined && { reason: measured.reason }),
      ...(measured.check && { check: measured.check }),
      ...(measured.timing && { timing: measured.timing }),
      ...(measured.memory && {
        peakRssDeltaBytes: measured.memory.peakRssDeltaBytes,
        ...(measured.memory.firstRunPeakRssDeltaBytes !== undefined && {
          firstRunPeakRssDeltaBytes: measured.memory.firstRunPeakRssDeltaBytes,
        }),
      }),
      notes: [...runner.notes, ...measured.notes.map((n) => `matmul + logits: ${n}`)],
      secondsPerRun: measured.timing ? measured.timing.median / 1000 : measured.firstRunSeconds,
    };
  } finally {
    runner.dispose();
  }
}

/** Everything a linear cell gets from the runner. */
export interface LinearCellContext {
  readonly name: string;
  readonly shape: LinearShape;
  readonly backendId: string;
  readonly backend: PrefBackend;
  readonly precision: 32 | 64;
  /** The oracle's result on `batch` (loss and gradients). */
  readonly expected: CheckedResult;
  readonly oracleKind: LinearOracleKind;
  /** Added to the oracle note (e.g. that the oracle is this backend's own configuration). */
  readonly oracleNote?: string;
  /** The batch (default `createLinearBatch(shape)`; the oracle must have seen the same). */
  readonly batch?: Batch;
  readonly valueAndGrad: ValueAndGradFn;
  readonly plan: CellPlan;
  /** The probe's answer for this backend. */
  readonly support: HiddenStateSupport;
  /** The fused kernels' chunk sizes, where known. */
  readonly chunkSize?: { readonly forward: number; readonly backward: number };
  /** Runs the matmul + logits baseline (after the fused cell passed), or says why not. */
  readonly baseline?: () => Promise<LinearBaseline>;
  /** Called with the fused cell's seconds per run (the timed median; the checked run's when untimed), for predictions. */
  readonly onMeasured?: (seconds: number) => void;
}
