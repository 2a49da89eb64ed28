import type { onnx } from 'onnx-proto';

/** ONNX `TensorProto.DataType` codes used here. */
export const ONNX_TYPE = { float: 1, int32: 6, int64: 7, bool: 9 } as const;
export type OnnxElementType = keyof typeof ONNX_TYPE;

/** The opset the graphs are written against (onnxruntime ≥ 1.14 runs it). */
export const ONNX_OPSET = 18;
/** IR version matching opset 18. */
export const ONNX_IR_VERSION = 8;

const ATTRIBUTE_TYPE = { float: 1, int: 2, string: 3, graph: 5, ints: 7 } as const;

export type AttributeValue = number | string | readonly number[] | { readonly float: number } | { readonly graph: onnx.IGraphProto };

/** A dimension of a declared value: a symbolic name, a fixed size, or unknown (`null`). */
export type Dim = string | number | null;

/** What the graphs of one model share: constants (as root initializers) and the name counters. */
interface ModelScope {
  readonly initializers: onnx.ITensorProto[];
  readonly constants: Map<string, string>;
  nextValue: number;
  nextNode: number;
}

/**
 * Collects the nodes, constants, inputs and outputs of one ONNX graph as plain `onnx-proto`
 * objects. Value names are generated; constants with the same content are shared.
 */
export class OnnxGraphBuilder {
  private readonly nodes: onnx.INodeProto[] = [];
  private readonly inputs: onnx.IValueInfoProto[] = [];
  private readonly outputs: onnx.IValueInfoProto[] = [];
  private readonly scope: ModelScope;

  constructor(scope?: ModelScope) {
    this.scope = scope ?? { initializers: [], constants: new Map(), nextValue: 0, nextNode: 0 };
  }

  /**
   * A graph input: `dims` as given, or `rank` symbolic dimensions named `${name}_d${axis}`.
   */
  input(name: string, type: OnnxElementType, dims: number | readonly Dim[]): string {
    const declared = typeof dims === 'number' ? Array.from({ length: dims }, (_, axis) => `${name}_d${axis}`) : dims;
    this.inputs.push(valueInfo(name, type, declared));
    return name;
  }

  /** Declares `value` as a graph output, of `dims` (each unknown when left out: rank `dims.length`). */
  output(value: string, type: OnnxElementType, dims: readonly Dim[]): void {
    this.outputs.push(valueInfo(value, type, dims));
  }

  /** A new value name, unique in the model (for subgraph inputs). */
  freshName(): string {
    return `v${this.scope.nextValue++}`;
  }

  /** A named initializer (a constant the model holds, e.g. an exported parameter value). */
  initializer(tensor: onnx.ITensorProto & { readonly name: string }): string {
    this.scope.initializers.push(tensor);
    return tensor.name;
  }

  /**
   * A builder for a subgraph (a `Loop` body) of the same model: it shares the model's
   * constants and names and may use any value of the enclosing graph.
   */
  subgraph(): OnnxGraphBuilder {
    return new OnnxGraphBuilder(this.scope);
  }

  /** This builder's nodes, inputs and outputs as a subgraph (constants stay in the root graph). */
  graph(name: string): onnx.IGraphProto {
    return { name, node: this.nodes, input: this.inputs, output: this.outputs };
  }

  /** Adds a node and returns the names of its `outputCount` outputs. */
  nodeMulti(
    opType: string,
    inputs: readonly string[],
    attributes: Readonly<Record<string, AttributeValue>>,
    outputCount: number,
  ): string[] {
    const output = Array.from({ length: outputCount }, () => `v${this.scope.nextValue++}`);
    return this.addNode(opType, inputs, attributes, output);
  }

  /** Adds a single-output node and returns its output name (`name`, or a generated one). */
  node(opType: string, inputs: readonly string[], attributes: Readonly<Record<string, AttributeValue>> = {}, name?: string): string {
    return name === undefined ? this.nodeMulti(opType, inputs, attributes, 1)[0] : this.addNode(opType, inputs, attributes, [name])[0];
  }

  private addNode(
    opType: string,
    inputs: readonly string[],
    attributes: Readonly<Record<string, AttributeValue>>,
    output: string[],
  ): string[] {
    const attribute = Object.entries(attributes).map(([name, value]) => encodeAttribute(name, value));
    this.nodes.push({ opType, input: [...inputs], output, attribute, name: `${opType}_${this.scope.nextNode++}` });
    return output;
  }

  /** An int64 constant vector (axes) or scalar (`shape` `[]`). */
  int64(values: readonly number[], shape: readonly number[] = [values.length]): string {
    return this.constant(`i64:${shape.join('x')}:${values.join(',')}`, {
      dataType: ONNX_TYPE.int64,
      dims: [...shape],
      int64Data: [...values],
    });
  }

  int32Scalar(value: number): string {
    return this.constant(`i32:${value}`, { dataType: ONNX_TYPE.int32, dims: [], int32Data: [value] });
  }

  floatScalar(value: number): string {
    return this.constant(`f32:${Object.is(value, -0) ? '-0' : value}`, { dataType: ONNX_TYPE.float, dims: [], floatData: [value] });
  }

  private constant(key: string, tensor: onnx.ITensorProto): string {
    const { constants, initializers } = this.scope;
    let name = constants.get(key);
    if (!name) {
      name = `c${constants.size}`;
      initializers.push({ ...tensor, name });
      constants.set(key, name);
    }
    return name;
  }

  /** The finished model as a plain object (encode with `onnx.ModelProto.encode`). */
  model(graphName: string): onnx.IModelProto {
    return {
      irVersion: ONNX_IR_VERSION,
      producerName: '@pref/adapter-onnxruntime',
      opsetImport: [{ domain: '', version: ONNX_OPSET }],
      graph: { ...this.graph(graphName), initializer: this.scope.initializers },
    };
  }
}

function encodeAttribute(name: string, value: AttributeValue): onnx.IAttributeProto {
  if (typeof value === 'number') return { name, type: ATTRIBUTE_TYPE.int, i: value };
  if (typeof value === 'string') return { name, type: ATTRIBUTE_TYPE.string, s: new TextEncoder().encode(value) };
  if ('float' in value) return { name, type: ATTRIBUTE_TYPE.float, f: value.float };
  if ('graph' in value) return { name, type: ATTRIBUTE_TYPE.graph, g: value.graph };
  return { name, type: ATTRIBUTE_TYPE.ints, ints: [...value] };
}

function valueInfo(name: string, type: OnnxElementType, dims: readonly Dim[]): onnx.IValueInfoProto {
  const dim = dims.map((d) => (typeof d === 'string' ? { dimParam: d } : typeof d === 'number' ? { dimValue: d } : {}));
  return { name, type: { tensorType: { elemType: ONNX_TYPE[type], shape: { dim } } } };
}
