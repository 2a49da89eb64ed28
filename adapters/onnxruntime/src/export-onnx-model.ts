import { valueAndGrad, type AnyObjective, type Batch, type HostArray, type ObjectiveState } from '@pref/core';
import { sizeOf } from '@pref/core/backend';
import { GraphRecorder } from './graph-recorder';
import type { GraphTensor } from './graph-tensor';
import { planGraph, type Feed, type GraphPlan } from './graph-plan';
import { lowerGraph } from './lower-graph';
import { encodeOnnxModel } from './encode-onnx-model';

/** A graph input of an exported model: what it stands for and the value it had at export. */
export interface ExportedInput extends Feed {
  /** `data`: a batch input or constant; `value`: a scalar fill (parameters, counts); `shape`: sizes of a reshape, slice, ... */
  readonly role: 'data' | 'value' | 'shape';
}

export interface ExportedOnnxModel {
  /** The ONNX model (opset 18) as protobuf bytes: write it to a `.onnx` file. */
  readonly model: Uint8Array;
  /** Graph inputs in order, with the values of the exported batch (feed them to reproduce it). */
  readonly inputs: readonly ExportedInput[];
  /** Graph output names: `loss`, `grad/<input>`, `metric/<name>`, then `output/<k>` for state and per-example values. */
  readonly outputs: readonly string[];
}

/** Records the graph behind a `read` instead of running it. */
class ExportingRecorder extends GraphRecorder {
  readonly name = 'onnxruntime:export';
  plan: GraphPlan | null = null;

  async read(xs: readonly GraphTensor[]): Promise<HostArray[]> {
    if (this.plan) throw new Error('exportOnnxModel: the objective read values twice; only single-worker loss graphs can be exported');
    this.plan = planGraph(xs);
    return xs.map((x) => (x.dtype === 'int32' ? new Int32Array(sizeOf(x.shape)) : new Float32Array(sizeOf(x.shape))));
  }
}

/**
 * The loss graph of `objective` on `batch` (forward and the backward core derives from it) as
 * one ONNX model, as the onnxruntime backend compiles it, to inspect with Netron or run from
 * Python. Sizes, data and parameter values are graph inputs (listed with their values);
 * outputs are named after the loss, gradients and metrics. Needs no onnxruntime.
 */
export async function exportOnnxModel(
  objective: AnyObjective,
  batch: Batch,
  params: Readonly<Record<string, unknown>> = {},
  options: { readonly state?: ObjectiveState | null } = {},
): Promise<ExportedOnnxModel> {
  const recorder = new ExportingRecorder();
  const result = await valueAndGrad(objective, batch, params, { backend: recorder, state: options.state ?? null });
  const plan = recorder.plan!;
  const readNames = ['loss', ...Object.keys(result.grads).map((n) => `grad/${n}`), ...Object.keys(result.metrics).map((n) => `metric/${n}`)];
  const outputNames = plan.outputs.map((_, position) => {
    const first = plan.outputOf.indexOf(position);
    return readNames[first] ?? `output/${first}`;
  });
  const lowered = lowerGraph(plan, { outputNames });
  const roleOf = new Map<string, ExportedInput['role']>();
  for (const node of plan.nodes) {
    node.feeds.forEach((name, k) => {
      const kind = node.tensor.op.kind;
      roleOf.set(name, kind === 'input' ? 'data' : kind === 'fill' && k === 0 ? 'value' : 'shape');
    });
  }
  return {
    model: await encodeOnnxModel(lowered.model),
    inputs: plan.feeds.map((feed) => ({ ...feed, role: roleOf.get(feed.name)! })),
    outputs: lowered.outputNames,
  };
}
