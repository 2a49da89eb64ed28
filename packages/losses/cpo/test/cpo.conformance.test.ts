import { describeConformance, referenceBackends } from '@pref/testing';
import { cpo } from '../src';

describeConformance({
  files: ['cpo.json'],
  objectives: { cpo },
  backends: referenceBackends,
});
