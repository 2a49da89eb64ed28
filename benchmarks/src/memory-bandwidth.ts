import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism, freemem } from 'node:os';
import { Worker } from 'node:worker_threads';

/** Rates of the probe's four kernels, in bytes per second (STREAM's byte counting). */
export interface KernelRates {
  /** `dst.set(src)` over the slice (a memmove): 2 bytes moved per byte copied (read + write). */
  readonly copy: number;
  /** A JS loop summing the slice: bytes read. */
  readonly read: number;
  /** `fill` of the slice: bytes written. */
  readonly write: number;
  /** `a[i] = b[i] + q·c[i]`: 3 bytes moved per byte of `a` (two reads, one write). */
  readonly triad: number;
}

/**
 * Memory bandwidth of this machine as seen from JavaScript, in bytes per second. The four
 * top-level rates and `boundBytesPerSecond` are the all-thread results (they were
 * single-thread before the probe used worker threads; the field names are kept for
 * `pref-bench/1`). The fields after `repeats` were added with the threaded probe and are
 * absent from older reports.
 */
export interface MemoryBandwidth {
  readonly copyBytesPerSecond: number;
  readonly readBytesPerSecond: number;
  readonly writeBytesPerSecond: number;
  /** The all-core bound every logits result is compared with: the best all-thread kernel (or single-thread one, if higher). */
  readonly boundBytesPerSecond: number;
  /** Size of each of the probe's three arrays. */
  readonly bufferBytes: number;
  /** Timed passes per kernel and thread count; the best pass is kept. */
  readonly repeats: number;
  readonly triadBytesPerSecond?: number;
  /** Worker threads of the all-thread passes (one per core the process may use). */
  readonly threads?: number;
  readonly singleThread?: KernelRates;
  readonly allThreads?: KernelRates;
  /** The best single-thread kernel. */
  readonly singleThreadBoundBytesPerSecond?: number;
  /** First write of the three fresh arrays by all threads (page faults included), bytes per second. */
  readonly firstTouchBytesPerSecond?: number;
  /** Largest CPU cache the kernel reports (bytes), which the arrays are sized against; null when unknown. */
  readonly largestCacheBytes?: number | null;
  /** `workers`: worker threads on one `SharedArrayBuffer`, best of `repeats`. */
  readonly method?: 'workers';
}

/** What `measureMemoryBandwidth` returns: every field of the threaded probe present. */
export type MemoryBandwidthProbe = Required<MemoryBandwidth>;

export interface MemoryBandwidthOptions {
  /**
   * Bytes per array (three arrays). Default: 4× the largest CPU cache the kernel reports
   * (STREAM's rule), at least 256 MiB, at most 2 GiB and an eighth of the free memory.
   */
  readonly bufferBytes?: number;
  /** Timed passes per kernel and thread count; the best is kept (default 5). */
  readonly repeats?: number;
  /** Threads of the all-thread passes (default `os.availableParallelism()`). */
  readonly threads?: number;
}

const KERNELS = ['copy', 'read', 'write', 'triad'] as const;
type KernelName = (typeof KERNELS)[number];
/** Bytes moved per byte of one array, per kernel. */
const TRAFFIC: Record<KernelName, number> = { copy: 2, read: 1, write: 1, triad: 3 };
const KERNEL_ID: Record<KernelName | 'init', number> = { init: 0, copy: 1, read: 2, write: 3, triad: 4 };
const EXIT = -1;
/** Control words: generation, done count, kernel, active workers, then [start, end) per worker. */
const HEADER = 4;

/**
 * The worker: waits for a new generation, runs the kernel over its slice of the shared arrays
 * when it is one of the active workers, and counts itself done. Plain JS loops and typed-array
 * built-ins, the same code on every thread.
 */
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const [a, b, c] = workerData.buffers.map((s) => new Float64Array(s));
const ctl = new Int32Array(workerData.control);
const sink = new Float64Array(workerData.sink);
const me = workerData.index;
let seen = 0;
for (;;) {
  Atomics.wait(ctl, 0, seen);
  seen = Atomics.load(ctl, 0);
  const kernel = ctl[2];
  if (kernel < 0) break;
  if (me >= ctl[3]) continue;
  const s = ctl[${HEADER} + 2 * me], e = ctl[${HEADER + 1} + 2 * me];
  if (kernel === 0) {
    for (let i = s; i < e; i++) { a[i] = 0; b[i] = i & 1023; c[i] = 1; }
  } else if (kernel === 1) {
    a.set(b.subarray(s, e), s);
  } else if (kernel === 2) {
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0, i = s;
    for (; i + 3 < e; i += 4) { s0 += b[i]; s1 += b[i + 1]; s2 += b[i + 2]; s3 += b[i + 3]; }
    for (; i < e; i++) s0 += b[i];
    sink[me] += s0 + s1 + s2 + s3;
  } else if (kernel === 3) {
    a.fill(seen, s, e);
  } else if (kernel === 4) {
    const q = 3;
    for (let i = s; i < e; i++) a[i] = b[i] + q * c[i];
  }
  if (Atomics.add(ctl, 1, 1) + 1 === ctl[3]) Atomics.notify(ctl, 1);
}
`;

/** The largest CPU cache Linux reports for cpu0 (`/sys/devices/system/cpu/cpu0/cache/index*\/size`), or null. */
export function largestCpuCacheBytes(): number | null {
  const root = '/sys/devices/system/cpu/cpu0/cache';
  let largest: number | null = null;
  try {
    for (const entry of readdirSync(root)) {
      if (!entry.startsWith('index')) continue;
      const match = /^(\d+)([KMG]?)/.exec(readFileSync(`${root}/${entry}/size`, 'utf8').trim());
      if (!match) continue;
      const bytes = Number(match[1]) * ({ '': 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30 } as Record<string, number>)[match[2]];
      if (largest === null || bytes > largest) largest = bytes;
    }
  } catch {
    return null;
  }
  return largest;
}

/** The default array size: 4× the largest cache, clamped to [256 MiB, min(2 GiB, free memory / 8)], whole MiB. */
export function defaultProbeArrayBytes(largestCache = largestCpuCacheBytes(), free = freemem()): number {
  const wanted = Math.max(256 * 2 ** 20, 4 * (largestCache ?? 0));
  const capped = Math.min(wanted, 2 * 2 ** 30, Math.max(16 * 2 ** 20, free / 8));
  return Math.floor(capped / 2 ** 20) * 2 ** 20;
}

/** `[start, end)` of each of `parts` slices of `length` elements, boundaries on 8-element (64-byte) lines. */
export function sliceBounds(length: number, parts: number): [number, number][] {
  const bounds: [number, number][] = [];
  for (let k = 0; k < parts; k++) {
    const start = k === 0 ? 0 : Math.min(length, Math.round((length * k) / parts / 8) * 8);
    const end = k === parts - 1 ? length : Math.min(length, Math.round((length * (k + 1)) / parts / 8) * 8);
    bounds.push([start, end]);
  }
  return bounds;
}

/**
 * Probes the memory bandwidth with every core: `threads` worker threads on three shared
 * `Float64Array`s (one `SharedArrayBuffer` each) much larger than the caches, released
 * together by an `Atomics` barrier and timed from the release until the last one is done.
 * Kernels copy, read (sum), write (fill) and triad, first on one thread over the whole
 * arrays, then on all threads over equal slices; each the best of `repeats` passes after one
 * untimed pass. The all-core bound is the best all-thread kernel, or the best single-thread
 * one where that is higher (threads contending on a busy machine).
 */
export async function measureMemoryBandwidth(options: MemoryBandwidthOptions = {}): Promise<MemoryBandwidthProbe> {
  const repeats = options.repeats ?? 5;
  if (!Number.isInteger(repeats) || repeats < 1) throw new RangeError(`repeats must be an integer ≥ 1, got ${repeats}`);
  const threads = options.threads ?? Math.max(1, availableParallelism());
  if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`threads must be an integer ≥ 1, got ${threads}`);
  const largestCache = largestCpuCacheBytes();
  const requested = options.bufferBytes ?? defaultProbeArrayBytes(largestCache);
  const length = Math.max(8 * threads, Math.floor(requested / 8));
  if (length > 2 ** 31 - 1) throw new RangeError(`bufferBytes ${requested} is too large for the probe`);
  const bytes = length * 8;
  const buffers = [0, 1, 2].map(() => new SharedArrayBuffer(bytes));
  const control = new SharedArrayBuffer(4 * (HEADER + 2 * threads));
  const ctl = new Int32Array(control);
  const sink = new SharedArrayBuffer(8 * threads);
  const workers: Worker[] = [];
  try {
    for (let index = 0; index < threads; index++) {
      const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { buffers, control, sink, index } });
      workers.push(worker);
      await new Promise<void>((resolve, reject) => {
        worker.once('online', () => resolve());
        worker.once('error', reject);
      });
    }
    /** One pass of `kernel` on the first `active` workers over `bounds`; seconds from release to the last done. */
    const pass = (kernel: number, bounds: readonly [number, number][]): number => {
      const active = bounds.length;
      Atomics.store(ctl, 1, 0);
      Atomics.store(ctl, 2, kernel);
      Atomics.store(ctl, 3, active);
      bounds.forEach(([s, e], k) => {
        Atomics.store(ctl, HEADER + 2 * k, s);
        Atomics.store(ctl, HEADER + 1 + 2 * k, e);
      });
      const start = performance.now();
      Atomics.add(ctl, 0, 1);
      Atomics.notify(ctl, 0);
      for (let done = Atomics.load(ctl, 1); done < active; done = Atomics.load(ctl, 1)) {
        if (Atomics.wait(ctl, 1, done, 60_000) === 'timed-out')
          throw new Error('memory bandwidth probe: a worker thread did not finish a pass within 60 s');
      }
      return (performance.now() - start) / 1000;
    };
    const all = sliceBounds(length, threads);
    const firstTouchSeconds = pass(KERNEL_ID.init, all);
    const rates = (bounds: readonly [number, number][]): KernelRates => {
      const out = {} as Record<KernelName, number>;
      for (const name of KERNELS) {
        pass(KERNEL_ID[name], bounds);
        let best = Infinity;
        for (let r = 0; r < repeats; r++) best = Math.min(best, pass(KERNEL_ID[name], bounds));
        out[name] = (TRAFFIC[name] * bytes) / best;
      }
      return out;
    };
    const singleThread = rates([[0, length]]);
    const allThreads = threads === 1 ? singleThread : rates(all);
    const best = (r: KernelRates) => Math.max(r.copy, r.read, r.write, r.triad);
    return {
      copyBytesPerSecond: allThreads.copy,
      readBytesPerSecond: allThreads.read,
      writeBytesPerSecond: allThreads.write,
      // Never below one thread's best: when the threads contend (a busy machine), one thread's rate is still reachable.
      boundBytesPerSecond: Math.max(best(allThreads), best(singleThread)),
      bufferBytes: bytes,
      repeats,
      triadBytesPerSecond: allThreads.triad,
      threads,
      singleThread,
      allThreads,
      singleThreadBoundBytesPerSecond: best(singleThread),
      firstTouchBytesPerSecond: (3 * bytes) / firstTouchSeconds,
      largestCacheBytes: largestCache,
      method: 'workers',
    };
  } finally {
    Atomics.store(ctl, 2, EXIT);
    Atomics.add(ctl, 0, 1);
    Atomics.notify(ctl, 0);
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
