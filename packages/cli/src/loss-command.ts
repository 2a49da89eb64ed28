import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { valueAndGrad, type GradientArray } from '@pref/core';
import { backendFromOptions } from './backend-from-options';
import { BATCH_FILE_OPTIONS, readBatchFile } from './read-batch-file';
import { encodeNpy } from './npy-file';
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
  --precision 32|64    float precision where the backend offers a choice
  --gradients          also write every gradient: "gradients": { "<input>": nested array, ... }
  --out-dir <folder>   write each gradient as <folder>/<input>.npy (NumPy, float32 or float64 as
                       computed); the JSON then lists { file, shape, dtype } per gradient
                       (implies --gradients)
  --out <file>         write the JSON to <file> instead of stdout`;

export async function lossCommand(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      ...BATCH_FILE_OPTIONS,
      'save-state': { type: 'string' },
      backend: { type: 'string' },
      precision: { type: 'string' },
      gradients: { type: 'boolean', default: false },
      'out-dir': { type: 'string' },
      out: { type: 'string' },
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
  const report: Record<string, unknown> = {
    objective: id,
    backend: backend.name,
    params,
    loss: result.loss,
    metrics: result.metrics,
    gradNorms,
    state: result.state,
  };
  if (values['out-dir'] !== undefined) report.gradients = await writeNpyGradients(resolve(io.cwd, values['out-dir']), result.grads);
  else if (values.gradients) report.gradients = Object.fromEntries(Object.entries(result.grads).map(([name, g]) => [name, nested(g)]));
  const text = JSON.stringify(report, null, 2);
  if (values.out !== undefined) {
    await writeFile(resolve(io.cwd, values.out), `${text}\n`);
    io.err(`pref loss: wrote ${values.out}`);
  } else {
    io.out(text);
  }
  return 0;
}

/** A gradient as nested arrays in its shape (a number for a scalar). */
function nested({ data, shape }: GradientArray): unknown {
  const level = (offset: number, dim: number): unknown => {
    if (dim === shape.length) return data[offset];
    const stride = shape.slice(dim + 1).reduce((n, d) => n * d, 1);
    return Array.from({ length: shape[dim] }, (_, i) => level(offset + i * stride, dim + 1));
  };
  return level(0, 0);
}

/** Writes `<folder>/<input>.npy` per gradient; returns `{ file, shape, dtype }` per input. */
async function writeNpyGradients(folder: string, grads: Readonly<Record<string, GradientArray>>) {
  await mkdir(folder, { recursive: true });
  const listing: Record<string, { file: string; shape: readonly number[]; dtype: string }> = {};
  for (const [name, g] of Object.entries(grads)) {
    if (!/^[A-Za-z0-9_.-]+$/.test(name))
      throw new UsageError(`--out-dir: the gradient name ${JSON.stringify(name)} is not a safe file name`);
    const file = join(folder, `${name}.npy`);
    await writeFile(file, encodeNpy(g.data, g.shape));
    listing[name] = { file, shape: [...g.shape], dtype: g.data instanceof Float32Array ? 'float32' : 'float64' };
  }
  return listing;
}
