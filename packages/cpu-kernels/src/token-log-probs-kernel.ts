import type { FloatArray } from './arena';
import { createCpuKernels } from './kernels';

/**
 * The first API of the package, kept for the adapters until they move to `createCpuKernels`:
 * plain typed arrays in and out, so every call copies its arguments into the arena (and the
 * gradient out into a new array). Prefer `createCpuKernels` with arena blocks.
 * @deprecated use `createCpuKernels` (`tokenForward` / `tokenBackward`).
 */
export interface TokenLogProbsKernel {
  readonly precision: 32 | 64;
  /** Threads the work is split over (1 = the calling thread only). */
  readonly threads: number;
  /** `logps[r] = z[r, label] − lse[r]` (0 where ignored) and the row log-sum-exps. */
  forward(logits: FloatArray, labels: Int32Array, vocab: number, ignoreIndex: number): { logps: FloatArray; lse: FloatArray };
  /** `grad[r, v] = up[r]·(onehot(label) − exp(z[r, v] − lse[r]))`, 0 rows where ignored, in a new array. */
  backward(logits: FloatArray, labels: Int32Array, lse: FloatArray, upstream: FloatArray, vocab: number, ignoreIndex: number): FloatArray;
  /** Stops the worker threads. */
  dispose(): void;
}

export interface TokenLogProbsKernelOptions {
  readonly precision: 32 | 64;
  /** Threads to use (default: the machine's available parallelism in Node, else 1). */
  readonly threads?: number;
}

/** @deprecated use `createCpuKernels`. The token kernels behind the old array-in, array-out interface. */
export function createTokenLogProbsKernel(options: TokenLogProbsKernelOptions): TokenLogProbsKernel {
  const kernels = createCpuKernels({ precision: options.precision, threads: options.threads });
  const Float = options.precision === 32 ? Float32Array : Float64Array;
  return {
    precision: kernels.precision,
    threads: kernels.threads,
    forward(logits, labels, vocab, ignoreIndex) {
      const { logps, lse } = kernels.tokenForward({ logits, labels, vocab, ignoreIndex });
      return { logps: logps as FloatArray, lse: lse as FloatArray };
    },
    backward(logits, labels, lse, upstream, vocab, ignoreIndex) {
      const grad = new Float(labels.length * vocab);
      kernels.tokenBackward({ logits, labels, vocab, ignoreIndex, lse, gradLogps: upstream, grad });
      return grad;
    },
    dispose: () => kernels.dispose(),
  };
}
