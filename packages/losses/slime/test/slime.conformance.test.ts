import { describeConformance, referenceBackends } from '@pref/testing';
import { slime } from '../src';

describeConformance({
  files: ['slime.json', 'errors.json'],
  objectives: { slime },
  backends: referenceBackends,
});
