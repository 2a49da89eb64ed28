import { PrefError } from '@pref/core';

/** The GPU failed (validation, out of memory, device lost) or a kernel found an invalid input. */
export class WebGpuError extends PrefError {
  override name = 'WebGpuError';
}
