import type { onnx } from 'onnx-proto';
import type { BinaryOp, CompareOp, ReduceOp } from '@pref/core/backend';
import type { GraphPlan } from './graph-plan';
import { ONNX_TYPE, OnnxGraphBuilder, type Dim, type OnnxElementType } from './onnx-graph-builder';
import { lowerUnary } from './lower-unary';
import { TokenLogProbsLowering } from './lower-token-log-probs';
import { LinearHeadLowering, type LinearHeadValues } from './lower-linear-head';
import type { Feed } from './graph-plan';

const BINARY: Record<BinaryOp, string> = { add: 'Add', sub: 'Sub', mul: 'Mul', div: 'Div', pow: 'Pow', maximum: 'Max', minimum: 'Min' };
const COMPARE: Record<CompareOp, string> = {
  greater: 'Greater',
  greaterEqual: 'GreaterOrEqual',
  less: 'Less',
  lessEqual: 'LessOrEqual',
  equal: 'Equal',
};
const REDUCE: Record<ReduceOp, string> = { sum: 'ReduceSum', max: 'ReduceMax', mean: 'ReduceMean' };

/**
 * The ONNX model of a plan: one graph input per feed (symbolic dimensions), one output per
 * distinct tensor read, and every recorded primitive in its numerically safe ONNX form.
 * Nothing here depends on sizes or data, only on what the plan's key names.
 */
export function lowerGraph(plan: GraphPlan, options: LowerOptions = {}): { model: onnx.IModelProto; outputNames: string[] } {
  const b = new OnnxGraphBuilder();
  const tokenLogProbs = new TokenLogProbsLowering(b);
  const linearHead = new LinearHeadLowering(b);
  const values: string[] = [];
  /** Outputs 1, 2, ... of multi-output nodes, by plan index. */
  const secondaries = new Map<number, string[]>();
  const declared = new Map<string, string>();
  const declaredNames = new Map<string, string>();
  const feedByName = new Map(plan.feeds.map((f) => [f.name, f]));
  const feed = (name: string) => {
    let value = declared.get(name);
    if (value === undefined) {
      const f = feedByName.get(name)!;
      const declaration = options.declareFeed?.(f) ?? { as: 'input', name: f.name, dims: f.dims.map((_, axis) => `${f.name}_d${axis}`) };
      // Feeds declared under one name (the same batch input fed twice) share one graph value.
      value = declaredNames.get(declaration.name) ?? declareFeed(b, f, declaration);
      declaredNames.set(declaration.name, value);
      declared.set(name, value);
    }
    return value;
  };

  for (const node of plan.nodes) {
    const { tensor } = node;
    const { op } = tensor;
    const inputs = node.inputs.map((i) => values[i]);
    const feeds = node.feeds.map(feed);
    /** Inputs as float32 (int tensors are cast where a float op consumes them). */
    const asFloat = (k: number) =>
      plan.nodes[node.inputs[k]].tensor.dtype === 'int32' ? b.node('Cast', [inputs[k]], { to: 1 }) : inputs[k];
    let out: string;
    switch (op.kind) {
      case 'input':
        out = feeds[0];
        break;
      case 'fill':
        out = tensor.shape.length ? b.node('Expand', [feeds[0], feeds[1]]) : feeds[0];
        break;
      case 'unary':
        out = lowerUnary(b, op.op, asFloat(0));
        break;
      case 'binary':
        out = b.node(BINARY[op.op], [asFloat(0), asFloat(1)]);
        break;
      case 'compare':
        out = b.node('Cast', [b.node(COMPARE[op.op], [asFloat(0), asFloat(1)])], { to: 1 });
        break;
      case 'where':
        out = b.node('Where', [b.node('Cast', [inputs[0]], { to: 9 }), asFloat(1), asFloat(2)]);
        break;
      case 'reduce':
        out =
          op.axes.length === 0
            ? b.node('Identity', [asFloat(0)])
            : b.node(REDUCE[op.op], [asFloat(0), b.int64(op.axes)], { keepdims: op.keepDims ? 1 : 0 });
        break;
      case 'reshape':
        out = b.node('Reshape', [inputs[0], feeds[0]], { allowzero: 1 });
        break;
      case 'broadcastTo':
        out = b.node('Expand', [inputs[0], feeds[0]]);
        break;
      case 'slice':
        out = b.node('Slice', [inputs[0], feeds[0], feeds[1]]);
        break;
      case 'concat':
        out = b.node('Concat', inputs, { axis: op.axis });
        break;
      case 'argsort': {
        const [, indices] = b.nodeMulti('TopK', [inputs[0], feeds[0]], { axis: op.axis, largest: 0, sorted: 1 }, 2);
        out = b.node('Cast', [indices], { to: 6 });
        break;
      }
      case 'gather':
        out = b.node('GatherElements', [inputs[0], inputs[1]], { axis: op.axis });
        break;
      case 'scatterAdd':
        out = b.node('ScatterElements', [b.node('ConstantOfShape', [feeds[0]]), inputs[0], asFloat(1)], {
          axis: op.axis,
          reduction: 'add',
        });
        break;
      case 'tokenLogProbs': {
        const { logps, logSumExp } = tokenLogProbs.forward(
          inputs[0],
          inputs[1],
          plan.nodes[node.inputs[0]].tensor.shape.length,
          op.ignoreIndex,
        );
        secondaries.set(values.length, [logSumExp]);
        out = logps;
        break;
      }
      case 'tokenLogProbsGrad':
        out = tokenLogProbs.gradient(
          inputs[0],
          inputs[1],
          inputs[2],
          inputs[3],
          plan.nodes[node.inputs[0]].tensor.shape.length,
          op.ignoreIndex,
        );
        break;
      case 'linearTokenLogProbs':
      case 'linearTokenLogProbsGrad': {
        const [hidden, weight, ...rest] = inputs;
        const bias = op.hasBias ? rest.shift()! : null;
        const head: LinearHeadValues = {
          hidden,
          weight,
          bias,
          labels: rest[0],
          ignoreIndex: op.ignoreIndex,
          chunkSize: feeds[0],
          logitScale: feeds[1],
          softcap: op.softcap === null ? null : feeds[2],
        };
        if (op.kind === 'linearTokenLogProbs') {
          const { logps, logSumExp } = linearHead.forward(head);
          secondaries.set(values.length, [logSumExp]);
          out = logps;
        } else {
          const grads = linearHead.gradient(head, rest[1], rest[2]);
          secondaries.set(values.length, grads.bias ? [grads.weight, grads.bias] : [grads.weight]);
          out = grads.hidden;
        }
        break;
      }
      case 'secondary':
        out = secondaries.get(node.inputs[0])![op.index - 1];
        break;
    }
    values.push(out);
  }

  const names = plan.outputs.map((nodeIndex, position) => {
    const { tensor } = plan.nodes[nodeIndex];
    const type: OnnxElementType = tensor.dtype === 'int32' ? 'int32' : 'float';
    // Outputs get their own names, so a tensor read can also be a graph input.
    const name = b.node('Identity', [values[nodeIndex]], {}, options.outputNames?.[position]);
    b.output(name, type, options.outputDims?.[position] ?? tensor.shape.map(() => null));
    return name;
  });
  return { model: b.model('pref'), outputNames: names };
}

/** How one feed enters the model: a graph input (named, with declared dims) or an initializer. */
export type FeedDeclaration =
  { readonly as: 'input'; readonly name: string; readonly dims: readonly Dim[] } | { readonly as: 'initializer'; readonly name: string };

export interface LowerOptions {
  /** Output names by position in `plan.outputs` (default: generated). */
  readonly outputNames?: readonly string[];
  /** Declared output dims by position (default: the rank, sizes unknown). */
  readonly outputDims?: readonly (readonly Dim[])[];
  /** How each feed is declared (default: an input named after the feed, symbolic dims). */
  readonly declareFeed?: (feed: Feed) => FeedDeclaration;
}

const ELEMENT: Record<Feed['type'], OnnxElementType> = { float32: 'float', int32: 'int32', int64: 'int64' };

function declareFeed(b: OnnxGraphBuilder, feed: Feed, declaration: FeedDeclaration): string {
  const type = ELEMENT[feed.type];
  if (declaration.as === 'input') return b.input(declaration.name, type, declaration.dims);
  const data = Array.from(feed.data as ArrayLike<number | bigint>, Number);
  const values = type === 'float' ? { floatData: data } : type === 'int32' ? { int32Data: data } : { int64Data: data };
  return b.initializer({ name: declaration.name, dataType: ONNX_TYPE[type], dims: [...feed.dims], ...values });
}
