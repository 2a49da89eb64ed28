import { STORAGE_USAGE } from './gpu-constants';
import { WebGpuError } from './web-gpu-error';

/** Counters of the buffers a pool manages; `inUse + pooled` buffers exist on the device. */
export interface BufferPoolStats {
  /** Buffers created on the device since the pool started. */
  readonly created: number;
  /** Buffers destroyed (pool over its byte budget, or `clear`). */
  readonly destroyed: number;
  /** Buffers handed out and not yet released. */
  readonly inUse: number;
  /** Released buffers kept for reuse. */
  readonly pooled: number;
  readonly inUseBytes: number;
  readonly pooledBytes: number;
  /** Requests served from the pool instead of creating a buffer. */
  readonly reused: number;
  /** Of the buffers created, those of at least 1 MiB, and their bytes (core's `BackendBufferStats`). */
  readonly largeBufferAllocations: number;
  readonly largeBufferBytes: number;
}

const MIN_BUCKET_BYTES = 256;

/** Size class of a request: powers of two up to 1 MiB, then steps of an eighth of an octave. */
export function bucketBytes(bytes: number): number {
  const size = Math.max(bytes, MIN_BUCKET_BYTES);
  const octave = 2 ** Math.ceil(Math.log2(size));
  if (octave <= 1 << 20) return octave;
  const step = octave / 16;
  return Math.ceil(size / step) * step;
}

/**
 * Storage buffers reused across calls, bucketed by size. A released buffer goes back to its
 * bucket (or is destroyed when the pool holds more than `maxPooledBytes`); `clear` destroys
 * every pooled buffer.
 */
export class BufferPool {
  private readonly free = new Map<number, GPUBuffer[]>();
  private readonly handedOut = new Set<GPUBuffer>();
  private counts = {
    created: 0,
    destroyed: 0,
    reused: 0,
    pooledBytes: 0,
    inUseBytes: 0,
    pooled: 0,
    largeBufferAllocations: 0,
    largeBufferBytes: 0,
  };

  constructor(
    private readonly device: GPUDevice,
    private readonly maxPooledBytes: number,
    private readonly maxBufferBytes: number,
  ) {}

  acquire(bytes: number): GPUBuffer {
    const size = bucketBytes(bytes);
    if (size > this.maxBufferBytes) {
      throw new WebGpuError(`webgpu: a tensor of ${bytes} bytes exceeds the device's maxBufferSize (${this.maxBufferBytes} bytes)`);
    }
    const bucket = this.free.get(size);
    let buffer = bucket?.pop();
    if (buffer) {
      this.counts.reused++;
      this.counts.pooled--;
      this.counts.pooledBytes -= size;
    } else {
      buffer = this.device.createBuffer({ size, usage: STORAGE_USAGE, label: 'pref tensor' });
      this.counts.created++;
      if (size >= 1 << 20) {
        this.counts.largeBufferAllocations++;
        this.counts.largeBufferBytes += size;
      }
    }
    this.handedOut.add(buffer);
    this.counts.inUseBytes += size;
    return buffer;
  }

  release(buffer: GPUBuffer): void {
    if (!this.handedOut.delete(buffer)) return;
    const size = buffer.size;
    this.counts.inUseBytes -= size;
    if (this.counts.pooledBytes + size > this.maxPooledBytes) {
      buffer.destroy();
      this.counts.destroyed++;
      return;
    }
    const bucket = this.free.get(size) ?? [];
    bucket.push(buffer);
    this.free.set(size, bucket);
    this.counts.pooled++;
    this.counts.pooledBytes += size;
  }

  /** Destroys the pooled buffers (buffers in use stay valid). */
  clear(): void {
    for (const bucket of this.free.values()) {
      for (const buffer of bucket) {
        buffer.destroy();
        this.counts.destroyed++;
      }
    }
    this.free.clear();
    this.counts.pooled = 0;
    this.counts.pooledBytes = 0;
  }

  stats(): BufferPoolStats {
    return { ...this.counts, inUse: this.handedOut.size };
  }
}
