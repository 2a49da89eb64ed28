import { createCpuKernels, wasmSimdSupported, type CpuKernels, type FloatBlock } from '@pref/cpu-kernels';
import type { Tensor as TfTensor } from '@tensorflow/tfjs-core';
import type { Tfjs } from './tfjs-types';

/** tfjs backends whose tensors live in host memory, where the WebAssembly kernel is faster than tfjs's ops. */
const HOST_BACKENDS = new Set(['cpu', 'wasm']);

/** What this adapter reads of tfjs's `cpu` and `wasm` backends to address a tensor's storage. */
interface CpuBackendInternals {
  readonly data?: { get(dataId: object): { values?: unknown } | undefined };
}
interface WasmBackendInternals {
  readonly dataIdMap?: { get(dataId: object): { memoryOffset: number } | undefined };
  readonly wasm?: { readonly HEAPU8: Uint8Array };
}

/**
 * Fused token log-probs through `@pref/cpu-kernels` (WebAssembly SIMD, split over worker threads)
 * for the tfjs `cpu` and `wasm` backends, without `dataSync` round trips of the logits:
 * - the logits are read where tfjs keeps them (the cpu backend's `Float32Array`, a view of the
 *   wasm backend's heap), not copied out first; the kernels copy them once into their own
 *   WebAssembly memory, the one copy on the way in;
 * - the forward also writes the softmax into a block of the kernels' memory (the residual
 *   `probs`, held by the log-sum-exp tensor), which the gradient turns into the gradient in place:
 *   the logits are not read again;
 * - the gradient is copied once out of the kernels' memory: into the caller's buffer (the
 *   `gradients` option of `valueAndGrad`, which then is the cpu tensor's storage as it is), a new
 *   `Float32Array`, or straight into the heap of a new wasm tensor.
 * Other tfjs backends read the logits with `dataSync` (with `tokenKernel: "wasm"` only).
 */
export class WasmTokenLogProbs {
  private kernels: CpuKernels | null = null;

  constructor(
    private readonly tf: Tfjs,
    private readonly mode: 'auto' | 'wasm' | 'tfjs',
  ) {}

  /** Whether the kernel serves the active tfjs backend. */
  active(): boolean {
    if (this.mode === 'tfjs') return false;
    if (this.mode === 'wasm') return true;
    return HOST_BACKENDS.has(this.tf.getBackend()) && wasmSimdSupported();
  }

  private get instance(): CpuKernels {
    this.kernels ??= createCpuKernels({ precision: 32 });
    return this.kernels;
  }

  /** The values of `x` where tfjs keeps them, without a copy on cpu and wasm (a copy elsewhere). */
  view(x: TfTensor): Float32Array | Int32Array {
    const Typed = x.dtype === 'int32' ? Int32Array : Float32Array;
    const backend = this.tf.backend() as unknown as CpuBackendInternals & WasmBackendInternals;
    const name = this.tf.getBackend();
    if (name === 'wasm' && backend.dataIdMap && backend.wasm) {
      const entry = backend.dataIdMap.get(x.dataId);
      if (entry) return new Typed(backend.wasm.HEAPU8.buffer as ArrayBuffer, entry.memoryOffset, x.size);
    }
    if (name === 'cpu' && backend.data) {
      const values = backend.data.get(x.dataId)?.values;
      if (values instanceof Typed && values.length === x.size) return values;
    }
    const values = x.dataSync();
    return values instanceof Typed ? values : Typed.from(values as ArrayLike<number>);
  }

  /** Log-probs, log-sum-exp and the softmax `probs` (a block of the kernels' memory: free it, or hand it to `backward`). */
  forward(logits: TfTensor, labels: TfTensor, ignoreIndex: number): { logps: TfTensor; logSumExp: TfTensor; probs: FloatBlock } {
    const [rows, vocab] = logits.shape;
    const probs = this.instance.arena.allocate('float', rows * vocab);
    try {
      const { logps, lse } = this.instance.tokenForward({
        logits: this.view(logits) as Float32Array,
        labels: this.view(labels) as Int32Array,
        vocab,
        ignoreIndex,
        logps: new Float32Array(rows),
        lse: new Float32Array(rows),
        probs,
      });
      return {
        logps: this.tf.tensor(logps as Float32Array, [rows], 'float32'),
        logSumExp: this.tf.tensor(lse as Float32Array, [rows], 'float32'),
        probs,
      };
    } catch (error) {
      probs.free();
      throw error;
    }
  }

  /**
   * The gradient of the logits: from the forward's `probs` (turned into the gradient in place,
   * then freed) when given, else from the logits; written into `target` (the cpu tensor's storage
   * then) when given.
   */
  backward(
    logits: TfTensor,
    labels: TfTensor,
    logSumExp: TfTensor,
    upstream: TfTensor,
    ignoreIndex: number,
    probs: FloatBlock | null,
    target: Float32Array | null,
  ): TfTensor {
    const [rows, vocab] = logits.shape;
    const onWasm = this.tf.getBackend() === 'wasm';
    try {
      // On wasm the gradient tensor is allocated first (its heap may grow, which moves every view).
      const out = onWasm ? this.tf.fill([rows, vocab], 0, 'float32') : null;
      const grad = out ? (this.view(out) as Float32Array) : (target ?? new Float32Array(rows * vocab));
      this.instance.tokenBackward({
        ...(probs ? { probs } : { logits: this.view(logits) as Float32Array }),
        labels: this.view(labels) as Int32Array,
        vocab,
        ignoreIndex,
        lse: this.view(logSumExp) as Float32Array,
        gradLogps: this.view(upstream) as Float32Array,
        grad: probs ?? grad,
      });
      if (probs) grad.set(probs.view as Float32Array);
      return out ?? this.tf.tensor(grad, [rows, vocab], 'float32');
    } finally {
      probs?.free();
    }
  }
}
