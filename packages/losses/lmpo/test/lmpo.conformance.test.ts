import { describeConformance, referenceBackends } from '@pref/testing';
import { lmpo } from '../src';

describeConformance({
  files: ['lmpo.json', 'errors.json'],
  objectives: { lmpo },
  backends: referenceBackends,
});
