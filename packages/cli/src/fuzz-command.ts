import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { PrefError, resolveObjectiveParams, valueAndGrad, type AnyObjective, type PrefBackend } from '@pref/core';
import { backendFromOptions } from './backend-from-options';
import { loadObjectives } from './objective-registry';
import { parseParamList } from './parse-param-list';
import { batchSeed, fuzzBatch, seededRandom, type FuzzShape } from './fuzz-batch';
import { UsageError, type CliIo } from './cli-io';

export const FUZZ_HELP = `pref fuzz --objective <id> [--batches N] [--backend <name>] [--precision 32|64] [--seed S]

Runs an objective on N random valid batches (log-probs from -1e-300 to -50 and exactly 0,
identical pairs, one-token completions, tied advantages, far reference log-probs) and reports
every batch whose loss, gradient or metric is not finite, with a reproducer.

  --objective <id>     objective id (see pref objectives)
  --batches N          number of batches (default 1000)
  --seed S             run seed (default 1); batch i uses a seed derived from S and i
  --params <p>         JSON object or name=value pairs, as for pref loss
  --rows R             at most R rows per batch (default 6)
  --steps T            at most T tokens per completion (default 5)
  --backend <name>     reference | tfjs | onnxruntime | webgpu (default: PREF_BACKEND, pref.config.json, else reference)
  --precision 32|64    float precision where the backend offers a choice
  --out-dir <folder>   write each failing batch as <folder>/<objective>-<seed>-<i>.json (a pref loss batch file)

Exit code 0 when every result is finite, 1 when one is not.`;

interface Failure {
  readonly index: number;
  readonly seed: number;
  readonly what: string;
  readonly reproducer: string;
  readonly batch?: unknown;
}

export async function fuzzCommand(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      objective: { type: 'string' },
      batches: { type: 'string', default: '1000' },
      seed: { type: 'string', default: '1' },
      params: { type: 'string' },
      rows: { type: 'string', default: '6' },
      steps: { type: 'string', default: '5' },
      backend: { type: 'string' },
      precision: { type: 'string' },
      'out-dir': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    io.out(FUZZ_HELP);
    return 0;
  }
  const count = positiveInteger('--batches', values.batches);
  const seed = nonNegativeInteger('--seed', values.seed);
  const shape = { rows: Math.max(2, positiveInteger('--rows', values.rows)), steps: positiveInteger('--steps', values.steps) };
  if (!values.objective) throw new UsageError('--objective <id> is required');
  const objectives = await loadObjectives();
  const objective = objectives[values.objective];
  if (!objective)
    throw new UsageError(`--objective: unknown objective ${values.objective}; installed: ${Object.keys(objectives).sort().join(', ')}`);
  const params = parseParamList(values.params);
  const backend = await backendFromOptions(io, values.backend, values.precision);
  const outDir = values['out-dir'] === undefined ? null : resolve(io.cwd, values['out-dir']);
  const backendFlag = `--backend ${values.backend ?? backend.name.split(':')[0]}${values.precision ? ` --precision ${values.precision}` : ''}`;
  const report = await fuzzObjective({ objective, params, backend, batches: count, seed, shape, outDir, backendFlag });
  io.out(
    JSON.stringify(
      {
        ...report,
        command: `pref fuzz --objective ${objective.id} --batches ${count} --seed ${seed}${values.params ? ` --params '${values.params}'` : ''} ${backendFlag}`,
      },
      null,
      2,
    ),
  );
  return report.nonFinite === 0 ? 0 : 1;
}

export interface FuzzOptions {
  readonly objective: AnyObjective;
  readonly params: Readonly<Record<string, unknown>>;
  readonly backend: PrefBackend;
  readonly batches: number;
  readonly seed: number;
  readonly shape: FuzzShape;
  /** Folder for one batch file per failure (`pref loss --batch` reads them); null = the first failure inline. */
  readonly outDir: string | null;
  /** How the reproducer command names the backend, e.g. `--backend reference --precision 32`. */
  readonly backendFlag: string;
}

/**
 * Runs `objective` on `batches` seeded random valid batches and counts finite results,
 * non-finite ones (each with a reproducer) and batches the input checks refused (by message).
 */
export async function fuzzObjective(options: FuzzOptions) {
  const { objective, params, backend, seed, outDir } = options;
  const resolved = resolveObjectiveParams(objective, params);
  if (outDir) await mkdir(outDir, { recursive: true });
  const failures: Failure[] = [];
  const rejected: Record<string, number> = {};
  let finite = 0;
  for (let index = 0; index < options.batches; index++) {
    const s = batchSeed(seed, index);
    const inputs = fuzzBatch(objective, resolved, seededRandom(s), options.shape);
    let what: string | null;
    try {
      what = nonFinite(await valueAndGrad(objective, inputs, params as never, { backend }));
    } catch (error) {
      if (!(error instanceof PrefError)) throw error;
      const key = `${error.name}: ${error.message.replace(/row \d+( position \d+)?/g, 'row …').slice(0, 160)}`;
      rejected[key] = (rejected[key] ?? 0) + 1;
      continue;
    }
    if (what === null) {
      finite++;
      continue;
    }
    const file = { objective: objective.id, params, inputs };
    let reproducer: string;
    if (outDir) {
      const path = join(outDir, `${objective.id}-${seed}-${index}.json`);
      await writeFile(path, `${JSON.stringify(file)}\n`);
      reproducer = `pref loss --batch ${path} ${options.backendFlag}`;
    } else {
      reproducer = `pref fuzz --objective ${objective.id} --seed ${seed} --batches ${index + 1} ${options.backendFlag} --out-dir <folder> (writes batch ${index})`;
    }
    failures.push({ index, seed: s, what, reproducer, ...(outDir || failures.length > 0 ? {} : { batch: file }) });
  }
  return {
    objective: objective.id,
    backend: backend.name,
    precision: backend.capabilities.precision,
    seed,
    batches: options.batches,
    finite,
    nonFinite: failures.length,
    rejected,
    failures: failures.slice(0, 20),
  };
}

/** The first non-finite value of a result (`loss`, `grad chosenLogps[3]`, `metric kl`), or null. */
function nonFinite(result: {
  loss: number;
  grads: Readonly<Record<string, { data: ArrayLike<number> }>>;
  metrics: Readonly<Record<string, number>>;
}): string | null {
  if (!Number.isFinite(result.loss)) return `loss is ${result.loss}`;
  for (const [name, grad] of Object.entries(result.grads)) {
    const bad = Array.from(grad.data).findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) return `gradient ${name}[${bad}] is ${grad.data[bad]}`;
  }
  for (const [name, value] of Object.entries(result.metrics)) if (!Number.isFinite(value)) return `metric ${name} is ${value}`;
  return null;
}

function positiveInteger(option: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${option} must be an integer ≥ 1, got ${text}`);
  return n;
}

function nonNegativeInteger(option: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new UsageError(`${option} must be an integer in [0, 2^32), got ${text}`);
  return n;
}
