/** A deterministic uniform generator in [0, 1) (mulberry32): same seed, same benchmark data on every machine. */
export function seededUniform(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * `count` values uniform in `[low, high)`, rounded to float32 so that float32 and float64
 * backends receive exactly the same inputs.
 */
export function seededFloats(count: number, seed: number, low: number, high: number): Float32Array {
  const next = seededUniform(seed);
  const out = new Float32Array(count);
  const width = high - low;
  for (let i = 0; i < count; i++) out[i] = low + width * next();
  return out;
}
