import { BufferUsage, MapMode } from './gpu-constants';
import { WebGpuError } from './web-gpu-error';
import { bucketBytes } from './buffer-pool';
import type { WebGpuLogger } from './web-gpu-logger';

/** A buffer range bound to a kernel (the whole buffer when `size` is omitted). */
export interface KernelBinding {
  readonly buffer: GPUBuffer;
  readonly offset?: number;
  readonly size?: number;
}

/** Bits kernels set in the status buffer when their input is invalid. */
export const STATUS_FLAGS = {
  gatherIndex: 1,
  scatterIndex: 2,
  tokenLabel: 4,
} as const;

const STATUS_MESSAGES: Record<number, string> = {
  [STATUS_FLAGS.gatherIndex]: 'gather: an index is outside the gathered axis',
  [STATUS_FLAGS.scatterIndex]: 'scatterAdd: an index is outside the output axis',
  [STATUS_FLAGS.tokenLabel]: 'tokenLogProbs: a label is outside [0, vocabulary size) and is not the ignore index',
};

const PARAMS_ARENA_BYTES = 1 << 16;
const MAX_PENDING_DISPATCHES = 512;
const MAX_STAGING_POOL_BYTES = 2 ** 30;
const ERROR_FILTERS: readonly GPUErrorFilter[] = ['validation', 'out-of-memory', 'internal'];

/**
 * Encodes kernel dispatches into one command buffer, submitted on `flush` (before a host
 * write, when a read needs results, or every few hundred dispatches). Small per-dispatch
 * parameters go into one arena buffer written just before the submit. Every device call runs
 * inside error scopes; the scopes' outcomes, device loss and the kernels' status flags are
 * checked before `readBuffers` returns any value, so a failure surfaces as an error.
 */
export class GpuExecutor {
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  private readonly paramsArena: GPUBuffer;
  private readonly paramsHost = new Uint32Array(PARAMS_ARENA_BYTES / 4);
  private paramsCursor = 0;
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private pendingDispatches = 0;
  private scopeResults: Promise<string | null>[] = [];
  private lostMessage: string | null = null;
  /** Mappable readback buffers kept for the next read (fresh ones cost a zero-fill each time). */
  private readonly stagingFree = new Map<number, GPUBuffer[]>();
  private stagingPooledBytes = 0;
  private uncaptured: string | null = null;
  /** Buffer kernels flag invalid inputs in (see `STATUS_FLAGS`). */
  readonly statusBuffer: GPUBuffer;
  readonly offsetAlignment: number;
  readonly maxWorkgroupsPerDimension: number;

  constructor(
    readonly device: GPUDevice,
    private readonly logger?: WebGpuLogger,
  ) {
    this.offsetAlignment = device.limits.minStorageBufferOffsetAlignment;
    this.maxWorkgroupsPerDimension = device.limits.maxComputeWorkgroupsPerDimension;
    this.paramsArena = device.createBuffer({
      size: PARAMS_ARENA_BYTES,
      usage: BufferUsage.STORAGE | BufferUsage.COPY_DST,
      label: 'pref params',
    });
    this.statusBuffer = device.createBuffer({
      size: 16,
      usage: BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST,
      label: 'pref status',
    });
    void device.lost.then((info) => {
      this.lostMessage = `webgpu: the GPU device was lost (${info.reason}): ${info.message}`;
      if (info.reason !== 'destroyed') this.logger?.warn(this.lostMessage);
    });
    device.addEventListener?.('uncapturederror', (event) => {
      this.uncaptured ??= `webgpu: ${(event as GPUUncapturedErrorEvent).error.message}`;
    });
  }

  /** Throws when the device is gone, so no primitive encodes work that cannot run. */
  checkAlive(): void {
    if (this.lostMessage) throw new WebGpuError(this.lostMessage);
  }

  private withScopes<R>(label: string, run: () => R): R {
    for (const filter of ERROR_FILTERS) this.device.pushErrorScope(filter);
    try {
      return run();
    } finally {
      for (let i = 0; i < ERROR_FILTERS.length; i++) {
        this.scopeResults.push(
          this.device.popErrorScope().then(
            (error) => (error ? `webgpu: ${label}: ${error.message}` : null),
            (error: Error) => `webgpu: ${label}: ${error.message}`,
          ),
        );
      }
    }
  }

  private pipeline(code: string, label: string): GPUComputePipeline {
    let pipeline = this.pipelines.get(code);
    if (!pipeline) {
      const module = this.device.createShaderModule({ code, label });
      if (this.logger) this.reportCompilation(module, label);
      pipeline = this.device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' }, label });
      this.pipelines.set(code, pipeline);
    }
    return pipeline;
  }

  /** Sends the WGSL compiler's messages about a kernel to the logger. */
  private reportCompilation(module: GPUShaderModule, label: string): void {
    const logger = this.logger!;
    void module.getCompilationInfo?.().then(
      (info) => {
        for (const m of info.messages) {
          const text = `webgpu: WGSL ${m.type} in kernel "${label}" at ${m.lineNum}:${m.linePos}: ${m.message}`;
          if (m.type === 'info') logger.info?.(text);
          else logger.warn(text);
        }
      },
      () => undefined,
    );
  }

  /**
   * Runs `code` (entry point `main`; binding 0 = `params` as `array<u32>`, then `bindings`
   * in order) over `workgroups` workgroups, laid out in 2D when they exceed one dimension:
   * kernels number their workgroup `wid.y * nwg.x + wid.x` and return past the end.
   */
  dispatch(label: string, code: string, params: ArrayLike<number>, bindings: readonly KernelBinding[], workgroups: number): void {
    this.checkAlive();
    if (workgroups <= 0) return;
    const paramBytes = Math.max(params.length, 1) * 4;
    if (this.paramsCursor + paramBytes > PARAMS_ARENA_BYTES || this.pendingDispatches >= MAX_PENDING_DISPATCHES) this.flush();
    const paramsOffset = this.paramsCursor;
    this.paramsHost.set(
      Array.from(params, (p) => p >>> 0),
      paramsOffset / 4,
    );
    this.paramsCursor += Math.ceil(paramBytes / this.offsetAlignment) * this.offsetAlignment;
    const perDimension = this.maxWorkgroupsPerDimension;
    const x = Math.min(workgroups, perDimension);
    const y = Math.ceil(workgroups / x);
    if (y > perDimension) throw new WebGpuError(`webgpu: ${label} needs ${workgroups} workgroups, more than ${perDimension}² per dispatch`);
    this.withScopes(label, () => {
      const pipeline = this.pipeline(code, label);
      const entries: GPUBindGroupEntry[] = [
        { binding: 0, resource: { buffer: this.paramsArena, offset: paramsOffset, size: paramBytes } },
        ...bindings.map((b, i) => ({ binding: i + 1, resource: { buffer: b.buffer, offset: b.offset ?? 0, size: b.size } })),
      ];
      const bindGroup = this.device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries, label });
      this.encoder ??= this.device.createCommandEncoder({ label: 'pref kernels' });
      this.pass ??= this.encoder.beginComputePass({ label: 'pref kernels' });
      this.pass.setPipeline(pipeline);
      this.pass.setBindGroup(0, bindGroup);
      this.pass.dispatchWorkgroups(x, y);
    });
    this.pendingDispatches++;
  }

  /** Submits the encoded dispatches. */
  flush(): void {
    if (!this.encoder) return;
    const encoder = this.encoder;
    const pass = this.pass;
    const paramWords = this.paramsCursor / 4;
    this.encoder = null;
    this.pass = null;
    this.pendingDispatches = 0;
    this.paramsCursor = 0;
    this.withScopes('submit', () => {
      pass?.end();
      if (paramWords > 0) this.device.queue.writeBuffer(this.paramsArena, 0, this.paramsHost, 0, paramWords);
      this.device.queue.submit([encoder.finish()]);
    });
  }

  /** Host data into `buffer`, after the dispatches encoded so far (which may still read it). */
  write(buffer: GPUBuffer, data: Float32Array | Int32Array | Uint32Array): void {
    this.checkAlive();
    this.flush();
    if (data.length === 0) return;
    this.withScopes('write', () => this.device.queue.writeBuffer(buffer, 0, data.buffer, data.byteOffset, data.byteLength));
  }

  /**
   * Copies each range to a mappable buffer and resolves with its bytes, once every scope,
   * the device and the status flags say the results are sound; otherwise rejects.
   */
  async readBuffers(ranges: readonly { buffer: GPUBuffer; byteLength: number }[]): Promise<ArrayBuffer[]> {
    this.checkAlive();
    this.flush();
    const staging = ranges.map((r) => (r.byteLength > 0 ? this.acquireStaging(r.byteLength) : null));
    const statusStaging = this.acquireStaging(16);
    this.withScopes('read', () => {
      const encoder = this.device.createCommandEncoder({ label: 'pref readback' });
      ranges.forEach((r, i) => {
        if (staging[i]) encoder.copyBufferToBuffer(r.buffer, 0, staging[i]!, 0, r.byteLength);
      });
      encoder.copyBufferToBuffer(this.statusBuffer, 0, statusStaging, 0, 16);
      encoder.clearBuffer(this.statusBuffer);
      this.device.queue.submit([encoder.finish()]);
    });
    const scopes = this.scopeResults;
    this.scopeResults = [];
    const all = [...staging, statusStaging];
    try {
      const mapped = await Promise.allSettled(all.map((b) => b?.mapAsync(MapMode.READ)));
      const errors = (await Promise.all(scopes)).filter((e): e is string => e !== null);
      if (this.lostMessage) throw new WebGpuError(this.lostMessage);
      if (errors.length) throw new WebGpuError(errors[0] + (errors.length > 1 ? ` (and ${errors.length - 1} more errors)` : ''));
      if (this.uncaptured) {
        const message = this.uncaptured;
        this.uncaptured = null;
        throw new WebGpuError(message);
      }
      const failedMap = mapped.find((m): m is PromiseRejectedResult => m.status === 'rejected');
      if (failedMap)
        throw new WebGpuError(`webgpu: reading results failed: ${(failedMap.reason as Error)?.message ?? String(failedMap.reason)}`);
      const status = new Uint32Array(statusStaging.getMappedRange().slice(0))[0];
      if (status !== 0) {
        const messages = Object.entries(STATUS_MESSAGES)
          .filter(([bit]) => status & Number(bit))
          .map(([, m]) => m);
        throw new WebGpuError(messages.join('; '));
      }
      return staging.map((b, i) => (b ? b.getMappedRange(0, ranges[i].byteLength).slice(0) : new ArrayBuffer(0)));
    } finally {
      for (const b of all) {
        if (!b) continue;
        if (b.mapState === 'mapped') b.unmap();
        this.releaseStaging(b);
      }
    }
  }

  private acquireStaging(bytes: number): GPUBuffer {
    const size = bucketBytes(bytes);
    const reused = this.stagingFree.get(size)?.pop();
    if (reused) {
      this.stagingPooledBytes -= size;
      return reused;
    }
    return this.device.createBuffer({ size, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST, label: 'pref readback' });
  }

  private releaseStaging(buffer: GPUBuffer): void {
    if (buffer.mapState !== 'unmapped' || this.lostMessage || this.stagingPooledBytes + buffer.size > MAX_STAGING_POOL_BYTES) {
      buffer.destroy();
      return;
    }
    const bucket = this.stagingFree.get(buffer.size) ?? [];
    bucket.push(buffer);
    this.stagingFree.set(buffer.size, bucket);
    this.stagingPooledBytes += buffer.size;
  }

  /** Readback buffers kept for reuse. */
  get stagingPooled(): number {
    let n = 0;
    for (const bucket of this.stagingFree.values()) n += bucket.length;
    return n;
  }

  destroy(): void {
    this.encoder = null;
    this.pass = null;
    this.paramsArena.destroy();
    this.statusBuffer.destroy();
    this.pipelines.clear();
    for (const bucket of this.stagingFree.values()) bucket.forEach((b) => b.destroy());
    this.stagingFree.clear();
    this.stagingPooledBytes = 0;
  }
}
