import { describeConformance, referenceBackends } from '@pref/testing';
import { simpo } from '../src';

describeConformance({
  files: ['simpo.json', 'errors.json'],
  objectives: { simpo },
  // errors.json cases of other objectives run in their own packages and in @pref/testing's full run.
  filter: (_, objective) => objective === 'simpo',
  backends: referenceBackends,
});
