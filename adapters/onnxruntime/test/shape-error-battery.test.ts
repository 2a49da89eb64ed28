import { describeShapeErrorBattery } from '@pref/testing';
import { onnxruntimeCpu } from './onnxruntime-backends';

describeShapeErrorBattery(onnxruntimeCpu);
