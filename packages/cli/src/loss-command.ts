import { readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { inputNames, valueAndGrad, type InputSchema, type ObjectiveState } from '@pref/core';
import { backendFromOptions } from './backend-from-options';
import { loadObjectives } from './objective-registry';
import { parseParamList } from './parse-param-list';
import { UsageError, type CliIo } from './cli-io';

export const LOSS_HELP = `pref loss --objective <id> --batch <file.json> [--params ...] [--backend <name>]

Computes the loss, metrics and gradient norms of one batch and prints them as JSON.

  --objective <id>     objective id (see pref objectives); may also be given in the batch file
  --batch <file.json>  { "inputs": { "chosenLogps": [[...]], ... }, "params"?: {...}, "state"?: {...} }
                       (or just the inputs object)
  --params <p>         JSON object or name=value pairs: beta=0.1,preset=paper (wins over the file)
  --state <file.json>  state from a previous call (stateful objectives, e.g. lmpo)
  --save-state <file>  write the returned state
  --backend <name>     reference | tfjs | onnxruntime | webgpu (default: PREF_BACKEND,
                       pref.config.json, else reference)
  --precision 32|64    float precision where the backend offers a choice`;

interface BatchFile {
  readonly objective?: string;
  readonly params?: Record<string, unknown>;
  readonly state?: ObjectiveState | null;
  readonly inputs?: Record<string, unknown>;
}

export async function lossCommand(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      objective: { type: 'string' },
      batch: { type: 'string' },
      params: { type: 'string' },
      state: { type: 'string' },
      'save-state': { type: 'string' },
      backend: { type: 'string' },
      precision: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    io.out(LOSS_HELP);
    return 0;
  }
  if (!values.batch) throw new UsageError('--batch <file.json> is required');
  const file = JSON.parse(await readFile(resolve(io.cwd, values.batch), 'utf8')) as BatchFile;
  const inputs = file.inputs ?? (file as Record<string, unknown>);
  const id = values.objective ?? file.objective;
  if (!id) throw new UsageError('--objective <id> is required (or "objective" in the batch file)');
  const objectives = await loadObjectives();
  const objective = objectives[id];
  if (!objective) throw new UsageError(`unknown objective ${id}; installed: ${Object.keys(objectives).sort().join(', ')}`);
  // A batch file may carry inputs for several objectives (e.g. reference sums): pass each its own.
  const accepted = new Set(Object.values(objective.inputs as InputSchema).flatMap((spec) => inputNames(spec)));
  const ignored = Object.keys(inputs).filter((name) => !accepted.has(name) && name !== 'description');
  if (ignored.length) io.err(`pref loss: ${id} does not use ${ignored.join(', ')}; ignored`);
  const batch = Object.fromEntries(Object.entries(inputs).filter(([name]) => accepted.has(name)));
  const params = { ...(file.params ?? {}), ...parseParamList(values.params) };
  const state = values.state ? (JSON.parse(await readFile(resolve(io.cwd, values.state), 'utf8')) as ObjectiveState) : (file.state ?? null);
  const backend = await backendFromOptions(io, values.backend, values.precision);
  const result = await valueAndGrad(objective, batch, params, { backend, state });
  const gradNorms = Object.fromEntries(
    Object.entries(result.grads).map(([name, g]) => [name, Math.sqrt(Array.from(g.data).reduce((s, v) => s + v * v, 0))]),
  );
  if (values['save-state'] && result.state) await writeFile(resolve(io.cwd, values['save-state']), `${JSON.stringify(result.state)}\n`);
  io.out(JSON.stringify({ objective: id, backend: backend.name, params, loss: result.loss, metrics: result.metrics, gradNorms, state: result.state }, null, 2));
  return 0;
}
