import type { BackendUnderTest } from '@pref/testing';
import { createOnnxruntimeBackend } from '../src';

/** onnxruntime on the CPU provider, as the conformance runner takes it (skipped with the reason when it cannot start). */
export const onnxruntimeCpu: BackendUnderTest = {
  name: 'onnxruntime:cpu',
  create: () => createOnnxruntimeBackend({ executionProviders: ['cpu'], sessionOptions: { intraOpNumThreads: 1 } }),
};
