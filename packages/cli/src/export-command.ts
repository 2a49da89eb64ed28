import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { AnyObjective, Batch, ObjectiveState } from '@pref/core';
import { BATCH_FILE_OPTIONS, readBatchFile } from './read-batch-file';
import { UsageError, type CliIo } from './cli-io';

export const EXPORT_HELP = `pref export --objective <id> --batch <file.json> --out <file.onnx> [--params ...]

Compiles an objective's loss, gradients and metrics for the batch into one ONNX model
(onnxruntime adapter), to inspect with Netron or run from Python. Graph inputs are named after
the batch's inputs (chosenLogps, chosenMask, ...) with symbolic B, T, V, H dims; parameters,
constants and shapes are initializers holding this batch's values (export again for other
sizes). Outputs: loss, grad/<input>, metric/<name>. A sidecar <file.onnx>.json lists each
input with this batch's values.

  --objective <id>     objective id (or "objective" in the batch file)
  --batch <file.json>  inputs (as for pref loss)
  --params <p>         JSON object or name=value pairs
  --state <file.json>  state for stateful objectives
  --out <file.onnx>    where to write the model`;

interface OnnxExporter {
  exportOnnxModel(
    objective: AnyObjective,
    batch: Batch,
    params: Record<string, unknown>,
    options: { state?: ObjectiveState | null },
  ): Promise<{
    model: Uint8Array;
    inputs: readonly {
      name: string;
      type: string;
      dims: readonly number[];
      symbolicDims: readonly (string | number | null)[];
      data: ArrayLike<number | bigint>;
    }[];
    outputs: readonly string[];
  }>;
}

export async function exportCommand(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      ...BATCH_FILE_OPTIONS,
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    io.out(EXPORT_HELP);
    return 0;
  }
  if (!values.out) throw new UsageError('--out <file.onnx> is required');
  const { id, objective, batch, params, state } = await readBatchFile(io, values, 'pref export');
  let exporter: OnnxExporter;
  try {
    exporter = (await import(/* @vite-ignore */ '@pref/adapter-onnxruntime')) as OnnxExporter;
  } catch (error) {
    throw new UsageError(`pref export needs @pref/adapter-onnxruntime: npm i @pref/adapter-onnxruntime (${(error as Error).message})`);
  }
  const exported = await exporter.exportOnnxModel(objective, batch, params, { state });
  const out = resolve(io.cwd, values.out);
  await writeFile(out, exported.model);
  const inputs = exported.inputs.map(({ name, type, dims, symbolicDims, data }) => ({
    name,
    type,
    dims,
    symbolicDims,
    values: Array.from(data, Number),
  }));
  await writeFile(`${out}.json`, `${JSON.stringify({ objective: id, params, inputs, outputs: exported.outputs })}\n`);
  io.out(`wrote ${values.out} (${exported.model.byteLength} bytes; outputs ${exported.outputs.join(', ')})`);
  return 0;
}
