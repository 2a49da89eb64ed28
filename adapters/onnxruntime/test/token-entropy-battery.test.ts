import { describeTokenEntropyBattery } from '@pref/testing';
import { onnxruntimeCpu } from './onnxruntime-backends';

// float32 onnxruntime (recorded elementwise/reduce nodes) against the float64 oracle.
describeTokenEntropyBattery({ backend: onnxruntimeCpu, tolerance: { rtol: 2e-4, atol: 2e-5 } });
