import type { ForwardContext, ObjectiveState, StateSchema, Tensor } from '@pref/core';

/** LMPO's running moments, passed between calls: a (`mean`), b (`std`) and the number of updates. */
export type LmpoState = ObjectiveState & {
  readonly mean: number;
  readonly std: number;
  readonly steps: number;
};

/** The fields of LMPO's state, checked by `valueAndGrad` before `forward` runs. */
export const LMPO_STATE_SCHEMA: StateSchema = {
  mean: { description: 'Running mean a of the margin.' },
  std: { description: 'Running std b of the margin.', min: 0 },
  steps: { description: 'Number of updates so far.', integer: true },
};

export interface RunningMomentParams {
  readonly emaDecay: number;
  readonly emaInit: 'first-batch' | 'zero';
}

export interface RunningMoments {
  /** a and b after this batch's update (scalars, no gradient). */
  readonly mean: Tensor;
  readonly std: Tensor;
  readonly state: { readonly mean: Tensor; readonly std: Tensor; readonly steps: number };
  /** a and b as passed in (before this batch's update); null on the first call. */
  readonly previous: { readonly mean: number; readonly std: number } | null;
}

/**
 * Updates the running moments with the batch mean μ and unbiased std s of `margin` (detached)
 * over every worker's rows: `a ← ρa + (1−ρ)μ`, `b ← ρb + (1−ρ)s`. Without a previous state, a and b
 * start at μ and s (`first-batch`) or at 0 (`zero`). A global batch of one pair has no std: b
 * keeps its value, and is 1 when there is none yet (no previous state). The one-pair rule is a
 * tensor `where` on the all-reduced row count, so every worker agrees without reading values.
 */
export function updateRunningMoments(
  ctx: ForwardContext,
  margin: Tensor,
  previous: ObjectiveState | null,
  params: RunningMomentParams,
): RunningMoments {
  const { ops } = ctx;
  const rows = ctx.globalRows(margin.shape[0]);
  const batchMean = ops.div(ctx.allReduceSum(ops.sum(margin)), rows);
  const squares = ctx.allReduceSum(ops.sum(ops.square(ops.sub(margin, batchMean))));
  const severalRows = ops.greater(rows, 1);
  const batchStd = ops.sqrt(ops.div(squares, ops.maximum(ops.sub(rows, 1), 1)));
  const rho = params.emaDecay;
  const decay = (running: Tensor | number, batch: Tensor) => ops.add(ops.mul(running, rho), ops.mul(batch, 1 - rho));

  let mean: Tensor;
  let std: Tensor;
  const state = previous as LmpoState | null;
  if (state) {
    mean = decay(state.mean, batchMean);
    std = ops.where(severalRows, decay(state.std, batchStd), state.std);
  } else if (params.emaInit === 'first-batch') {
    mean = batchMean;
    std = ops.where(severalRows, batchStd, 1);
  } else {
    mean = decay(0, batchMean);
    std = ops.where(severalRows, decay(0, batchStd), 1);
  }
  return {
    mean,
    std,
    state: { mean, std, steps: (state?.steps ?? 0) + 1 },
    previous: state ? { mean: state.mean, std: state.std } : null,
  };
}
