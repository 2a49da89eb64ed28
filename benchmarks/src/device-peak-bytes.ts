import type { PrefBackend } from '@pref/core';

interface TfProfileInfo {
  readonly peakBytes: number;
}
interface TfjsProfiler {
  readonly tf?: { profile?: (run: () => Promise<unknown>) => Promise<TfProfileInfo> };
}

/**
 * A way to measure the peak device bytes of one call on `backend`, or null where the backend
 * cannot say. tfjs backends (`backend.tf`) use `tf.profile`, whose `peakBytes` counts tensor
 * memory held by tfjs (CPU arrays, WASM heap or GPU buffers) during the call.
 */
export function devicePeakBytesProbe(backend: PrefBackend): ((run: () => Promise<unknown>) => Promise<number>) | null {
  const tf = (backend as unknown as TfjsProfiler).tf;
  if (typeof tf?.profile !== 'function') return null;
  const profile = tf.profile.bind(tf);
  return async (run) => (await profile(run)).peakBytes;
}
