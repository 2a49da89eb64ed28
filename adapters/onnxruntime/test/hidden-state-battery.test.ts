import { describeHiddenStateBattery, installedObjectives } from '@pref/testing';
import { onnxruntimeCpu } from './onnxruntime-backends';

const { objectives } = await installedObjectives();

// float32 onnxruntime (chunked Gemm in an ONNX Loop) within the derived float32 bound of the float64 hidden path.
describeHiddenStateBattery({
  backend: onnxruntimeCpu,
  objectives,
  tolerance: 'float32',
  casesPerObjective: 1,
});
