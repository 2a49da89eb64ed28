import { PrefParamError, type Shape } from '@pref/core';
import { formatShape, type LinearHeadOptions, type LinearTokenLogProbsGrads, type TokenLogProbsResult } from '@pref/core/backend';
import { STATUS_FLAGS, type GpuExecutor, type KernelBinding } from './gpu-executor';
import type { WebGpuTensor } from './web-gpu-tensor';
import { WebGpuError } from './web-gpu-error';
import { floatBits } from './kernels/wgsl-common';
import {
  COLUMN_SUM_KERNEL,
  LINEAR_FORWARD_KERNEL,
  LINEAR_LOGITS_GRAD_KERNEL,
  TILE_M,
  TILE_N,
  linearCombineKernel,
  matmulKernel,
} from './kernels/linear-head-kernels';

/** What the head kernels need from the backend. */
export interface LinearHeadContext {
  readonly executor: GpuExecutor;
  readonly maxBindingBytes: number;
  allocate(shape: Shape, dtype: 'float' | 'int32'): WebGpuTensor;
  bind(t: WebGpuTensor, op: string): KernelBinding;
}

/** Largest `[rows, chunk]` gradient scratch the backward keeps (bytes), below the binding limit. */
const SCRATCH_BUDGET_BYTES = 64 * 2 ** 20;
/** Column tiles one forward workgroup folds into its online log-sum-exp (doubled when partials would not fit). */
const TILES_PER_GROUP = 4;

interface Chunk {
  readonly start: number;
  readonly cols: number;
  /** The weight range `[start, start + cols)` rows, bound from an aligned offset, and the element shift. */
  readonly offset: number;
  readonly size: number;
  readonly shift: number;
}

interface Plan {
  readonly rows: number;
  readonly hiddenSize: number;
  readonly vocab: number;
  readonly chunks: readonly Chunk[];
}

const MATMUL_A_ALONG_K = matmulKernel(true, false);
const MATMUL_A_ALONG_I = matmulKernel(false, false);

/**
 * The hidden-state path on WebGPU: `z = softcap(scale · (hidden · weightᵀ + bias))` in vocabulary
 * chunks whose weight rows fit `maxStorageBufferBindingSize`, never an `[N, V]` tensor. The
 * forward folds 64 × 64 tiles into an online log-sum-exp in workgroup memory; the backward
 * writes one chunk's logits gradient into a reused `[N, chunk]` scratch and multiplies it into
 * `dHidden`, `dWeight` and `dBias`.
 */
export class LinearHead {
  constructor(private readonly context: LinearHeadContext) {}

  /**
   * Vocabulary rows per chunk: `options.chunkSize`, else the most whose weight rows (and, for
   * the backward, `[N, chunk]` gradient scratch within 64 MiB) fit one binding, in whole tiles.
   */
  chunkSize(rows: number, hiddenSize: number, vocab: number, requested: number | undefined): number {
    const { maxBindingBytes, executor } = this.context;
    const byWeight = Math.floor((maxBindingBytes - executor.offsetAlignment) / (Math.max(hiddenSize, 1) * 4));
    const byScratch = Math.floor(Math.min(maxBindingBytes, SCRATCH_BUDGET_BYTES) / (Math.max(rows, 1) * 4));
    const fits = Math.min(byWeight, Math.floor(maxBindingBytes / (Math.max(rows, 1) * 4)));
    if (requested !== undefined) {
      if (!Number.isInteger(requested) || requested < 1) {
        throw new PrefParamError('chunkSize', `chunkSize must be a positive integer, got ${String(requested)}`);
      }
      if (Math.min(requested, vocab) > fits) {
        throw new PrefParamError(
          'chunkSize',
          `chunkSize ${requested} needs bindings past the device's maxStorageBufferBindingSize (${maxBindingBytes} bytes) for hidden size ${hiddenSize} and ${rows} rows; at most ${fits} fits`,
        );
      }
      return Math.min(requested, vocab);
    }
    const limit = Math.min(byWeight, byScratch);
    if (limit < 1) {
      throw new WebGpuError(
        `webgpu: linearTokenLogProbs: one weight row of ${hiddenSize} values or ${rows} rows of gradient scratch exceeds the device's maxStorageBufferBindingSize (${maxBindingBytes} bytes)`,
      );
    }
    if (limit >= vocab) return vocab;
    return limit >= TILE_N ? Math.floor(limit / TILE_N) * TILE_N : limit;
  }

  private plan(op: string, hidden: WebGpuTensor, weight: WebGpuTensor, labels: WebGpuTensor, chunkSize: number | undefined): Plan {
    const [vocab, hiddenSize] = weight.shape;
    const rows = labels.size;
    if (hidden.size !== rows * hiddenSize) {
      throw new WebGpuError(
        `webgpu: ${op}: hidden ${formatShape(hidden.shape)} does not hold ${rows} rows of ${hiddenSize} for labels ${formatShape(labels.shape)}`,
      );
    }
    const chunk = this.chunkSize(rows, hiddenSize, vocab, chunkSize);
    const align = this.context.executor.offsetAlignment;
    const chunks: Chunk[] = [];
    for (let start = 0; start < vocab; start += chunk) {
      const cols = Math.min(chunk, vocab - start);
      const startByte = start * hiddenSize * 4;
      const offset = Math.floor(startByte / align) * align;
      const shift = (startByte - offset) / 4;
      chunks.push({ start, cols, offset, size: Math.max(shift * 4 + cols * hiddenSize * 4, 4), shift });
    }
    return { rows, hiddenSize, vocab, chunks };
  }

  private headParams(
    plan: Plan,
    chunk: Chunk,
    options: LinearHeadOptions,
    hasBias: boolean,
    colGroups: number,
    tilesPerGroup: number,
    splitBase: number,
    totalSplits: number,
  ): number[] {
    return [
      plan.rows,
      plan.hiddenSize,
      chunk.cols,
      chunk.start,
      chunk.shift,
      options.ignoreIndex,
      floatBits(options.logitScale),
      floatBits(options.softcap ?? 0),
      colGroups,
      tilesPerGroup,
      splitBase,
      totalSplits,
      plan.vocab,
      hasBias ? 1 : 0,
    ];
  }

  private headBindings(
    op: string,
    hidden: WebGpuTensor,
    weight: WebGpuTensor,
    bias: WebGpuTensor | null,
    labels: WebGpuTensor,
    chunk: Chunk,
  ): KernelBinding[] {
    const { bind } = this.context;
    return [
      bind(hidden, op),
      { buffer: weight.storage.buffer, offset: chunk.offset, size: chunk.size },
      bind(bias ?? labels, op),
      bind(labels, op),
    ];
  }

  forward(
    hidden: WebGpuTensor,
    weight: WebGpuTensor,
    bias: WebGpuTensor | null,
    labels: WebGpuTensor,
    options: LinearHeadOptions,
  ): TokenLogProbsResult<WebGpuTensor> {
    const op = 'linearTokenLogProbs';
    const { executor, allocate, bind, maxBindingBytes } = this.context;
    const plan = this.plan(op, hidden, weight, labels, options.chunkSize);
    const logps = allocate(labels.shape, 'float');
    const logSumExp = allocate(labels.shape, 'float');
    if (plan.rows === 0) return { logps, logSumExp };
    if (plan.vocab === 0) throw new WebGpuError(`webgpu: ${op}: the weight ${formatShape(weight.shape)} has no vocabulary rows`);
    let tilesPerGroup = TILES_PER_GROUP;
    const groupsOf = (cols: number) => Math.ceil(Math.ceil(cols / TILE_N) / tilesPerGroup);
    const totalSplits = () => plan.chunks.reduce((n, c) => n + groupsOf(c.cols), 0);
    while (plan.rows * totalSplits() * 8 > maxBindingBytes && groupsOf(plan.chunks[0].cols) > 1) tilesPerGroup *= 2;
    const splits = totalSplits();
    const partials = allocate([plan.rows, splits, 2], 'float');
    const labelLogit = allocate(labels.shape, 'float');
    const rowTiles = Math.ceil(plan.rows / TILE_M);
    let splitBase = 0;
    try {
      for (const chunk of plan.chunks) {
        const colGroups = groupsOf(chunk.cols);
        executor.dispatch(
          op,
          LINEAR_FORWARD_KERNEL,
          this.headParams(plan, chunk, options, bias !== null, colGroups, tilesPerGroup, splitBase, splits),
          [...this.headBindings(op, hidden, weight, bias, labels, chunk), bind(partials, op), bind(labelLogit, op)],
          rowTiles * colGroups,
        );
        splitBase += colGroups;
      }
      executor.dispatch(
        op,
        linearCombineKernel(STATUS_FLAGS.tokenLabel),
        [plan.rows, splits, options.ignoreIndex, plan.vocab],
        [
          bind(labels, op),
          bind(partials, op),
          bind(labelLogit, op),
          bind(logps, op),
          bind(logSumExp, op),
          { buffer: executor.statusBuffer },
        ],
        Math.ceil(plan.rows / 256),
      );
    } finally {
      partials.dispose();
      labelLogit.dispose();
    }
    return { logps, logSumExp };
  }

  backward(
    hidden: WebGpuTensor,
    weight: WebGpuTensor,
    bias: WebGpuTensor | null,
    labels: WebGpuTensor,
    logSumExp: WebGpuTensor,
    upstream: WebGpuTensor,
    options: LinearHeadOptions,
  ): LinearTokenLogProbsGrads<WebGpuTensor> {
    const op = 'linearTokenLogProbsGrad';
    const { executor, allocate, bind } = this.context;
    const plan = this.plan(op, hidden, weight, labels, options.chunkSize);
    const dHidden = allocate(hidden.shape, 'float');
    const dWeight = allocate(weight.shape, 'float');
    const dBias = bias ? allocate(bias.shape, 'float') : null;
    const { rows, hiddenSize: h } = plan;
    if (rows === 0 || h === 0 || plan.vocab === 0) {
      for (const t of [dHidden, dWeight, dBias])
        if (t && t.size > 0) executor.dispatch(op, ZERO_KERNEL, [t.size], [bind(t, op)], Math.ceil(t.size / 256));
      return { hidden: dHidden, weight: dWeight, bias: dBias };
    }
    const widest = Math.max(...plan.chunks.map((c) => c.cols));
    const scratch = allocate([rows, widest], 'float');
    const rowTiles = Math.ceil(rows / TILE_M);
    try {
      plan.chunks.forEach((chunk, index) => {
        const colTiles = Math.ceil(chunk.cols / TILE_N);
        executor.dispatch(
          op,
          LINEAR_LOGITS_GRAD_KERNEL,
          this.headParams(plan, chunk, options, bias !== null, colTiles, 1, 0, 0),
          [...this.headBindings(op, hidden, weight, bias, labels, chunk), bind(logSumExp, op), bind(upstream, op), bind(scratch, op)],
          rowTiles * colTiles,
        );
        const weightRange = { buffer: weight.storage.buffer, offset: chunk.offset, size: chunk.size };
        // dHidden (+)= dPre [rows, cols] · W_chunk [cols, h]
        const hiddenTiles = Math.ceil(h / TILE_N);
        executor.dispatch(
          op,
          MATMUL_A_ALONG_K,
          [rows, h, chunk.cols, 0, chunk.cols, 1, chunk.shift, h, 1, 0, h, index > 0 ? 1 : 0, hiddenTiles],
          [bind(scratch, op), weightRange, bind(dHidden, op)],
          rowTiles * hiddenTiles,
        );
        // dWeight[chunk] = dPreᵀ [cols, rows] · hidden [rows, h]
        executor.dispatch(
          op,
          MATMUL_A_ALONG_I,
          [chunk.cols, h, rows, 0, 1, chunk.cols, 0, h, 1, chunk.shift, h, 0, hiddenTiles],
          [bind(scratch, op), bind(hidden, op), { buffer: dWeight.storage.buffer, offset: chunk.offset, size: chunk.size }],
          Math.ceil(chunk.cols / TILE_M) * hiddenTiles,
        );
        if (dBias) {
          executor.dispatch(
            op,
            COLUMN_SUM_KERNEL,
            [chunk.cols, rows, chunk.start],
            [bind(scratch, op), bind(dBias, op)],
            Math.ceil(chunk.cols / 256),
          );
        }
      });
    } finally {
      scratch.dispose();
    }
    return { hidden: dHidden, weight: dWeight, bias: dBias };
  }
}

const ZERO_KERNEL = `@group(0) @binding(0) var<storage, read> params: array<u32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let index = (wid.y * nwg.x + wid.x) * 256u + lid;
  if (index < params[0]) { out[index] = 0.0; }
}`;
