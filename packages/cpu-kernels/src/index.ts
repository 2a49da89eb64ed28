export {
  createCpuKernels,
  type CpuKernels,
  type CpuKernelsOptions,
  type FloatRef,
  type Int32Ref,
  type TokenForwardArgs,
  type TokenForwardResult,
  type TokenBackwardArgs,
  type LinearForwardArgs,
  type LinearForwardResult,
  type LinearBackwardArgs,
  type MatmulArgs,
} from './kernels';
export {
  Arena,
  sizeClass,
  HEADER_BYTES,
  type ArenaBlock,
  type ArenaLocation,
  type ArenaOptions,
  type ArenaStats,
  type BlockKind,
  type FloatArray,
  type FloatBlock,
  type Int32Block,
} from './arena';
export { wasmSimdSupported, wasmSharedMemorySupported, wasmThreadsSupported } from './wasm';
export * as oracle from './oracle';
export { createTokenLogProbsKernel, type TokenLogProbsKernel, type TokenLogProbsKernelOptions } from './token-log-probs-kernel';
