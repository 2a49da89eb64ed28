import { freemem } from 'node:os';
import { createBackend, valueAndGrad, type PrefBackend, type ValueAndGradResult } from '@pref/core';
import {
  BENCH_SCHEMA,
  type BenchBackendEntry,
  type BenchCell,
  type BenchMode,
  type BenchReport,
  type BenchSettings,
  type LinearBaseline,
  type WorkloadKind,
  WORKLOAD_KINDS,
} from './bench-report';
import {
  DEFAULT_BENCH_BACKENDS,
  ORACLE_CONFIG,
  WASM_ORACLE_CONFIG,
  defaultImportModule,
  resolveBenchBackends,
  startFailureReason,
  type BenchBackendSpec,
  type ImportModule,
  type ValueAndGradFn,
} from './bench-backends';
import { describeMachine } from './bench-machine';
import { collectGarbage } from './collect-garbage';
import { devicePeakBytesProbe } from './device-peak-bytes';
import {
  LOGITS_SHAPES,
  createLogitsWorkload,
  logitsCall,
  logitsElementCount,
  logitsTrafficBytes,
  placeLogitsBatch,
  type LogitsShape,
} from './logits-workload';
import { backendStatsReader, measureCell, type CellPlan, type MeasuredCell } from './measure-cell';
import { measureMemoryBandwidth, type MemoryBandwidth } from './memory-bandwidth';
import { buildObjectiveWorkload, installedObjectives } from './objective-workload';
import { runAlignWorkload } from './align-workload';
import {
  LINEAR_SHAPES,
  baselineSkipReason,
  chooseLinearOracle,
  createLinearBatch,
  linearMultiplyAdds,
  measureLinearBaseline,
  measureLinearCell,
  predictLinearSeconds,
  probeHiddenStatePath,
  type HiddenStateSupport,
  type LinearShape,
} from './linear-workload';
import { createLinearBaseline, linearBaselinePlan, referenceChunkSizes } from './linear-baseline';
import { simpo } from '@pref/simpo';

export interface RunBenchmarksOptions {
  /** `small` (CI: the small logits shape, few repeats) or `full` (every shape). Default `small`. */
  readonly mode?: 'small' | 'full';
  /** Backend ids (see `BENCH_BACKEND_CONFIGS`) or specs; default `DEFAULT_BENCH_BACKENDS`. */
  readonly backends?: readonly (string | BenchBackendSpec)[];
  /** Default all four: `logits`, `objective`, `align`, `linear`. */
  readonly workloads?: readonly WorkloadKind[];
  /** Timed runs per logits cell. */
  readonly repeats?: number;
  /** Untimed runs after the checked one. */
  readonly warmup?: number;
  /** Timed runs per objective cell (they are short). */
  readonly objectiveRepeats?: number;
  /** Wall-clock budget per cell; a cell predicted to need more for one run is skipped, repeats are cut to fit. */
  readonly cellBudgetSeconds?: number;
  readonly logitsShapes?: readonly { readonly name: string; readonly shape: LogitsShape }[];
  /** Shapes of the linear (hidden-state) workload (default small: `linear-small`; full: all of `LINEAR_SHAPES`). */
  readonly linearShapes?: readonly { readonly name: string; readonly shape: LinearShape }[];
  /** `[rows, steps]` of the objective workload (default `[8, 128]`). */
  readonly objectiveShape?: readonly [number, number];
  /** Only these objective ids (default every installed objective). */
  readonly objectives?: readonly string[];
  /** The bandwidth probe's result, null to skip it, or omitted to measure it. */
  readonly bandwidth?: MemoryBandwidth | null;
  /** Core's `valueAndGrad` for the timed calls and the hidden-state probe (injectable for tests; default core's). */
  readonly valueAndGrad?: ValueAndGradFn;
  /** Loads packages by name (adapters, objectives, `@pref/align`). */
  readonly importModule?: ImportModule;
  /** The float64 oracle (default: the reference backend's pure-TS float64 path through `createBackend`). */
  readonly oracle?: () => Promise<PrefBackend>;
  /** Largest linear forward (multiply-adds `B·T·H·V`) checked against the pure-TS oracle (default `PURE_TS_ORACLE_MAX_MULTIPLY_ADDS`). */
  readonly linearPureTsLimit?: number;
  /** The float64 oracle of linear shapes too large for the pure-TS one (default: the reference backend's float64 WebAssembly kernels). */
  readonly wasmOracle?: () => Promise<PrefBackend>;
  /** Progress lines (default: none). */
  readonly log?: (line: string) => void;
  /** Recorded in the report. */
  readonly command?: string;
}

type ModeSettings = Omit<BenchSettings, 'workloads' | 'linearShapes'> & {
  readonly linearShapes: NonNullable<BenchSettings['linearShapes']>;
  /** Passes per kernel of the bandwidth probe (the best is kept). */
  readonly probeRepeats: number;
};

const MODE_SETTINGS: Record<'small' | 'full', ModeSettings> = {
  small: {
    repeats: 3,
    warmup: 1,
    objectiveRepeats: 10,
    cellBudgetSeconds: 20,
    logitsShapes: [{ name: 'small', shape: LOGITS_SHAPES.small }],
    linearShapes: [{ name: 'linear-small', shape: LINEAR_SHAPES['linear-small'] }],
    objectiveShape: [8, 128],
    probeRepeats: 3,
  },
  full: {
    repeats: 5,
    warmup: 1,
    objectiveRepeats: 30,
    cellBudgetSeconds: 60,
    logitsShapes: (['small', 'medium', 'large'] as const).map((name) => ({ name, shape: LOGITS_SHAPES[name] })),
    linearShapes: (['linear-small', 'linear-medium', 'linear-vocab'] as const).map((name) => ({ name, shape: LINEAR_SHAPES[name] })),
    objectiveShape: [8, 128],
    probeRepeats: 5,
  },
};

/** Holds at most one started instance per backend; backends sharing global state are re-created before each use. */
class BackendPool {
  private readonly instances = new Map<string, PrefBackend>();

  async acquire(spec: BenchBackendSpec): Promise<PrefBackend> {
    const cached = this.instances.get(spec.id);
    if (cached && !spec.sharesGlobalState) return cached;
    const backend = await spec.create();
    this.instances.set(spec.id, backend);
    return backend;
  }
}

function cellFrom(base: Omit<BenchCell, 'status'>, measured: MeasuredCell): BenchCell {
  const cell: BenchCell = {
    ...base,
    status: measured.status,
    ...(measured.reason !== undefined && { reason: measured.reason }),
    ...(measured.check && { check: measured.check }),
    ...(measured.timing && { timing: measured.timing }),
    ...(measured.memory && { memory: measured.memory }),
  };
  const notes = [...(base.notes ?? []), ...measured.notes];
  return notes.length ? { ...cell, notes } : cell;
}

const gib = (bytes: number) => `${(bytes / 2 ** 30).toFixed(1)} GiB`;

/**
 * Runs the suite: the bandwidth probe, then each workload on each backend that starts (the
 * rest are reported as skipped with the reason). Every cell is checked against the float64
 * reference before it is timed; a mismatch is a failure, never timed.
 */
export async function runBenchmarks(options: RunBenchmarksOptions = {}): Promise<BenchReport> {
  const started = performance.now();
  // The machine (and its load average) before any work of this run.
  const machine = describeMachine();
  const mode = options.mode ?? 'small';
  const base = MODE_SETTINGS[mode];
  const importModule = options.importModule ?? defaultImportModule;
  const log = options.log ?? (() => {});
  const vag: ValueAndGradFn = options.valueAndGrad ?? valueAndGrad;
  const settings: BenchSettings = {
    repeats: options.repeats ?? base.repeats,
    warmup: options.warmup ?? base.warmup,
    objectiveRepeats: options.objectiveRepeats ?? options.repeats ?? base.objectiveRepeats,
    cellBudgetSeconds: options.cellBudgetSeconds ?? base.cellBudgetSeconds,
    logitsShapes: options.logitsShapes ?? base.logitsShapes,
    objectiveShape: options.objectiveShape ?? base.objectiveShape,
    workloads: options.workloads ?? WORKLOAD_KINDS,
    linearShapes: options.linearShapes ?? base.linearShapes,
  };
  for (const [name, value] of [
    ['repeats', settings.repeats],
    ['objectiveRepeats', settings.objectiveRepeats],
  ] as const) {
    if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be an integer ≥ 1, got ${value}`);
  }
  if (!Number.isInteger(settings.warmup) || settings.warmup < 0)
    throw new RangeError(`warmup must be an integer ≥ 0, got ${settings.warmup}`);
  if (!(settings.cellBudgetSeconds > 0)) throw new RangeError(`cellBudgetSeconds must be > 0, got ${settings.cellBudgetSeconds}`);
  const customized =
    options.logitsShapes !== undefined ||
    options.linearShapes !== undefined ||
    options.objectiveShape !== undefined ||
    options.workloads !== undefined;
  const reportMode: BenchMode = customized ? 'custom' : mode;

  let bandwidth: MemoryBandwidth | null;
  if (options.bandwidth !== undefined) bandwidth = options.bandwidth;
  else if (settings.workloads.includes('logits')) {
    log('probing memory bandwidth (every core)');
    bandwidth = await measureMemoryBandwidth({ repeats: base.probeRepeats });
    collectGarbage();
  } else bandwidth = null;

  const specs = (options.backends ?? DEFAULT_BENCH_BACKENDS).map((b) =>
    typeof b === 'string' ? resolveBenchBackends([b], importModule)[0] : b,
  );
  const entries = new Map<string, BenchBackendEntry>();
  const pool = new BackendPool();
  const live: BenchBackendSpec[] = [];
  for (const spec of specs) {
    try {
      const backend = await pool.acquire(spec);
      entries.set(spec.id, {
        id: spec.id,
        config: { ...spec.config },
        status: 'started',
        name: backend.name,
        precision: backend.capabilities.precision,
      });
      live.push(spec);
      log(`backend ${spec.id}: started (${backend.name}, float${backend.capabilities.precision})`);
    } catch (error) {
      const reason = startFailureReason(error);
      entries.set(spec.id, { id: spec.id, config: { ...spec.config }, status: 'skipped', reason });
      log(`backend ${spec.id}: skipped: ${reason}`);
    }
  }
  const oracle = await (options.oracle ?? (() => createBackend(ORACLE_CONFIG, { importAdapter: importModule })))();

  const results: BenchCell[] = [];
  /** The backend for `spec`, or null after recording `cell` as failed when it does not start again. */
  const acquire = async (spec: Parameters<BackendPool['acquire']>[0], cell: Omit<BenchCell, 'status'>): Promise<PrefBackend | null> => {
    try {
      return await pool.acquire(spec);
    } catch (error) {
      results.push({ ...cell, status: 'failed', reason: `backend failed to start again: ${startFailureReason(error)}` });
      return null;
    }
  };
  const skipAll = (cell: Omit<BenchCell, 'backend' | 'status' | 'precision'>, reason: string) => {
    for (const spec of specs)
      results.push({ ...cell, backend: spec.id, status: 'skipped', precision: entries.get(spec.id)?.precision ?? null, reason });
  };
  const skippedBackend = (cell: Omit<BenchCell, 'backend' | 'status' | 'precision'>) => {
    for (const spec of specs) {
      const entry = entries.get(spec.id)!;
      if (entry.status === 'skipped')
        results.push({ ...cell, backend: spec.id, status: 'skipped', precision: null, reason: `backend did not start: ${entry.reason}` });
    }
  };

  if (settings.workloads.includes('logits')) {
    const secondsPerElement = new Map<string, { rate: number; from: string }>();
    /** Peak extra resident bytes per logit of each backend's previous shape, to skip a shape that would not fit. */
    const bytesPerElement = new Map<string, { rate: number; from: string }>();
    for (const { name, shape } of settings.logitsShapes) {
      const elements = logitsElementCount(shape);
      const cellBase = { workload: 'logits' as const, case: name, shape: [...shape] };
      const needed = elements * (4 + 8 * 4);
      if (needed > freemem()) {
        skipAll(
          cellBase,
          `needs about ${gib(needed)} of memory (inputs, float64 reference gradient, one backend's gradient and its output buffers); ${gib(freemem())} free`,
        );
        continue;
      }
      log(`logits ${name} [${shape.join(', ')}]: float64 reference`);
      const workload = createLogitsWorkload(shape);
      const oraclePlaced = placeLogitsBatch(workload, oracle);
      let expected: ValueAndGradResult;
      try {
        expected = await valueAndGrad(simpo, oraclePlaced.batch, {}, { backend: oracle });
      } finally {
        oraclePlaced.release();
      }
      skippedBackend(cellBase);
      for (const spec of live) {
        const entry = entries.get(spec.id)!;
        const precision = entry.precision!;
        const cell = { ...cellBase, backend: spec.id, precision };
        const previous = secondsPerElement.get(spec.id);
        const predicted = previous ? previous.rate * elements : 0;
        if (predicted > settings.cellBudgetSeconds) {
          results.push({
            ...cell,
            status: 'skipped',
            reason: `predicted ${predicted.toFixed(0)} s per run (from ${previous!.from}), over the ${settings.cellBudgetSeconds} s cell budget`,
          });
          log(`  ${spec.id}: skipped (predicted ${predicted.toFixed(0)} s)`);
          continue;
        }
        const previousMemory = bytesPerElement.get(spec.id);
        const predictedBytes = previousMemory ? previousMemory.rate * elements : 0;
        if (predictedBytes > 0.8 * freemem()) {
          results.push({
            ...cell,
            status: 'skipped',
            reason: `predicted peak memory ${gib(predictedBytes)} (from ${previousMemory!.from}), over 80% of the ${gib(freemem())} free`,
          });
          log(`  ${spec.id}: skipped (predicted ${gib(predictedBytes)} of memory)`);
          continue;
        }
        const backend = await acquire(spec, cell);
        if (!backend) continue;
        let placed;
        try {
          placed = placeLogitsBatch(workload, backend);
        } catch (error) {
          results.push({ ...cell, status: 'failed', reason: `upload failed: ${(error as Error).message}` });
          continue;
        }
        const gradientBytes = elements * (precision / 8);
        const plan: CellPlan = { warmup: settings.warmup, repeats: settings.repeats, budgetSeconds: settings.cellBudgetSeconds };
        const call = logitsCall(vag, simpo, placed.batch, backend, shape, precision);
        let measured: MeasuredCell;
        try {
          measured = await measureCell({
            run: call.run,
            oracle: expected,
            precision,
            plan,
            devicePeakBytes: devicePeakBytesProbe(backend),
            measureAllocations: true,
            backendStats: backendStatsReader(backend),
          });
        } finally {
          placed.release();
        }
        const gradientOutput = call.gradientOutput();
        const outputNote = call.note();
        secondsPerElement.set(spec.id, {
          rate: measured.firstRunSeconds / elements,
          from: `the ${name} shape's ${measured.firstRunSeconds.toFixed(1)} s`,
        });
        const withMemory = cellFrom(
          {
            ...cell,
            inputPath: placed.inputPath,
            ...(gradientOutput && measured.status === 'ok' && { gradientOutput }),
            ...(outputNote && measured.status === 'ok' && { notes: [outputNote] }),
          },
          measured,
        );
        if (withMemory.memory) {
          const peak = withMemory.memory.peakRssDeltaBytes;
          bytesPerElement.set(spec.id, { rate: peak / elements, from: `the ${name} shape's ${gib(peak)}` });
        }
        const result: BenchCell =
          withMemory.memory && withMemory.timing
            ? {
                ...withMemory,
                memory: { ...withMemory.memory, gradientBytes },
                ...(bandwidth && { bandwidth: bandwidthOf(shape, precision, withMemory.timing.median, bandwidth) }),
                ...(measured.allocations && { allocations: measured.allocations }),
              }
            : withMemory;
        results.push(result);
        log(`  ${spec.id}: ${result.status}${result.timing ? ` ${result.timing.median.toFixed(1)} ms` : `: ${result.reason}`}`);
        collectGarbage();
      }
    }
  }

  if (settings.workloads.includes('objective')) {
    const [rows, steps] = settings.objectiveShape;
    const { objectives, missing } = await installedObjectives(importModule);
    for (const { packageName, reason } of missing) {
      log(`objectives: ${packageName} not installed (${reason})`);
    }
    const selected = options.objectives ? objectives.filter((o) => options.objectives!.includes(o.id)) : objectives;
    for (const objective of selected) {
      const cellBase = { workload: 'objective' as const, case: objective.id, shape: [rows, steps] };
      let built;
      try {
        built = await buildObjectiveWorkload(objective, oracle, rows, steps);
      } catch (error) {
        skipAll(cellBase, `no valid inputs could be built from the input schema: ${(error as Error).message}`);
        continue;
      }
      const notes = built.workload.additions.length ? [`added: ${built.workload.additions.join(', ')}`] : [];
      log(`objective ${objective.id}`);
      skippedBackend(cellBase);
      for (const spec of live) {
        const precision = entries.get(spec.id)!.precision!;
        const cell = { ...cellBase, backend: spec.id, precision, inputPath: 'host' as const, ...(notes.length && { notes }) };
        const backend = await acquire(spec, cell);
        if (!backend) continue;
        const { batch, params } = built.workload;
        const measured = await measureCell({
          run: () => valueAndGrad(objective, batch, params, { backend }),
          oracle: built.result,
          precision,
          plan: { warmup: Math.max(settings.warmup, 2), repeats: settings.objectiveRepeats, budgetSeconds: settings.cellBudgetSeconds },
        });
        const result = cellFrom(cell, measured);
        results.push(result);
        log(`  ${spec.id}: ${result.status}${result.timing ? ` ${result.timing.median.toFixed(2)} ms` : `: ${result.reason}`}`);
      }
    }
  }

  if (settings.workloads.includes('align')) {
    results.push(...(await runAlignWorkload({ importModule, backendIds: specs.map((s) => s.id), log })));
  }

  if (settings.workloads.includes('linear') && settings.linearShapes!.length) {
    const support = new Map<string, HiddenStateSupport>();
    /** Each backend's previous linear shape: seconds per run (timed median) of the fused path and of the baseline. */
    const fusedPrevious = new Map<string, { seconds: number; multiplyAdds: number; from: string }>();
    const baselinePrevious = new Map<string, { seconds: number; multiplyAdds: number }>();
    let wasmOracle: PrefBackend | null = null;
    const plan: CellPlan = { warmup: settings.warmup, repeats: settings.repeats, budgetSeconds: settings.cellBudgetSeconds };
    for (const { name, shape } of settings.linearShapes!) {
      const cellBase = { workload: 'linear' as const, case: name, shape: [...shape] };
      skippedBackend(cellBase);
      const oracleKind = chooseLinearOracle(shape, options.linearPureTsLimit);
      const batch = createLinearBatch(shape);
      const multiplyAdds = linearMultiplyAdds(shape);
      let expected: ValueAndGradResult | null = null;
      let oracleError: string | null = null;
      for (const spec of live) {
        const precision = entries.get(spec.id)!.precision!;
        const cell = { ...cellBase, backend: spec.id, precision };
        const backend = await acquire(spec, cell);
        if (!backend) continue;
        if (!support.has(spec.id)) support.set(spec.id, await probeHiddenStatePath(backend, vag));
        const supported = support.get(spec.id)!;
        if (!supported.available) {
          results.push({ ...cell, status: 'skipped', reason: supported.reason });
          log(`linear ${name} on ${spec.id}: skipped: ${supported.reason}`);
          continue;
        }
        const previous = fusedPrevious.get(spec.id);
        const predicted = predictLinearSeconds(previous, shape);
        if (predicted !== null && predicted > settings.cellBudgetSeconds) {
          const reason = `predicted ${predicted.toFixed(0)} s per run (from ${previous!.from}, scaled by B·T·H·V), over the ${settings.cellBudgetSeconds} s cell budget`;
          results.push({ ...cell, status: 'skipped', reason });
          log(`linear ${name} on ${spec.id}: skipped (${reason})`);
          continue;
        }
        if (!expected && !oracleError) {
          log(`linear ${name} [${shape.join(', ')}]: float64 oracle (${oracleKind})`);
          try {
            const oracleBackend =
              oracleKind === 'pure-ts'
                ? oracle
                : (wasmOracle ??= await (
                    options.wasmOracle ?? (() => createBackend(WASM_ORACLE_CONFIG, { importAdapter: importModule }))
                  )());
            expected = await vag(simpo, batch, {}, { backend: oracleBackend });
          } catch (error) {
            oracleError = `the float64 oracle (${oracleKind}) failed: ${String((error as Error).message ?? error).split('\n')[0]}`;
          }
          collectGarbage();
        }
        if (!expected) {
          results.push({ ...cell, status: 'failed', reason: oracleError! });
          continue;
        }
        const checked = expected;
        const kernelName = (backend as { kernelName?: string }).kernelName;
        let chunkSize: { forward: number; backward: number } | undefined;
        if (backend.name.startsWith('reference') && kernelName === 'wasm') {
          try {
            chunkSize = await referenceChunkSizes(importModule, shape, precision);
          } catch {
            chunkSize = undefined;
          }
        }
        const sameAsOracle =
          oracleKind === 'wasm' && spec.config.backend === 'reference' && spec.config.precision === 64 && spec.config.kernels !== 'js';
        const baseline = async (): Promise<LinearBaseline> => {
          const how = linearBaselinePlan(backend as PrefBackend & { kernelName?: string; tf?: unknown }, shape, precision);
          if (how.kind === 'n/a') return { status: 'n/a', reason: how.reason };
          const [rows, steps, , vocab] = shape;
          const skip = baselineSkipReason({
            bytes: how.bytes,
            limitBytes: how.limitBytes,
            freeBytes: freemem(),
            predictedSeconds: predictLinearSeconds(baselinePrevious.get(spec.id), shape),
            budgetSeconds: settings.cellBudgetSeconds,
            logitsBytes: rows * steps * vocab * (precision / 8),
          });
          if (skip) return { status: 'skipped', reason: skip };
          let runner;
          try {
            runner = await createLinearBaseline(how, { importModule, valueAndGrad: vag, backend, batch, shape, precision });
          } catch (error) {
            return { status: 'failed', reason: `could not set up: ${String((error as Error).message ?? error).split('\n')[0]}` };
          }
          collectGarbage();
          const { secondsPerRun, ...measured } = await measureLinearBaseline(runner, checked, precision, plan);
          baselinePrevious.set(spec.id, { seconds: secondsPerRun, multiplyAdds });
          collectGarbage();
          return measured;
        };
        const result = await measureLinearCell({
          name,
          shape,
          backendId: spec.id,
          backend,
          precision,
          expected: checked,
          oracleKind,
          ...(sameAsOracle && {
            oracleNote: 'the oracle has this backend’s configuration: this shows agreement of two instances, not an independent check',
          }),
          batch,
          valueAndGrad: vag,
          plan,
          support: supported,
          ...(chunkSize && { chunkSize }),
          baseline,
          onMeasured: (seconds) =>
            fusedPrevious.set(spec.id, { seconds, multiplyAdds, from: `the ${name} shape's ${seconds.toFixed(2)} s median` }),
        });
        results.push(result);
        const b = result.linear?.baseline;
        log(
          `linear ${name} on ${spec.id}: ${result.status}${result.timing ? ` ${result.timing.median.toFixed(1)} ms` : ''}${result.reason ? `: ${result.reason}` : ''}` +
            `; matmul + logits: ${b?.status}${b?.timing ? ` ${b.timing.median.toFixed(1)} ms` : ''}${b?.reason ? ` (${b.reason})` : ''}` +
            `${result.linear?.ratio !== undefined ? `; ratio ${result.linear.ratio.toFixed(2)}` : ''}`,
        );
        collectGarbage();
      }
    }
  }

  return {
    schema: BENCH_SCHEMA,
    createdAt: new Date().toISOString(),
    mode: reportMode,
    command: options.command ?? `runBenchmarks({ mode: '${mode}' })`,
    machine,
    bandwidth,
    settings,
    backends: specs.map((s) => entries.get(s.id)!),
    results,
    totalSeconds: (performance.now() - started) / 1000,
  };
}

/**
 * A logits cell against the all-core bound: its traffic (read the logits twice, write the
 * gradient once), the achieved rate, the fraction of the bound, the C-style bound (the time
 * that traffic takes at the bound) and the median over it.
 */
export function bandwidthOf(
  shape: LogitsShape,
  precision: 32 | 64,
  medianMs: number,
  machine: Pick<MemoryBandwidth, 'boundBytesPerSecond'>,
) {
  const bytes = logitsTrafficBytes(shape, precision);
  const bytesPerSecond = bytes / (medianMs / 1000);
  const fraction = bytesPerSecond / machine.boundBytesPerSecond;
  const cStyleBoundMs = (1000 * bytes) / machine.boundBytesPerSecond;
  return { bytes, bytesPerSecond, fraction, boundRatio: medianMs / cStyleBoundMs, cStyleBoundMs };
}
