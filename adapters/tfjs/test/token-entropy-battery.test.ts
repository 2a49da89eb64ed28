import { describeTokenEntropyBattery } from '@pref/testing';
import { tfjsUnderTest } from './tfjs-test-backends';

// tfjs:wasm in token-entropy-battery-wasm.test.ts: one tfjs engine per file, one active backend.
describeTokenEntropyBattery({ backend: tfjsUnderTest('cpu'), tolerance: { rtol: 2e-4, atol: 2e-5 } });
