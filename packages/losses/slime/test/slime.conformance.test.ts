import { describeConformance, referenceBackends } from '@pref/testing';
import { slime } from '../src';

describeConformance({
  files: ['slime.json', 'errors.json'],
  objectives: { slime },
  // errors.json cases of other objectives run in their own packages and in @pref/testing's full run.
  filter: (_, objective) => objective === 'slime',
  backends: referenceBackends,
});
