import { createReferenceBackend } from '@pref/adapter-reference';
import { describeHiddenStateBattery, installedObjectives } from '@pref/testing';
import { onnxruntimeCpu } from './onnxruntime-backends';

const { objectives } = await installedObjectives();

// float32 onnxruntime (chunked Gemm in an ONNX Loop) against the float64 logits path.
describeHiddenStateBattery({
  backend: onnxruntimeCpu,
  objectives,
  tolerance: { rtol: 2e-4, atol: 2e-5 },
  oracle: () => createReferenceBackend({ precision: 64, kernels: 'js' }),
  casesPerObjective: 1,
});
