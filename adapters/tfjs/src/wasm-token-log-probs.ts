import { createTokenLogProbsKernel, wasmSimdSupported, type TokenLogProbsKernel } from '@pref/cpu-kernels';
import type { Tensor as TfTensor } from '@tensorflow/tfjs-core';
import type { Tfjs } from './tfjs-types';

/** tfjs backends whose tensors live in host memory, where the WebAssembly kernel is faster than tfjs's ops. */
const HOST_BACKENDS = new Set(['cpu', 'wasm']);

/**
 * Fused token log-probs through `@pref/cpu-kernels` (WebAssembly SIMD, split over worker threads)
 * for the tfjs `cpu` and `wasm` backends: the logits are read once with `dataSync` (host memory
 * there), and the results come back as tfjs tensors. Other backends keep tfjs's own ops.
 */
export class WasmTokenLogProbs {
  private kernel: TokenLogProbsKernel | null = null;

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

  private get instance(): TokenLogProbsKernel {
    this.kernel ??= createTokenLogProbsKernel({ precision: 32 });
    return this.kernel;
  }

  forward(logits: TfTensor, labels: TfTensor, ignoreIndex: number): { logps: TfTensor; logSumExp: TfTensor } {
    const vocab = logits.shape[logits.rank - 1];
    const { logps, lse } = this.instance.forward(logits.dataSync() as Float32Array, Int32Array.from(labels.dataSync()), vocab, ignoreIndex);
    return { logps: this.tf.tensor(logps, labels.shape, 'float32'), logSumExp: this.tf.tensor(lse, [lse.length], 'float32') };
  }

  backward(logits: TfTensor, labels: TfTensor, upstream: TfTensor, ignoreIndex: number, logSumExp?: TfTensor): TfTensor {
    const vocab = logits.shape[logits.rank - 1];
    const z = logits.dataSync() as Float32Array;
    const labelValues = Int32Array.from(labels.dataSync());
    const lse = logSumExp ? (logSumExp.dataSync() as Float32Array) : this.instance.forward(z, labelValues, vocab, ignoreIndex).lse;
    const up = Float32Array.from(upstream.size === labelValues.length ? upstream.dataSync() : this.tf.broadcastTo(upstream, labels.shape).dataSync());
    return this.tf.tensor(this.instance.backward(z, labelValues, lse, up, vocab, ignoreIndex), logits.shape, 'float32');
  }
}
