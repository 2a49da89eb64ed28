import type { onnx } from 'onnx-proto';

type OnnxSchema = typeof onnx;
let schema: Promise<OnnxSchema> | null = null;

/** The model as ONNX protobuf bytes (`onnx-proto` is loaded on first use). */
export async function encodeOnnxModel(model: onnx.IModelProto): Promise<Uint8Array> {
  schema ??= import('onnx-proto').then((module: Record<string, unknown>) => {
    const root = (module.onnx ?? (module.default as { onnx?: unknown } | undefined)?.onnx) as OnnxSchema | undefined;
    if (!root) throw new Error('onnx-proto did not export the onnx schema');
    return root;
  });
  return (await schema).ModelProto.encode(model).finish();
}
