import { describeShapeErrorBattery } from '@pref/testing';
import { tfjsUnderTest } from './tfjs-test-backends';

describeShapeErrorBattery(tfjsUnderTest('cpu'));
// tfjs:wasm in shape-error-battery-wasm.test.ts: one tfjs engine per file, so one active backend per file.
