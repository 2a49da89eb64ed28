import { describeBadInputBattery } from '@pref/testing';
import { startWebGpu } from './web-gpu-under-test';

describeBadInputBattery({ name: 'webgpu', create: () => startWebGpu() });
