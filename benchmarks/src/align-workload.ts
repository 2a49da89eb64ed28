import type { BenchCell } from './bench-report';
import type { ImportModule } from './bench-backends';
import { summarizeSamples } from './summarize-samples';

/** The tfjs backend `pref align` trains on, for each benchmark backend id that has one. */
export const ALIGN_TFJS_BACKENDS: Readonly<Record<string, string>> = { 'tfjs-cpu': 'cpu', 'tfjs-wasm': 'wasm' };

interface AlignModule {
  runAlign?: (options: Record<string, unknown>) => Promise<{
    settings: { batchSize: number };
    objectives: readonly { id: string; steps: readonly { loss: number; milliseconds: number }[] }[];
  }>;
}

export interface AlignWorkloadOptions {
  readonly importModule: ImportModule;
  readonly backendIds: readonly string[];
  /** Timed steps (after `warmup` untimed ones). Default 5. */
  readonly steps?: number;
  readonly warmup?: number;
  /** Objective trained in the step. Default `simpo`. */
  readonly objective?: string;
  readonly log?: (line: string) => void;
}

/**
 * One `pref align` preference step (the `small` model's forward, the objective's loss through
 * `tfjsLoss`, backward and Adam update on a batch of 32 pairs), timed from `runAlign`'s own
 * per-step wall times with one SFT step, few held-out prompts and no report. `pref align`
 * trains a tfjs model, so only the tfjs backends have this cell; the others are skipped. Its
 * result is not compared with the float64 reference (the step's logits stay inside
 * `@pref/align`); the objective's loss itself is checked in the objective workload.
 */
export async function runAlignWorkload(options: AlignWorkloadOptions): Promise<BenchCell[]> {
  const steps = options.steps ?? 5;
  const warmup = options.warmup ?? 2;
  const objective = options.objective ?? 'simpo';
  const base = { workload: 'align' as const, case: `${objective}-step`, shape: [] as number[], precision: 32 as const };
  let module: AlignModule;
  try {
    module = (await options.importModule('@pref/align')) as AlignModule;
  } catch (error) {
    const reason = `@pref/align is not installed or does not load: ${String((error as Error).message).split('\n')[0]}`;
    return options.backendIds.map((backend) => ({ ...base, backend, status: 'skipped', reason }));
  }
  const runAlign = module.runAlign;
  if (typeof runAlign !== 'function') {
    const reason = '@pref/align exports no runAlign(options) to run a training step with';
    return options.backendIds.map((backend) => ({ ...base, backend, status: 'skipped', reason }));
  }
  const cells: BenchCell[] = [];
  for (const backend of options.backendIds) {
    const tfjsBackend = ALIGN_TFJS_BACKENDS[backend];
    if (!tfjsBackend) {
      cells.push({ ...base, backend, status: 'skipped', reason: 'pref align trains a tfjs model: only tfjs-cpu and tfjs-wasm run it' });
      continue;
    }
    options.log?.(`align ${objective} step on ${backend}`);
    try {
      const report = await runAlign({
        objectives: objective,
        steps: warmup + steps,
        sftSteps: 1,
        evaluations: 1,
        heldOutSize: 8,
        backend: tfjsBackend,
        model: 'small',
        out: null,
        progress: null,
      });
      const logs = report.objectives[0]?.steps ?? [];
      if (logs.length !== warmup + steps) throw new Error(`runAlign reported ${logs.length} steps, expected ${warmup + steps}`);
      const bad = logs.find((log) => !Number.isFinite(log.loss));
      if (bad) throw new Error(`a step's loss is ${bad.loss}`);
      const samples = logs.slice(warmup).map((log) => log.milliseconds);
      cells.push({
        ...base,
        backend,
        status: 'ok',
        shape: [2 * report.settings.batchSize],
        timing: { unit: 'ms', samples, warmup, ...summarizeSamples(samples) },
        notes: ['not compared with the float64 reference (logits stay inside @pref/align); the loss is checked for finiteness'],
      });
    } catch (error) {
      cells.push({ ...base, backend, status: 'failed', reason: `error: ${String((error as Error).message).split('\n')[0]}` });
    }
  }
  return cells;
}
