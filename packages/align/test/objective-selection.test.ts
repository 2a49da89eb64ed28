import { describe, expect, it } from 'vitest';
import { PrefParamError } from '@pref/core';
import { objectives as slimeObjectives } from '@pref/slime';
import { objectives as dpoObjectives } from '@pref/dpo';
import { checkObjectiveSupported, parseObjectiveList } from '../src/objective-selection';

describe('--objectives', () => {
  it('parses ids, params, presets and params that follow an id', () => {
    expect(parseObjectiveList('slime:preset=paper,dpo:beta=0.1,labelSmoothing=0.2,lmpo')).toEqual([
      { label: 'slime:preset=paper', id: 'slime', params: { preset: 'paper' } },
      { label: 'dpo:beta=0.1,labelSmoothing=0.2', id: 'dpo', params: { beta: 0.1, labelSmoothing: 0.2 } },
      { label: 'lmpo', id: 'lmpo', params: {} },
    ]);
  });

  it('rejects empty lists, stray params and duplicates with errors naming --objectives', () => {
    for (const text of ['', 'beta=0.1,dpo', 'dpo,dpo', 'dpo:beta']) {
      expect(() => parseObjectiveList(text)).toThrow(PrefParamError);
    }
  });

  it('checks params and inputs: DPO needs reference sums, SLIME does not', () => {
    expect(checkObjectiveSupported(dpoObjectives[0], { beta: 0.1 })).toEqual({ referenceSums: true });
    expect(checkObjectiveSupported(slimeObjectives[0], { preset: 'paper' })).toEqual({ referenceSums: false });
    expect(() => checkObjectiveSupported(slimeObjectives[0], { preset: 'nope' })).toThrow(/preset/);
    expect(() => checkObjectiveSupported(dpoObjectives[0], { beta: -1 })).toThrow(/beta/);
  });
});
