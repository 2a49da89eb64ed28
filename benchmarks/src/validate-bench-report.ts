import { BENCH_SCHEMA, type BenchReport } from './bench-report';

type Check = (value: unknown, path: string, problems: string[]) => void;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const typeOf = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

const number: Check = (v, path, problems) => {
  if (typeof v !== 'number' || !Number.isFinite(v)) problems.push(`${path}: expected a finite number, got ${typeOf(v)} ${String(v)}`);
};
const string: Check = (v, path, problems) => {
  if (typeof v !== 'string') problems.push(`${path}: expected a string, got ${typeOf(v)}`);
};
const oneOf =
  (...values: unknown[]): Check =>
  (v, path, problems) => {
    if (!values.includes(v))
      problems.push(`${path}: expected one of ${values.map((x) => JSON.stringify(x)).join(', ')}, got ${JSON.stringify(v)}`);
  };
const nullable =
  (check: Check): Check =>
  (v, path, problems) => {
    if (v !== null) check(v, path, problems);
  };
const array =
  (item: Check): Check =>
  (v, path, problems) => {
    if (!Array.isArray(v)) problems.push(`${path}: expected an array, got ${typeOf(v)}`);
    else v.forEach((x, i) => item(x, `${path}[${i}]`, problems));
  };
const object =
  (required: Record<string, Check>, optional: Record<string, Check> = {}): Check =>
  (v, path, problems) => {
    if (!isObject(v)) {
      problems.push(`${path}: expected an object, got ${typeOf(v)}`);
      return;
    }
    for (const [key, check] of Object.entries(required)) {
      if (!(key in v)) problems.push(`${path}.${key}: missing`);
      else check(v[key], `${path}.${key}`, problems);
    }
    for (const [key, check] of Object.entries(optional)) if (v[key] !== undefined) check(v[key], `${path}.${key}`, problems);
  };

const precision = oneOf(32, 64);
const workload = oneOf('logits', 'objective', 'align', 'linear');
const kernelRates = object({ copy: number, read: number, write: number, triad: number });
const summaryFields = { count: number, median: number, mean: number, min: number, max: number, q1: number, q3: number, iqr: number };

const cell = object(
  {
    workload,
    case: string,
    backend: string,
    status: oneOf('ok', 'failed', 'skipped'),
    shape: array(number),
    precision: nullable(precision),
  },
  {
    reason: string,
    inputPath: oneOf('device', 'host'),
    check: object({ passed: oneOf(true, false), worstRatio: number, worstAt: string, relativeTolerance: number }),
    timing: object({ unit: oneOf('ms'), samples: array(number), warmup: number, ...summaryFields }),
    memory: object(
      { peakRssDeltaBytes: number, method: oneOf('vmhwm', 'sampled'), devicePeakBytes: nullable(number) },
      { gradientBytes: number, firstRunPeakRssDeltaBytes: number },
    ),
    bandwidth: object({ bytes: number, bytesPerSecond: number, fraction: number, boundRatio: number }, { cStyleBoundMs: number }),
    allocations: object({
      calls: number,
      bytesPerCall: number,
      arrayBuffersBytesPerCall: number,
      externalBytesPerCall: number,
      backend: nullable(object({ largeBufferAllocationsPerCall: nullable(number), largeBufferBytesPerCall: nullable(number) })),
    }),
    gradientOutput: oneOf('in-place', 'returned'),
    linear: object(
      { oracle: oneOf('pure-ts', 'wasm'), multiplyAdds: number, baseline: object({ status: oneOf('ok', 'failed', 'skipped', 'n/a') }) },
      { chunkSize: object({ forward: number, backward: number }), firstRunPeakRssDeltaBytes: number, ratio: number },
    ),
    notes: array(string),
  },
);

const report = object({
  schema: oneOf(BENCH_SCHEMA),
  createdAt: string,
  mode: oneOf('small', 'full', 'custom'),
  command: string,
  machine: object(
    { platform: string, arch: string, cpuModel: string, cpus: number, totalMemoryBytes: number, node: string },
    { loadAverage: array(number) },
  ),
  bandwidth: nullable(
    object(
      {
        copyBytesPerSecond: number,
        readBytesPerSecond: number,
        writeBytesPerSecond: number,
        boundBytesPerSecond: number,
        bufferBytes: number,
        repeats: number,
      },
      {
        triadBytesPerSecond: number,
        threads: number,
        singleThread: kernelRates,
        allThreads: kernelRates,
        singleThreadBoundBytesPerSecond: number,
        firstTouchBytesPerSecond: number,
        largestCacheBytes: nullable(number),
        method: oneOf('workers'),
      },
    ),
  ),
  settings: object(
    {
      repeats: number,
      warmup: number,
      objectiveRepeats: number,
      cellBudgetSeconds: number,
      logitsShapes: array(object({ name: string, shape: array(number) })),
      objectiveShape: array(number),
      workloads: array(workload),
    },
    {
      linearShapes: array(object({ name: string, shape: array(number) })),
    },
  ),
  backends: array(
    object({ id: string, config: object({}), status: oneOf('started', 'skipped') }, { name: string, precision, reason: string }),
  ),
  results: array(cell),
  totalSeconds: number,
});

/**
 * Problems that make `value` not a `pref-bench/1` report (empty when it is one). Extra fields
 * are allowed (the format only grows); missing or mistyped documented fields are not.
 */
export function benchReportProblems(value: unknown): string[] {
  const problems: string[] = [];
  report(value, 'report', problems);
  if (isObject(value) && Array.isArray(value.results)) {
    value.results.forEach((c, i) => {
      if (isObject(c) && c.status === 'ok' && !isObject(c.timing)) problems.push(`report.results[${i}]: an ok result needs timing`);
      if (isObject(c) && c.status === 'ok' && c.workload !== 'align' && !isObject(c.check)) {
        problems.push(`report.results[${i}]: an ok ${String(c.workload)} result needs its check against the reference`);
      }
      if (isObject(c) && c.status !== 'ok' && typeof c.reason !== 'string')
        problems.push(`report.results[${i}]: a ${String(c.status)} result needs a reason`);
    });
  }
  return problems;
}

/** `value` as a report, or an error listing what is wrong with it. */
export function parseBenchReport(value: unknown): BenchReport {
  const problems = benchReportProblems(value);
  if (problems.length) throw new Error(`not a ${BENCH_SCHEMA} report:\n  ${problems.slice(0, 20).join('\n  ')}`);
  return value as BenchReport;
}
