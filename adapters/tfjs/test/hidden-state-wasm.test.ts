import { createReferenceBackend } from '@pref/adapter-reference';
import { describeHiddenStateBattery, installedObjectives } from '@pref/testing';
import { tfjsUnderTest } from './tfjs-test-backends';

const { objectives } = await installedObjectives();

// Core autodiff on the hidden path (chunked tf.matMul) = the logits path, on the tfjs wasm backend.
describeHiddenStateBattery({
  backend: tfjsUnderTest('wasm'),
  objectives,
  tolerance: { rtol: 2e-4, atol: 2e-5 },
  oracle: () => createReferenceBackend({ precision: 64, kernels: 'js' }),
  casesPerObjective: 1,
});
