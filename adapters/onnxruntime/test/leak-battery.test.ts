import { describeLeakBattery } from '@pref/testing';
import { onnxruntimeCpu } from './onnxruntime-backends';

describeLeakBattery(onnxruntimeCpu);
