import { describeConformance, referenceBackends } from '@pref/testing';
import { dpo } from '../src';

describeConformance({
  files: ['dpo.json', 'errors.json'],
  objectives: { dpo },
  backends: referenceBackends,
});
