import { readFileSync, writeFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';

/** How the peak resident set was observed. */
export type PeakMemoryMethod = 'vmhwm' | 'sampled';

export interface PeakMemory<T> {
  readonly result: T;
  /** Peak resident set size during the call minus the resident set size just before it. */
  readonly peakRssDeltaBytes: number;
  readonly method: PeakMemoryMethod;
}

function statusKilobytes(field: 'VmRSS' | 'VmHWM'): number | null {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync('/proc/self/status', 'utf8'));
    return match ? Number(match[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** Resets the kernel's peak-RSS counter (Linux ≥ 4.0: writing 5 to `clear_refs`); false where that is not possible. */
function resetHighWaterMark(): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return statusKilobytes('VmHWM') !== null;
  } catch {
    return false;
  }
}

const SAMPLER_SOURCE = `
const { workerData } = require('node:worker_threads');
const peak = new Float64Array(workerData);
const sample = () => { const rss = process.memoryUsage.rss(); if (rss > peak[0]) peak[0] = rss; };
sample();
setInterval(sample, 1);
`;

/**
 * Calls `run` and reports the peak extra resident memory of the whole process (worker threads
 * included) while it ran. On Linux the kernel's high-water mark is reset first (exact, no
 * overhead); elsewhere a worker thread samples the RSS every millisecond (it keeps sampling
 * while the main thread is busy in synchronous code).
 */
export async function measurePeakMemory<T>(
  run: () => Promise<T>,
  options: { readonly method?: 'auto' | PeakMemoryMethod } = {},
): Promise<PeakMemory<T>> {
  const method = options.method ?? 'auto';
  if (method !== 'sampled' && resetHighWaterMark()) {
    const before = statusKilobytes('VmRSS')!;
    const result = await run();
    const peak = statusKilobytes('VmHWM')!;
    return { result, peakRssDeltaBytes: Math.max(0, peak - before), method: 'vmhwm' };
  }
  if (method === 'vmhwm') throw new Error('measurePeakMemory: the kernel high-water mark (/proc/self/clear_refs) is not available here');
  const shared = new SharedArrayBuffer(8);
  const peak = new Float64Array(shared);
  const before = process.memoryUsage.rss();
  peak[0] = before;
  const sampler = new Worker(SAMPLER_SOURCE, { eval: true, workerData: shared });
  await new Promise<void>((resolve, reject) => {
    sampler.once('online', () => resolve());
    sampler.once('error', reject);
  });
  try {
    const result = await run();
    peak[0] = Math.max(peak[0], process.memoryUsage.rss());
    return { result, peakRssDeltaBytes: Math.max(0, peak[0] - before), method: 'sampled' };
  } finally {
    await sampler.terminate();
  }
}
