import { describeGradientBufferBattery } from '@pref/testing';
import { startWebGpu } from './web-gpu-under-test';

describeGradientBufferBattery({ name: 'webgpu', create: () => startWebGpu() });
