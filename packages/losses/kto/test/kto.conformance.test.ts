import { describeConformance, referenceBackends } from '@pref/testing';
import { kto } from '../src';

describeConformance({
  files: ['kto.json'],
  objectives: { kto },
  backends: referenceBackends,
});
