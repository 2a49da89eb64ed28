import { describeTokenEntropyBattery } from '@pref/testing';
import { tfjsUnderTest } from './tfjs-test-backends';

describeTokenEntropyBattery({ backend: tfjsUnderTest('wasm'), tolerance: { rtol: 2e-4, atol: 2e-5 } });
