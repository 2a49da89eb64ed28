import { describeTrlParity } from '@pref/testing';
import { dpo } from '../src';

// Golden cases from TRL 1.13's own DPO loss code (conformance/trl/README.md).
describeTrlParity({ file: 'dpo.json', objectives: { dpo } });
// alpha_divergence: TRL 1.13 computes it in float32 only (conformance/trl/README.md).
describeTrlParity({ file: 'dpo-float32.json', objectives: { dpo } });
