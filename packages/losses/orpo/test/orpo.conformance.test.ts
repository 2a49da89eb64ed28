import { describeConformance, referenceBackends } from '@pref/testing';
import { orpo } from '../src';

describeConformance({
  files: ['orpo.json'],
  objectives: { orpo },
  backends: referenceBackends,
});
