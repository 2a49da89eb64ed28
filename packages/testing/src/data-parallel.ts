import {
  simulateCollectives,
  sliceBatchRows,
  valueAndGrad,
  type AnyObjective,
  type Batch,
  type ObjectiveState,
  type PrefBackend,
  type ValueAndGradResult,
} from '@pref/core';

/**
 * Runs `batch` split by rows at `boundaries` (e.g. `[0, 1, 3, 4]` = 3 workers) on simulated
 * in-process workers, and returns each worker's result plus the gradients of all workers
 * concatenated back into batch order.
 */
export async function runDataParallel(
  objective: AnyObjective,
  batch: Batch,
  params: Readonly<Record<string, unknown>>,
  options: {
    readonly backend: PrefBackend;
    readonly rows: number;
    readonly boundaries: readonly number[];
    readonly state?: ObjectiveState | null;
  },
): Promise<{ workers: ValueAndGradResult[]; grads: Record<string, Float64Array> }> {
  const { boundaries, rows } = options;
  const collectives = simulateCollectives(boundaries.length - 1);
  const workers = await Promise.all(
    collectives.map((collective, rank) =>
      valueAndGrad(objective, sliceBatchRows(batch, rows, boundaries[rank], boundaries[rank + 1]), params, {
        backend: options.backend,
        collective,
        state: options.state ?? null,
      }),
    ),
  );
  const grads: Record<string, Float64Array> = {};
  for (const name of Object.keys(workers[0].grads)) {
    const parts = workers.map((w) => w.grads[name].data);
    const joined = new Float64Array(parts.reduce((n, p) => n + p.length, 0));
    let offset = 0;
    for (const p of parts) {
      joined.set(p, offset);
      offset += p.length;
    }
    grads[name] = joined;
  }
  return { workers, grads };
}
