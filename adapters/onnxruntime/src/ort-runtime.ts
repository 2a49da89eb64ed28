import { PrefBackendError } from '@pref/core';

/** The part of an onnxruntime tensor this backend uses. */
export interface OrtTensor {
  readonly type: string;
  readonly data: unknown;
  readonly dims: readonly number[];
}

/** The part of an onnxruntime `InferenceSession` this backend uses. */
export interface OrtSession {
  /** `fetches`: pre-allocated output tensors by name, written in place; `options`: run options. */
  run(
    feeds: Record<string, OrtTensor>,
    fetchesOrOptions?: Record<string, unknown>,
    options?: Record<string, unknown>,
  ): Promise<Record<string, OrtTensor>>;
  release?(): Promise<void>;
}

/**
 * The part of the onnxruntime JavaScript API this backend uses: `onnxruntime-node` (loaded by
 * default) or `onnxruntime-web`, passed as `runtime`.
 */
export interface OrtRuntime {
  readonly InferenceSession: { create(model: Uint8Array, options?: Record<string, unknown>): Promise<OrtSession> };
  readonly Tensor: new (
    type: 'float32' | 'int32' | 'int64',
    data: Float32Array | Int32Array | BigInt64Array,
    dims: readonly number[],
  ) => OrtTensor;
}

/** How to install onnxruntime-node, for error messages. */
export const ONNXRUNTIME_INSTALL_HINT =
  'install it with `npm i onnxruntime-node` (CPU; for CUDA: `ONNXRUNTIME_NODE_INSTALL=cuda12 npm i onnxruntime-node`)';

let loading: Promise<OrtRuntime> | null = null;

/** Imports `onnxruntime-node` on first use; a friendly error says how to install it when it is missing. */
export function loadOnnxruntimeNode(): Promise<OrtRuntime> {
  loading ??= import(/* @vite-ignore */ 'onnxruntime-node').then(
    (module: Record<string, unknown>) =>
      ('InferenceSession' in module ? module : (module.default as Record<string, unknown>)) as unknown as OrtRuntime,
    (error: Error) => {
      loading = null;
      const missing = causes(error).some(
        (e) =>
          e.code === 'ERR_MODULE_NOT_FOUND' || e.code === 'MODULE_NOT_FOUND' || /cannot find (module|package)/i.test(String(e.message)),
      );
      throw new PrefBackendError(
        missing
          ? `the onnxruntime backend needs the peer dependency onnxruntime-node, which is not installed: ${ONNXRUNTIME_INSTALL_HINT}`
          : `could not load onnxruntime-node: ${error.message}`,
      );
    },
  );
  return loading;
}

/** An error and the errors it wraps (`cause`), as loaders and bundlers wrap import failures. */
function causes(error: unknown): { code?: string; message?: string }[] {
  const chain: { code?: string; message?: string }[] = [];
  for (let e = error as { code?: string; message?: string; cause?: unknown } | undefined; e && chain.length < 5; e = e.cause as typeof e)
    chain.push(e);
  return chain;
}
