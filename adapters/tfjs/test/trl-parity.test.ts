// The golden TRL 1.13 cases of conformance/trl/ (computed by TRL's own loss code) on this adapter.
import { describeTrlParity, installedObjectives } from '@pref/testing';
import { tfjsUnderTest } from './tfjs-test-backends';

const { objectives } = await installedObjectives();
for (const file of ['grpo.json', 'rloo.json', 'dpo.json', 'dpo-float32.json', 'cpo.json', 'orpo.json', 'kto.json']) {
  describeTrlParity({ file, objectives, backends: [tfjsUnderTest('cpu')] });
}
