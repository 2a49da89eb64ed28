/**
 * WebGPU enum values from the specification. Dawn in Node does not put `GPUBufferUsage` on
 * `globalThis` unless asked to, and this package has no import-time side effects, so the
 * numbers are spelled out here.
 */
export const BufferUsage = {
  MAP_READ: 0x0001,
  COPY_SRC: 0x0004,
  COPY_DST: 0x0008,
  UNIFORM: 0x0040,
  STORAGE: 0x0080,
} as const;

export const MapMode = { READ: 0x0001 } as const;

/** Usage of every buffer the pool hands out. */
export const STORAGE_USAGE = BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST;
