export { createTokenLogProbsKernel, wasmSimdSupported, type TokenLogProbsKernel, type TokenLogProbsKernelOptions, type FloatArray } from './token-log-probs-kernel';
