import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { valueAndGrad } from '@pref/core';
import { backendFromOptions } from './backend-from-options';
import { BATCH_FILE_OPTIONS, readBatchFile } from './read-batch-file';
import type { CliIo } from './cli-io';

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

export async function lossCommand(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      ...BATCH_FILE_OPTIONS,
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
  const { id, objective, batch, params, state } = await readBatchFile(io, values, 'pref loss');
  const backend = await backendFromOptions(io, values.backend, values.precision);
  const result = await valueAndGrad(objective, batch, params, { backend, state });
  const gradNorms = Object.fromEntries(
    Object.entries(result.grads).map(([name, g]) => [name, Math.sqrt(Array.from(g.data).reduce((s, v) => s + v * v, 0))]),
  );
  if (values['save-state'] && result.state) await writeFile(resolve(io.cwd, values['save-state']), `${JSON.stringify(result.state)}\n`);
  io.out(JSON.stringify({ objective: id, backend: backend.name, params, loss: result.loss, metrics: result.metrics, gradNorms, state: result.state }, null, 2));
  return 0;
}
