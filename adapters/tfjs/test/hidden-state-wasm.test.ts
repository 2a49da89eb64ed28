import { describeHiddenStateBattery, installedObjectives } from '@pref/testing';
import { tfjsUnderTest } from './tfjs-test-backends';

const { objectives } = await installedObjectives();

// Core autodiff on the hidden path (chunked tf.matMul) = the logits path, on the tfjs wasm backend.
describeHiddenStateBattery({
  backend: tfjsUnderTest('wasm'),
  objectives,
  tolerance: 'float32',
  casesPerObjective: 1,
});
