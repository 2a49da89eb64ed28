import { describeShapeErrorBattery } from '@pref/testing';
import { tfjsUnderTest } from './tfjs-test-backends';

describeShapeErrorBattery(tfjsUnderTest('wasm'));
