/** Median, spread and extremes of timing samples (milliseconds or any unit). */
export interface SampleSummary {
  readonly count: number;
  readonly median: number;
  readonly mean: number;
  readonly min: number;
  readonly max: number;
  /** First and third quartiles (linear interpolation between order statistics, as NumPy's default). */
  readonly q1: number;
  readonly q3: number;
  /** Interquartile range `q3 − q1`. */
  readonly iqr: number;
}

/** The `p`-quantile (`0 ≤ p ≤ 1`) of ascending `sorted`, interpolating linearly between order statistics. */
export function quantileSorted(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) throw new RangeError('quantile of an empty sample');
  if (!(p >= 0 && p <= 1)) throw new RangeError(`quantile p must be in [0, 1], got ${p}`);
  const position = (sorted.length - 1) * p;
  const lower = Math.floor(position);
  const upper = Math.ceil(position);
  return sorted[lower] + (sorted[upper] - sorted[lower]) * (position - lower);
}

/** The median of `values` (mean of the two middle values for an even count). */
export function median(values: readonly number[]): number {
  return quantileSorted(
    [...values].sort((a, b) => a - b),
    0.5,
  );
}

/** Summary statistics of a non-empty sample of finite numbers. */
export function summarizeSamples(values: readonly number[]): SampleSummary {
  if (values.length === 0) throw new RangeError('summarizeSamples: the sample is empty');
  const bad = values.find((v) => !Number.isFinite(v));
  if (bad !== undefined) throw new RangeError(`summarizeSamples: samples must be finite, got ${bad}`);
  const sorted = [...values].sort((a, b) => a - b);
  const q1 = quantileSorted(sorted, 0.25);
  const q3 = quantileSorted(sorted, 0.75);
  return {
    count: sorted.length,
    median: quantileSorted(sorted, 0.5),
    mean: sorted.reduce((a, b) => a + b, 0) / sorted.length,
    min: sorted[0],
    max: sorted[sorted.length - 1],
    q1,
    q3,
    iqr: q3 - q1,
  };
}
