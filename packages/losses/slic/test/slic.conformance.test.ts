import { describeConformance, referenceBackends } from '@pref/testing';
import { slic } from '../src';

describeConformance({
  files: ['slic.json'],
  objectives: { slic },
  backends: referenceBackends,
});
