import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { inputNames, type AnyObjective, type InputSchema, type ObjectiveState } from '@pref/core';
import { loadObjectives } from './objective-registry';
import { parseParamList } from './parse-param-list';
import { UsageError, type CliIo } from './cli-io';

/** A batch file: `{ "objective"?, "params"?, "state"?, "inputs": {...} }`, or just the inputs. */
interface BatchFile {
  readonly objective?: string;
  readonly params?: Record<string, unknown>;
  readonly state?: ObjectiveState | null;
  readonly inputs?: Record<string, unknown>;
}

/** The `parseArgs` options naming a batch file, shared by the commands that read one. */
export const BATCH_FILE_OPTIONS = {
  objective: { type: 'string' },
  batch: { type: 'string' },
  params: { type: 'string' },
  state: { type: 'string' },
} as const;

export interface BatchFileOptions {
  readonly batch?: string;
  readonly objective?: string;
  readonly params?: string;
  readonly state?: string;
}

/**
 * Reads `--batch` (and `--objective`, `--params`, `--state`) into what `valueAndGrad` takes.
 * Inputs the objective does not use are dropped with a note on stderr, so one batch file can
 * serve several objectives (e.g. reference sums that only DPO reads).
 */
export async function readBatchFile(io: CliIo, options: BatchFileOptions, command: string) {
  if (!options.batch) throw new UsageError('--batch <file.json> is required');
  const file = JSON.parse(await readFile(resolve(io.cwd, options.batch), 'utf8')) as BatchFile;
  const inputs = file.inputs ?? (file as Record<string, unknown>);
  const id = options.objective ?? file.objective;
  if (!id) throw new UsageError('--objective <id> is required (or "objective" in the batch file)');
  const objectives = await loadObjectives();
  const objective: AnyObjective | undefined = objectives[id];
  if (!objective) throw new UsageError(`unknown objective ${id}; installed: ${Object.keys(objectives).sort().join(', ')}`);
  const accepted = new Set(Object.values(objective.inputs as InputSchema).flatMap((spec) => inputNames(spec)));
  const ignored = Object.keys(inputs).filter((name) => !accepted.has(name) && name !== 'description');
  if (ignored.length) io.err(`${command}: ${id} does not use ${ignored.join(', ')}; ignored`);
  const batch = Object.fromEntries(Object.entries(inputs).filter(([name]) => accepted.has(name)));
  const params = { ...(file.params ?? {}), ...parseParamList(options.params) };
  const state = options.state
    ? (JSON.parse(await readFile(resolve(io.cwd, options.state), 'utf8')) as ObjectiveState)
    : (file.state ?? null);
  return { id, objective, batch, params, state };
}
