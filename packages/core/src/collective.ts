import type { Batch } from './prepare-batch';
import { toHostTensor } from './host-tensor';
import { sizeOf } from './broadcast-shape';

/**
 * A data-parallel collective: how workers sum host values. Plug in your trainer's all-reduce
 * (NCCL via a bridge, MPI, WebSocket, ...); `simulateCollectives` gives in-process workers.
 */
export interface Collective {
  readonly worldSize: number;
  readonly rank: number;
  /** Element-wise sum of `values` over all workers; every worker calls it with the same length. */
  allReduceSum(values: Float64Array): Promise<Float64Array>;
}

/** `worldSize` in-process workers whose all-reduce waits for all of them (for tests and demos). */
export function simulateCollectives(worldSize: number): Collective[] {
  let round: { contributions: Float64Array[]; arrived: number; resolve: ((sum: Float64Array) => void)[] } | null = null;
  const collectives: Collective[] = [];
  for (let rank = 0; rank < worldSize; rank++) {
    collectives.push({
      worldSize,
      rank,
      allReduceSum(values) {
        round ??= { contributions: new Array(worldSize), arrived: 0, resolve: [] };
        const current = round;
        if (current.contributions[rank]) throw new Error(`worker ${rank} called allReduceSum twice in one round`);
        current.contributions[rank] = values;
        current.arrived++;
        const result = new Promise<Float64Array>((resolve) => current.resolve.push(resolve));
        if (current.arrived === worldSize) {
          round = null;
          const length = values.length;
          const sum = new Float64Array(length);
          for (const c of current.contributions) {
            if (c.length !== length) throw new Error('allReduceSum called with different lengths on different workers');
            for (let i = 0; i < length; i++) sum[i] += c[i];
          }
          for (const resolve of current.resolve) resolve(sum.slice());
        }
        return result;
      },
    });
  }
  return collectives;
}

/**
 * Rows `[begin, end)` of every input of a host batch (inputs whose first axis has `rows`
 * entries are cut; scalars and others are kept), to split a batch over workers.
 */
export function sliceBatchRows(batch: Batch, rows: number, begin: number, end: number): Batch {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(batch)) {
    const host = toHostTensor(name, value);
    if (host.shape.length === 0 || host.shape[0] !== rows) {
      out[name] = value;
      continue;
    }
    const rowSize = sizeOf(host.shape.slice(1));
    out[name] = {
      data: Array.from(host.data).slice(begin * rowSize, end * rowSize),
      shape: [end - begin, ...host.shape.slice(1)],
    };
  }
  return out;
}
