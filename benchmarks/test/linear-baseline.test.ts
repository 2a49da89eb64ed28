import { describe, expect, it } from 'vitest';
import { createReferenceBackend } from '@pref/adapter-reference';
import {
  LINEAR_ORACLE_NOTES,
  LINEAR_SHAPES,
  LINEAR_TABLE_HEADER,
  PURE_TS_ORACLE_MAX_MULTIPLY_ADDS,
  WASM_MEMORY_LIMIT_BYTES,
  baselineSkipReason,
  benchReportProblems,
  chooseLinearOracle,
  fusedRatio,
  linearBaselinePlan,
  linearMultiplyAdds,
  linearRow,
  predictLinearSeconds,
  renderMarkdownReport,
  runBenchmarks,
  type BenchBackendSpec,
  type BenchCell,
} from '@pref/benchmarks';

const importModule = (name: string) => import(/* @vite-ignore */ name);
const GiB = 2 ** 30;

describe('linear workload: oracle choice, predictions, baseline plan', () => {
  it('checks linear-small against the pure-TS oracle and the ~63× larger shapes against the wasm one', () => {
    expect(linearMultiplyAdds(LINEAR_SHAPES['linear-small'])).toBe(PURE_TS_ORACLE_MAX_MULTIPLY_ADDS);
    expect(chooseLinearOracle(LINEAR_SHAPES['linear-small'])).toBe('pure-ts');
    expect(chooseLinearOracle(LINEAR_SHAPES['linear-medium'])).toBe('wasm');
    expect(chooseLinearOracle(LINEAR_SHAPES['linear-vocab'])).toBe('wasm');
    expect(chooseLinearOracle([2, 4, 8, 16], 0)).toBe('wasm');
    expect(LINEAR_ORACLE_NOTES.wasm).toMatch(/WebAssembly/);
  });

  it('predicts a shape from the previous one by B·T·H·V, and nothing without one', () => {
    expect(predictLinearSeconds(undefined, [2, 4, 8, 16])).toBeNull();
    expect(predictLinearSeconds({ seconds: 2, multiplyAdds: 1024 }, [2, 4, 8, 32])).toBeCloseTo(4, 12);
    expect(predictLinearSeconds({ seconds: 3.5, multiplyAdds: 2 ** 28 }, LINEAR_SHAPES['linear-medium'])).toBeCloseTo(218.75, 6);
    expect(fusedRatio(130, 100)).toBeCloseTo(1.3, 12);
  });

  it('skips the baseline over the wasm memory, over free memory, or over budget (in that order)', () => {
    const common = { freeBytes: 10 * GiB, predictedSeconds: null, budgetSeconds: 20, logitsBytes: GiB };
    expect(baselineSkipReason({ ...common, bytes: 2 * GiB, limitBytes: WASM_MEMORY_LIMIT_BYTES })).toBeNull();
    expect(baselineSkipReason({ ...common, bytes: 5 * GiB, limitBytes: WASM_MEMORY_LIMIT_BYTES })).toMatch(
      /over the 4\.00 GiB WebAssembly memory limit/,
    );
    expect(baselineSkipReason({ ...common, bytes: 9 * GiB })).toMatch(/over 80% of the 10\.00 GiB free/);
    expect(baselineSkipReason({ ...common, bytes: GiB, predictedSeconds: 45 })).toBe('predicted 45 s per run, over the 20 s cell budget');
  });

  it('plans cpu-kernels on the wasm reference, tf.matMul on tfjs, n/a elsewhere', () => {
    const vocab = LINEAR_SHAPES['linear-vocab'];
    const f32 = linearBaselinePlan({ name: 'reference:f32', kernelName: 'wasm' }, vocab, 32);
    expect(f32.kind).toBe('cpu-kernels');
    // logits and dZ: 2 × 1002 MiB, under the wasm limit in float32, over it in float64
    expect(f32.kind !== 'n/a' && f32.bytes).toBeGreaterThan(2 * 2048 * 128256 * 4);
    expect(f32.kind !== 'n/a' && f32.bytes).toBeLessThan(WASM_MEMORY_LIMIT_BYTES);
    const f64 = linearBaselinePlan({ name: 'reference', kernelName: 'wasm' }, vocab, 64);
    expect(f64.kind !== 'n/a' && f64.bytes > WASM_MEMORY_LIMIT_BYTES).toBe(true);
    expect(linearBaselinePlan({ name: 'reference', kernelName: 'js' }, vocab, 64)).toMatchObject({ kind: 'n/a' });
    expect(linearBaselinePlan({ name: 'tfjs:cpu', tf: { matMul: () => null } }, vocab, 32).kind).toBe('tfjs');
    expect(linearBaselinePlan({ name: 'onnxruntime:cpu' }, vocab, 32)).toMatchObject({
      kind: 'n/a',
      reason: expect.stringMatching(/onnxruntime/),
    });
    expect(linearBaselinePlan({ name: 'webgpu' }, vocab, 32)).toMatchObject({ kind: 'n/a', reason: expect.stringMatching(/webgpu/) });
  });

  it('renders a row with the ratio, chunk sizes and both memories; n/a without a ratio', () => {
    const cell: BenchCell = {
      workload: 'linear',
      case: 'linear-vocab',
      backend: 'reference-f32',
      status: 'ok',
      shape: [4, 512, 64, 128256],
      precision: 32,
      check: { passed: true, worstRatio: 0.02, worstAt: 'loss', relativeTolerance: 1e-4 },
      timing: { unit: 'ms', samples: [100], warmup: 0, count: 1, median: 100, mean: 100, min: 100, max: 100, q1: 100, q3: 100, iqr: 0 },
      memory: { peakRssDeltaBytes: 1024, method: 'vmhwm', devicePeakBytes: null },
      linear: {
        oracle: 'wasm',
        multiplyAdds: 1,
        chunkSize: { forward: 4096, backward: 2048 },
        firstRunPeakRssDeltaBytes: 2 ** 20,
        baseline: { status: 'skipped', reason: 'too big' },
      },
    };
    const row = linearRow(cell);
    expect(row).toHaveLength(LINEAR_TABLE_HEADER.length);
    expect(row).toEqual([
      'linear-vocab [4,512] H 64 V 128256',
      'reference-f32',
      '100 (100–100)',
      '1.00 KiB / 1.00 MiB',
      '4096 / 2048',
      'skipped: too big',
      '',
      'n/a',
      'wasm',
      'ok (2e-2 of tol)',
    ]);
  });
});

describe('linear workload: the matmul + logits path beside the fused one', () => {
  const spec = (id: string, precision: 32 | 64): BenchBackendSpec => ({
    id,
    config: { backend: 'reference', precision },
    create: async () => createReferenceBackend({ precision }),
  });

  it('checks and times both on the reference backend (wasm oracle when asked), with the ratio', async () => {
    let wasmOracleCreated = 0;
    const report = await runBenchmarks({
      backends: [spec('ref32', 32)],
      workloads: ['linear'],
      linearShapes: [{ name: 'linear-tiny', shape: [4, 8, 16, 300] }],
      bandwidth: null,
      importModule,
      linearPureTsLimit: 0,
      wasmOracle: async () => {
        wasmOracleCreated++;
        return createReferenceBackend({ precision: 64 });
      },
    });
    expect(benchReportProblems(JSON.parse(JSON.stringify(report)))).toEqual([]);
    expect(wasmOracleCreated).toBe(1);
    const cell = report.results[0];
    expect(cell.status).toBe('ok');
    expect(cell.linear?.oracle).toBe('wasm');
    expect(cell.notes?.[0]).toBe(LINEAR_ORACLE_NOTES.wasm);
    expect(cell.linear?.chunkSize?.forward).toBeGreaterThan(0);
    expect(cell.linear?.baseline).toMatchObject({ status: 'ok', check: { passed: true } });
    expect(cell.linear?.baseline.timing?.median).toBeGreaterThan(0);
    expect(cell.linear?.ratio).toBeCloseTo(cell.timing!.median / cell.linear!.baseline.timing!.median, 12);
    expect(renderMarkdownReport(report)).toMatch(/fused beside matmul \+ logits/);
  });

  it('notes when the wasm oracle has the backend’s own configuration; skips a shape predicted over budget', async () => {
    const report = await runBenchmarks({
      backends: [spec('ref64', 64)],
      workloads: ['linear'],
      linearShapes: [
        { name: 'linear-tiny', shape: [4, 8, 16, 300] },
        { name: 'linear-big', shape: [4, 8, 16, 300_000] },
      ],
      cellBudgetSeconds: 1e-4,
      bandwidth: null,
      importModule,
      linearPureTsLimit: 0,
      wasmOracle: async () => createReferenceBackend({ precision: 64 }),
    });
    const [tiny, big] = report.results;
    expect(tiny.status).toBe('ok');
    expect(tiny.notes?.[0]).toMatch(/this backend’s configuration/);
    expect(big.status).toBe('skipped');
    expect(big.reason).toMatch(/^predicted \d+ s per run \(from the linear-tiny shape's/);
  });
});
