import { describeBadInputBattery } from '@pref/testing';
import { tfjsUnderTest } from './tfjs-test-backends';

describeBadInputBattery(tfjsUnderTest('cpu'));
