import { describeConformance, referenceBackends } from '@pref/testing';
import { grpo, rloo } from '../src';

describeConformance({
  files: ['grpo.json', 'rloo.json'],
  objectives: { grpo, rloo },
  backends: referenceBackends,
});
