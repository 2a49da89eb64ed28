import { describeBadInputBattery } from '@pref/testing';
import { onnxruntimeCpu } from './onnxruntime-backends';

describeBadInputBattery(onnxruntimeCpu);
