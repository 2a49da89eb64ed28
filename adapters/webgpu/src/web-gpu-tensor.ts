import type { BackendTensor, Shape } from '@pref/core';

/**
 * A GPU buffer shared by a tensor and its reshaped views. Owned storage returns to the pool
 * when its last view is disposed; adopted storage (the user's `GPUBuffer`) is never released.
 */
export class GpuStorage {
  private views = 1;
  constructor(
    readonly buffer: GPUBuffer,
    /** Bytes holding the tensor's values (the buffer may be larger). */
    readonly byteLength: number,
    readonly owned: boolean,
    private readonly onRelease: (storage: GpuStorage) => void,
  ) {}

  retain(): this {
    this.views++;
    return this;
  }

  release(): void {
    if (--this.views === 0) this.onRelease(this);
  }
}

/** A tensor of the WebGPU backend: row-major float32 or int32 values in a storage buffer. */
export class WebGpuTensor implements BackendTensor {
  private disposed = false;
  constructor(
    readonly shape: Shape,
    readonly dtype: 'float' | 'int32',
    readonly storage: GpuStorage,
  ) {}

  get size(): number {
    let n = 1;
    for (const d of this.shape) n *= d;
    return n;
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  /** Drops this view's hold on the storage; a second call does nothing. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.storage.release();
  }
}
