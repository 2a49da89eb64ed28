import { valueAndGrad, type AnyObjective, type Batch, type HostArray, type ObjectiveState } from '@pref/core';
import { sizeOf } from '@pref/core/backend';
import { GraphRecorder } from './graph-recorder';
import type { GraphTensor } from './graph-tensor';
import { planGraph, type Feed, type GraphPlan } from './graph-plan';
import { lowerGraph, type FeedDeclaration } from './lower-graph';
import { nameExportedInputs } from './exported-input-names';
import { encodeOnnxModel } from './encode-onnx-model';

/** A graph input of an exported model: a batch input, its symbolic dims, and its value at export. */
export interface ExportedInput extends Feed {
  /** Symbolic dims as declared in the model (`B`, `T`, `V`, `H`, ...); `dims` holds this batch's sizes. */
  readonly symbolicDims: readonly (string | number | null)[];
}

export interface ExportedOnnxModel {
  /** The ONNX model (opset 18, IR 8) as protobuf bytes: write it to a `.onnx` file. */
  readonly model: Uint8Array;
  /**
   * Graph inputs in order, named after the batch's inputs (`chosenLogps`, `chosenMask`, ...),
   * with the values of the exported batch (feed them to reproduce it).
   */
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
 * one ONNX model, to inspect with Netron or run from Python. Graph inputs are the batch's
 * inputs, by name, with symbolic `B`, `T`, `V`, `H` dims; parameter values, constants and the
 * sizes of reshapes and slices are initializers holding this batch's values, so the model
 * computes this batch's structure and sizes: export again for other sizes. Outputs are named
 * after the loss, gradients and metrics. Needs no onnxruntime.
 */
export async function exportOnnxModel(
  objective: AnyObjective,
  batch: Batch,
  params: Readonly<Record<string, unknown>> = {},
  options: { readonly state?: ObjectiveState | null } = {},
): Promise<ExportedOnnxModel> {
  const recorder = new ExportingRecorder();
  const result = await valueAndGrad(objective, batch, params as never, { backend: recorder, state: options.state ?? null });
  const plan = recorder.plan!;
  const readNames = [
    'loss',
    ...Object.keys(result.grads).map((n) => `grad/${n}`),
    ...Object.keys(result.metrics).map((n) => `metric/${n}`),
  ];
  const outputNames = plan.outputs.map((_, position) => {
    const first = plan.outputOf.indexOf(position);
    return readNames[first] ?? `output/${first}`;
  });
  const named = nameExportedInputs(plan.feeds, batch as Record<string, unknown>, -100, feedNeighbours(plan));
  const dimsByInput = new Map([...named.values()].map((input) => [input.name, input.dims]));
  const outputDims = plan.outputs.map((nodeIndex, position) => {
    const name = outputNames[position];
    const dims = name.startsWith('grad/') ? dimsByInput.get(name.slice('grad/'.length)) : undefined;
    return dims ?? plan.nodes[nodeIndex].tensor.shape.map(() => null);
  });
  const constants = new Map<string, string>();
  const declareFeed = (feed: Feed): FeedDeclaration => {
    const input = named.get(feed.name);
    if (input) return { as: 'input', name: input.name, dims: input.dims };
    let name = constants.get(feed.name);
    if (!name) constants.set(feed.name, (name = `${feed.type === 'int64' ? 'shape' : 'const'}_${constants.size}`));
    return { as: 'initializer', name };
  };
  const lowered = lowerGraph(plan, { outputNames, outputDims, declareFeed });
  const inputs: ExportedInput[] = [];
  for (const feed of plan.feeds) {
    const input = named.get(feed.name);
    if (input && !inputs.some((i) => i.name === input.name)) inputs.push({ ...feed, name: input.name, symbolicDims: input.dims });
  }
  return { model: await encodeOnnxModel(lowered.model), inputs, outputs: lowered.outputNames };
}

/** For each feed, the other feeds whose values meet it within two nodes downstream. */
function feedNeighbours(plan: GraphPlan): (feed: string) => readonly string[] {
  const consumers = plan.nodes.map(() => [] as number[]);
  plan.nodes.forEach((node, i) => node.inputs.forEach((input) => consumers[input].push(i)));
  const reach = (start: number) => {
    const near = new Set(consumers[start]);
    for (const c of [...near]) for (const d of consumers[c]) near.add(d);
    return near;
  };
  const nodeOf = new Map<string, number>();
  plan.nodes.forEach((node, i) => node.feeds.forEach((name) => nodeOf.set(name, i)));
  const reached = new Map([...nodeOf].map(([name, i]) => [name, reach(i)]));
  return (feed) => {
    const mine = reached.get(feed) ?? new Set<number>();
    return [...reached].filter(([other, set]) => other !== feed && [...set].some((n) => mine.has(n))).map(([other]) => other);
  };
}
