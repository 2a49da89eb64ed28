/**
 * Statistics across seeds: the mean of a figure with a two-sided Student t interval, and the
 * paired comparison of two objectives seed by seed.
 */

/** The confidence level of every interval `pref align` reports. */
export const INTERVAL_LEVEL = 0.95;

/** How the intervals are computed, as written into the report. */
export const INTERVAL_METHOD =
  'two-sided 95% Student t interval over seeds: mean ± t(0.975, n − 1) · s / √n, s the sample standard deviation (n − 1 in the denominator)';

/** The mean of a figure over seeds with its interval (`low`/`high` null with fewer than two seeds). */
export interface IntervalEstimate {
  readonly mean: number;
  /** Lower end of the 95% Student t interval; null when n < 2. */
  readonly low: number | null;
  readonly high: number | null;
  /** Sample standard deviation (n − 1); null when n < 2. */
  readonly std: number | null;
  /** Number of seeds. */
  readonly n: number;
}

/** Mean and two-sided Student t interval (level {@link INTERVAL_LEVEL}) of `values`. */
export function meanInterval(values: readonly number[], level = INTERVAL_LEVEL): IntervalEstimate {
  const n = values.length;
  if (n === 0) throw new RangeError('meanInterval: no values');
  const mean = values.reduce((s, v) => s + v, 0) / n;
  if (n < 2) return { mean, low: null, high: null, std: null, n };
  const std = Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1));
  const half = studentTQuantile(1 - (1 - level) / 2, n - 1) * (std / Math.sqrt(n));
  return { mean, low: mean - half, high: mean + half, std, n };
}

/** The paired comparison of an objective with a baseline on one figure, across seeds. */
export interface PairedDifference {
  /** Per seed: objective − baseline, in the order of the seeds. */
  readonly differences: readonly number[];
  /** Mean paired difference with its 95% Student t interval. */
  readonly difference: IntervalEstimate;
  /** Sign of the mean difference: 1, −1 or 0. */
  readonly sign: 1 | -1 | 0;
  /** Seeds whose own difference has that sign (for sign 0: seeds with no difference). */
  readonly seedsAgreeing: number;
}

/** `objective[i] − baseline[i]` per seed, their mean with interval, its sign and how many seeds agree with it. */
export function pairedDifference(objective: readonly number[], baseline: readonly number[], level = INTERVAL_LEVEL): PairedDifference {
  if (objective.length !== baseline.length) {
    throw new RangeError(`pairedDifference: ${objective.length} values vs ${baseline.length} baseline values (one per seed each)`);
  }
  const differences = objective.map((v, i) => v - baseline[i]);
  const difference = meanInterval(differences, level);
  const sign = Math.sign(difference.mean) as 1 | -1 | 0;
  const seedsAgreeing = differences.filter((d) => Math.sign(d) === sign).length;
  return { differences, difference, sign, seedsAgreeing };
}

/** The `p` quantile of Student's t distribution with `df` degrees of freedom (bisection on the CDF). */
export function studentTQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`studentTQuantile: p must be in (0, 1), got ${p}`);
  if (!(df > 0)) throw new RangeError(`studentTQuantile: df must be positive, got ${df}`);
  if (p === 0.5) return 0;
  if (p < 0.5) return -studentTQuantile(1 - p, df);
  let lo = 0;
  let hi = 1;
  while (studentTCdf(hi, df) < p) hi *= 2;
  for (let i = 0; i < 200 && hi - lo > 1e-12 * Math.max(1, hi); i++) {
    const mid = (lo + hi) / 2;
    if (studentTCdf(mid, df) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** CDF of Student's t with `df` degrees of freedom, through the regularized incomplete beta function. */
export function studentTCdf(t: number, df: number): number {
  const x = df / (df + t * t);
  const tail = 0.5 * regularizedIncompleteBeta(x, df / 2, 0.5);
  return t >= 0 ? 1 - tail : tail;
}

/** `I_x(a, b)` by its continued fraction (Numerical Recipes' `betacf`, modified Lentz). */
function regularizedIncompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  if (x < (a + 1) / (a + b + 2)) return (front * betaContinuedFraction(x, a, b)) / a;
  return 1 - (front * betaContinuedFraction(1 - x, b, a)) / b;
}

function betaContinuedFraction(x: number, a: number, b: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-15) break;
  }
  return h;
}

/** `log Γ(x)` for x > 0 (Lanczos, g = 7, n = 9). */
function logGamma(x: number): number {
  const coefficients = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905,
    -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const z = x - 1;
  let sum = coefficients[0];
  for (let i = 1; i < 9; i++) sum += coefficients[i] / (z + i);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(sum);
}
