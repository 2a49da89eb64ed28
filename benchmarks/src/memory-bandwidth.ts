import { summarizeSamples } from './summarize-samples';

/** Memory bandwidth of this machine as seen from JavaScript, in bytes per second. */
export interface MemoryBandwidth {
  /** `Float64Array.prototype.set` of a buffer much larger than the caches (a memcpy): bytes read + written per second. */
  readonly copyBytesPerSecond: number;
  /** A plain JS loop summing a large `Float64Array`: bytes read per second. */
  readonly readBytesPerSecond: number;
  /** `fill` of a large buffer: bytes written per second. */
  readonly writeBytesPerSecond: number;
  /** The bound used for "fraction of bandwidth": the largest of the three (the best this machine showed). */
  readonly boundBytesPerSecond: number;
  /** Size of each probe buffer. */
  readonly bufferBytes: number;
  readonly repeats: number;
}

export interface MemoryBandwidthOptions {
  /** Bytes per probe buffer (default 256 MiB; far above any cache). */
  readonly bufferBytes?: number;
  /** Timed passes per probe; the median pass is used (default 5). */
  readonly repeats?: number;
}

function medianSeconds(repeats: number, pass: () => void): number {
  pass();
  const samples: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const start = performance.now();
    pass();
    samples.push((performance.now() - start) / 1000);
  }
  return summarizeSamples(samples).median;
}

/**
 * Probes the machine's memory bandwidth (copy, read-sum, fill) on the calling thread. Each
 * logits result is reported against `boundBytesPerSecond`.
 */
export function measureMemoryBandwidth(options: MemoryBandwidthOptions = {}): MemoryBandwidth {
  const bufferBytes = options.bufferBytes ?? 256 * 1024 * 1024;
  const repeats = options.repeats ?? 5;
  if (!Number.isInteger(repeats) || repeats < 1) throw new RangeError(`repeats must be an integer ≥ 1, got ${repeats}`);
  const length = Math.max(1, Math.floor(bufferBytes / 8));
  const source = new Float64Array(length);
  for (let i = 0; i < length; i++) source[i] = i & 1023;
  const target = new Float64Array(length);
  const bytes = length * 8;
  const copySeconds = medianSeconds(repeats, () => target.set(source));
  let sink = 0;
  const readSeconds = medianSeconds(repeats, () => {
    let sum0 = 0, sum1 = 0, sum2 = 0, sum3 = 0;
    let i = 0;
    for (; i + 3 < length; i += 4) {
      sum0 += source[i];
      sum1 += source[i + 1];
      sum2 += source[i + 2];
      sum3 += source[i + 3];
    }
    for (; i < length; i++) sum0 += source[i];
    sink += sum0 + sum1 + sum2 + sum3;
  });
  let fillValue = 0;
  const writeSeconds = medianSeconds(repeats, () => target.fill(++fillValue));
  if (sink === -1) throw new Error('unreachable');
  const copyBytesPerSecond = (2 * bytes) / copySeconds;
  const readBytesPerSecond = bytes / readSeconds;
  const writeBytesPerSecond = bytes / writeSeconds;
  return {
    copyBytesPerSecond,
    readBytesPerSecond,
    writeBytesPerSecond,
    boundBytesPerSecond: Math.max(copyBytesPerSecond, readBytesPerSecond, writeBytesPerSecond),
    bufferBytes: bytes,
    repeats,
  };
}
