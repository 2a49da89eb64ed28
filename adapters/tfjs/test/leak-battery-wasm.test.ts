import { describeLeakBattery } from '@pref/testing';
import type { PrefBackend } from '@pref/core';
import type { TfjsBackend } from '../src';
import { tfjsUnderTest } from './tfjs-test-backends';

/** tfjs counts its own live tensors: none may remain either. */
const ownLive = (backend: PrefBackend) => (backend as TfjsBackend).tf.memory().numTensors;
describeLeakBattery(tfjsUnderTest('wasm'), { ownLive });
