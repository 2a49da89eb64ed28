import { inputNames, type AnyObjective, type InputSchema, type ObjectiveState } from '@pref/core';
import { loadObjectives } from './objective-registry';
import { parseParamList } from './parse-param-list';
import { UsageError, type CliIo } from './cli-io';
import { expectObject, readJsonFile } from './read-json-file';

const BATCH_SHAPE = '{ "inputs": { "chosenLogps": [[...]], ... } } or the inputs object';
const STATE_SHAPE = 'the state a previous call wrote (pref loss --save-state), e.g. { "mean": 0.1, "std": 1, "steps": 3 }';

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
  const file = expectObject(
    '--batch',
    options.batch,
    await readJsonFile(io.cwd, '--batch', options.batch, BATCH_SHAPE),
    BATCH_SHAPE,
  ) as BatchFile;
  const inputs =
    file.inputs === undefined
      ? (file as Record<string, unknown>)
      : expectObject('--batch', `${options.batch} "inputs"`, file.inputs, 'an object of named inputs');
  if (Object.keys(inputs).length === 0) throw new UsageError(`--batch ${options.batch}: holds no inputs; it should hold ${BATCH_SHAPE}`);
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
  if (options.state && !objective.stateful) {
    throw new UsageError(`--state ${options.state}: ${id} is stateless and takes no state; leave --state out`);
  }
  const state = options.state
    ? (expectObject(
        '--state',
        options.state,
        await readJsonFile(io.cwd, '--state', options.state, STATE_SHAPE),
        STATE_SHAPE,
      ) as ObjectiveState)
    : (file.state ?? null);
  return { id, objective, batch, params, state };
}
