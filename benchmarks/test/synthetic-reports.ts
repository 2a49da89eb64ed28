import { BENCH_SCHEMA, summarizeSamples, type BenchCell, type BenchMachine, type BenchReport, type WorkloadKind } from '@pref/benchmarks';

export const MACHINE: BenchMachine = {
  platform: 'linux',
  arch: 'x64',
  cpuModel: 'Test CPU',
  cpus: 2,
  totalMemoryBytes: 8 * 2 ** 30,
  node: 'v20.0.0',
  loadAverage: [0.1, 0.2, 0.3],
};

/** An ok cell timed with exactly these samples (its quartiles follow from them). */
export function timedCell(workload: WorkloadKind, name: string, backend: string, samples: number[], shape: number[] = [8, 128]): BenchCell {
  return {
    workload,
    case: name,
    backend,
    status: 'ok',
    shape,
    precision: 32,
    inputPath: 'host',
    ...(workload !== 'align' && { check: { passed: true, worstRatio: 0.01, worstAt: 'loss', relativeTolerance: 1e-4 } }),
    timing: { unit: 'ms', samples, warmup: 1, ...summarizeSamples(samples) },
  };
}

export function syntheticReport(results: BenchCell[], overrides: Partial<BenchReport> = {}): BenchReport {
  return {
    schema: BENCH_SCHEMA,
    createdAt: '2025-01-01T00:00:00.000Z',
    mode: 'small',
    command: 'pref bench --mode small',
    machine: MACHINE,
    bandwidth: null,
    settings: {
      repeats: 3,
      warmup: 1,
      objectiveRepeats: 10,
      cellBudgetSeconds: 20,
      logitsShapes: [{ name: 'small', shape: [8, 128, 4096] }],
      objectiveShape: [8, 128],
      workloads: ['logits', 'objective'],
    },
    backends: [{ id: 'reference', config: { backend: 'reference' }, status: 'started', name: 'reference', precision: 64 }],
    results,
    totalSeconds: 1,
    ...overrides,
  };
}
