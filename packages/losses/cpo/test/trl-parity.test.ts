import { describeTrlParity } from '@pref/testing';
import { cpo } from '../src';

// Golden cases from TRL 1.13's own CPO loss code (conformance/trl/README.md).
describeTrlParity({ file: 'cpo.json', objectives: { cpo } });
