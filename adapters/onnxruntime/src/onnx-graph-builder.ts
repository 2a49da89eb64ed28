import type { onnx } from 'onnx-proto';

/** ONNX `TensorProto.DataType` codes used here. */
export const ONNX_TYPE = { float: 1, int32: 6, int64: 7, bool: 9 } as const;
export type OnnxElementType = keyof typeof ONNX_TYPE;

/** The opset the graphs are written against (onnxruntime ≥ 1.14 runs it). */
export const ONNX_OPSET = 18;
/** IR version matching opset 18. */
export const ONNX_IR_VERSION = 8;

const ATTRIBUTE_TYPE = { float: 1, int: 2, string: 3, ints: 7 } as const;

export type AttributeValue = number | string | readonly number[] | { readonly float: number };

/**
 * Collects the nodes, constants, inputs and outputs of one ONNX graph as plain `onnx-proto`
 * objects. Value names are generated; constants with the same content are shared.
 */
export class OnnxGraphBuilder {
  private readonly nodes: onnx.INodeProto[] = [];
  private readonly initializers: onnx.ITensorProto[] = [];
  private readonly inputs: onnx.IValueInfoProto[] = [];
  private readonly outputs: onnx.IValueInfoProto[] = [];
  private readonly constants = new Map<string, string>();
  private nextValue = 0;

  /** A graph input of `rank` symbolic dimensions named `${name}_d${axis}`. */
  input(name: string, type: OnnxElementType, rank: number): string {
    const dim = Array.from({ length: rank }, (_, axis) => ({ dimParam: `${name}_d${axis}` }));
    this.inputs.push({ name, type: { tensorType: { elemType: ONNX_TYPE[type], shape: { dim } } } });
    return name;
  }

  /** Declares `value` as a graph output (its shape is left to onnxruntime). */
  output(value: string, type: OnnxElementType): void {
    this.outputs.push({ name: value, type: { tensorType: { elemType: ONNX_TYPE[type] } } });
  }

  /** Adds a node and returns the names of its `outputCount` outputs. */
  nodeMulti(opType: string, inputs: readonly string[], attributes: Readonly<Record<string, AttributeValue>>, outputCount: number): string[] {
    const output = Array.from({ length: outputCount }, () => `v${this.nextValue++}`);
    return this.addNode(opType, inputs, attributes, output);
  }

  /** Adds a single-output node and returns its output name (`name`, or a generated one). */
  node(opType: string, inputs: readonly string[], attributes: Readonly<Record<string, AttributeValue>> = {}, name?: string): string {
    return name === undefined ? this.nodeMulti(opType, inputs, attributes, 1)[0] : this.addNode(opType, inputs, attributes, [name])[0];
  }

  private addNode(opType: string, inputs: readonly string[], attributes: Readonly<Record<string, AttributeValue>>, output: string[]): string[] {
    const attribute = Object.entries(attributes).map(([name, value]) => encodeAttribute(name, value));
    this.nodes.push({ opType, input: [...inputs], output, attribute, name: `${opType}_${this.nodes.length}` });
    return output;
  }

  /** An int64 constant vector (axes) or scalar (`shape` `[]`). */
  int64(values: readonly number[], shape: readonly number[] = [values.length]): string {
    return this.constant(`i64:${shape.join('x')}:${values.join(',')}`, { dataType: ONNX_TYPE.int64, dims: [...shape], int64Data: [...values] });
  }

  int32Scalar(value: number): string {
    return this.constant(`i32:${value}`, { dataType: ONNX_TYPE.int32, dims: [], int32Data: [value] });
  }

  floatScalar(value: number): string {
    return this.constant(`f32:${Object.is(value, -0) ? '-0' : value}`, { dataType: ONNX_TYPE.float, dims: [], floatData: [value] });
  }

  private constant(key: string, tensor: onnx.ITensorProto): string {
    let name = this.constants.get(key);
    if (!name) {
      name = `c${this.constants.size}`;
      this.initializers.push({ ...tensor, name });
      this.constants.set(key, name);
    }
    return name;
  }

  /** The finished model as a plain object (encode with `onnx.ModelProto.encode`). */
  model(graphName: string): onnx.IModelProto {
    return {
      irVersion: ONNX_IR_VERSION,
      producerName: '@pref/adapter-onnxruntime',
      opsetImport: [{ domain: '', version: ONNX_OPSET }],
      graph: { name: graphName, node: this.nodes, initializer: this.initializers, input: this.inputs, output: this.outputs },
    };
  }
}

function encodeAttribute(name: string, value: AttributeValue): onnx.IAttributeProto {
  if (typeof value === 'number') return { name, type: ATTRIBUTE_TYPE.int, i: value };
  if (typeof value === 'string') return { name, type: ATTRIBUTE_TYPE.string, s: new TextEncoder().encode(value) };
  if ('float' in value) return { name, type: ATTRIBUTE_TYPE.float, f: value.float };
  return { name, type: ATTRIBUTE_TYPE.ints, ints: [...value] };
}
