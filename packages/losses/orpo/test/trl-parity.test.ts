import { describeTrlParity } from '@pref/testing';
import { orpo } from '../src';

// Golden cases from TRL 1.13's own ORPO loss code (conformance/trl/README.md).
describeTrlParity({ file: 'orpo.json', objectives: { orpo } });
