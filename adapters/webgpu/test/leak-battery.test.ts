import { describeLeakBattery } from '@pref/testing';
import type { PrefBackend } from '@pref/core';
import type { WebGpuBackend } from '../src';
import { startWebGpu } from './web-gpu-under-test';

/** The buffer pool's count of buffers in use must return to where it was. */
const ownLive = (backend: PrefBackend) => (backend as WebGpuBackend).stats().inUse;
describeLeakBattery({ name: 'webgpu', create: () => startWebGpu() }, { ownLive });
