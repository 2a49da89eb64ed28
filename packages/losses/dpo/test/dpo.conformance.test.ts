import { describeConformance, referenceBackends } from '@pref/testing';
import { dpo } from '../src';

describeConformance({
  files: ['dpo.json', 'errors.json'],
  objectives: { dpo },
  // errors.json cases of other objectives run in their own packages and in @pref/testing's full run.
  filter: (_, objective) => objective === 'dpo',
  backends: referenceBackends,
});
