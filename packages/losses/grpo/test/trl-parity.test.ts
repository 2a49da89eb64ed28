import { describeTrlParity } from '@pref/testing';
import { grpo, rloo } from '../src';

// Golden cases from TRL 1.13's own GRPO and RLOO loss code (conformance/trl/README.md).
describeTrlParity({ file: 'grpo.json', objectives: { grpo } });
describeTrlParity({ file: 'rloo.json', objectives: { rloo } });
