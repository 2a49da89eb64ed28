import type { FeedData, GraphTensor } from './graph-tensor';

/** A value the graph is fed at run time: host data, a fill value, or a shape vector. */
export interface Feed {
  readonly name: string;
  readonly type: 'float32' | 'int32' | 'int64';
  readonly data: FeedData | BigInt64Array;
  readonly dims: readonly number[];
}

/** One recorded tensor in emission order, with the plan indices of its inputs and its feed names. */
export interface PlannedNode {
  readonly tensor: GraphTensor;
  readonly inputs: readonly number[];
  readonly feeds: readonly string[];
}

/**
 * The graph behind the tensors read: nodes in dependency order, the feeds of this call, and
 * a structural key. The key names ops, attributes, dtypes, ranks and wiring but no size and
 * no value, so calls that differ only in data or sizes share one compiled session.
 */
export interface GraphPlan {
  readonly key: string;
  readonly nodes: readonly PlannedNode[];
  readonly feeds: readonly Feed[];
  /** Plan index of each distinct tensor read. */
  readonly outputs: readonly number[];
  /** For each tensor asked for, its position in `outputs`. */
  readonly outputOf: readonly number[];
}

const int64 = (values: readonly number[]) => BigInt64Array.from(values, (v) => BigInt(v));

export function planGraph(targets: readonly GraphTensor[]): GraphPlan {
  const index = new Map<GraphTensor, number>();
  const nodes: PlannedNode[] = [];
  const feeds: Feed[] = [];
  const keyParts: string[] = [];

  const feed = (type: Feed['type'], data: Feed['data'], dims: readonly number[]): string => {
    const name = `f${feeds.length}`;
    feeds.push({ name, type, data, dims });
    return name;
  };
  const shapeFeed = (shape: readonly number[]) => feed('int64', int64(shape), [shape.length]);

  /** Emits `tensor` after its inputs and returns its plan index. */
  const emit = (tensor: GraphTensor): number => {
    // Fills are emitted afresh at every use: core shares scalars of equal value, and a shared
    // scalar must not make a structure (and a session) of its own.
    const inputs = tensor.inputs.map((t) => (t.op.kind === 'fill' ? emit(t) : index.get(t)!));
    const { op, shape } = tensor;
    const names: string[] = [];
    let attrs = '';
    switch (op.kind) {
      case 'input':
        names.push(feed(tensor.dtype === 'int32' ? 'int32' : 'float32', op.data, shape));
        break;
      case 'fill':
        names.push(feed('float32', Float32Array.of(op.value), []));
        if (shape.length) names.push(shapeFeed(shape));
        break;
      case 'reshape':
      case 'broadcastTo':
      case 'scatterAdd':
        names.push(shapeFeed(shape));
        attrs = op.kind === 'scatterAdd' ? String(op.axis) : '';
        break;
      case 'slice':
        names.push(shapeFeed(op.begin), shapeFeed(op.begin.map((b, i) => b + shape[i])));
        break;
      case 'argsort':
        names.push(feed('int64', int64([shape[op.axis]]), [1]));
        attrs = String(op.axis);
        break;
      case 'unary':
      case 'binary':
      case 'compare':
        attrs = op.op;
        break;
      case 'reduce':
        attrs = `${op.op}/${op.axes.join(',')}/${op.keepDims ? 1 : 0}`;
        break;
      case 'concat':
      case 'gather':
        attrs = String(op.axis);
        break;
      case 'tokenLogProbs':
      case 'tokenLogProbsGrad':
        attrs = String(op.ignoreIndex);
        break;
      case 'linearTokenLogProbs':
      case 'linearTokenLogProbsGrad':
        // Chunk size, scale and cap are fed: only whether there is a bias or a cap is structure.
        names.push(feed('int64', int64([op.chunkSize]), []), feed('float32', Float32Array.of(op.logitScale), []));
        if (op.softcap !== null) names.push(feed('float32', Float32Array.of(op.softcap), []));
        attrs = `${op.ignoreIndex}/${op.hasBias ? 'bias' : ''}/${op.softcap !== null ? 'softcap' : ''}`;
        break;
      case 'secondary':
        attrs = String(op.index);
        break;
      case 'where':
        break;
    }
    if (op.kind !== 'fill') index.set(tensor, nodes.length);
    nodes.push({ tensor, inputs, feeds: names });
    keyParts.push(`${op.kind}:${attrs}:${tensor.dtype === 'int32' ? 'i' : 'f'}${shape.length}(${inputs.join(',')})`);
    return nodes.length - 1;
  };

  // Iterative post-order walk: inputs before the tensors that use them, first use first.
  const targetIndex = targets.map((target) => {
    if (target.op.kind === 'fill') return emit(target);
    const stack: [GraphTensor, number][] = [[target, 0]];
    while (stack.length) {
      const top = stack[stack.length - 1];
      const [tensor, next] = top;
      if (index.has(tensor)) {
        stack.pop();
        continue;
      }
      if (next < tensor.inputs.length) {
        top[1]++;
        const input = tensor.inputs[next];
        if (input.op.kind !== 'fill' && !index.has(input)) stack.push([input, 0]);
        continue;
      }
      stack.pop();
      emit(tensor);
    }
    return index.get(target)!;
  });

  const outputs: number[] = [];
  const outputOf = targetIndex.map((i) => {
    let position = outputs.indexOf(i);
    if (position < 0) position = outputs.push(i) - 1;
    return position;
  });
  const key = `${keyParts.join(' ')} => ${outputs.join(',')}`;
  return { key, nodes, feeds, outputs, outputOf };
}
