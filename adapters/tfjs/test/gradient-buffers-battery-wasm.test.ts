import { describeGradientBufferBattery } from '@pref/testing';
import { tfjsUnderTest } from './tfjs-test-backends';

describeGradientBufferBattery(tfjsUnderTest('wasm'));
