import { describeConformance, referenceBackends } from '@pref/testing';
import { simpo } from '../src';

describeConformance({
  files: ['simpo.json', 'errors.json'],
  objectives: { simpo },
  backends: referenceBackends,
});
