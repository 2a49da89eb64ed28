import { describeConformance, referenceBackends } from '@pref/testing';
import { lmpo } from '../src';

describeConformance({
  files: ['lmpo.json', 'errors.json'],
  objectives: { lmpo },
  // errors.json cases of other objectives run in their own packages and in @pref/testing's full run.
  filter: (_, objective) => objective === 'lmpo',
  backends: referenceBackends,
});
