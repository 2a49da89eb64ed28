import { describeShapeErrorBattery } from '@pref/testing';
import { startWebGpu } from './web-gpu-under-test';

describeShapeErrorBattery({ name: 'webgpu', create: () => startWebGpu() });
