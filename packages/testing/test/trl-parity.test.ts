import { describeTrlParity, installedObjectives } from '../src';

// Golden cases from TRL 1.13's own KTO loss code (conformance/trl/README.md); the other
// objectives' golden files are checked in their packages' trl-parity tests.
const { objectives } = await installedObjectives();
describeTrlParity({ file: 'kto.json', objectives });
