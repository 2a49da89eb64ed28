import { describe, expect, it } from 'vitest';
import { PrefParamError } from '@pref/core';
import { ABLATIONS, expandAblations, parseAblationList, withAblations } from '../src/ablations';
import { parseObjectiveList } from '../src/objective-selection';
import { resolveAlignSettings } from '../src/run-align';

describe('--ablations', () => {
  it('expands to <objective>:preset=<name> runs with readable labels, in table order', () => {
    expect(expandAblations(['slime', 'lmpo'])).toEqual([
      { label: 'slime w/o anchor', id: 'slime', params: { preset: 'ablation-no-anchor' }, ablationOf: 'slime' },
      { label: 'slime w/o stabilizer', id: 'slime', params: { preset: 'ablation-no-stabilizer' }, ablationOf: 'slime' },
      { label: 'slime w/o hard margin', id: 'slime', params: { preset: 'ablation-no-hard-margin' }, ablationOf: 'slime' },
      { label: 'slime w/o soft margin', id: 'slime', params: { preset: 'ablation-no-soft-margin' }, ablationOf: 'slime' },
      { label: 'lmpo w/o z-score', id: 'lmpo', params: { preset: 'ablation-no-zscore' }, ablationOf: 'lmpo' },
      { label: 'lmpo w/o length normalization', id: 'lmpo', params: { preset: 'ablation-no-length-normalization' }, ablationOf: 'lmpo' },
      { label: 'lmpo log margin', id: 'lmpo', params: { preset: 'ablation-log' }, ablationOf: 'lmpo' },
      { label: 'lmpo cube margin', id: 'lmpo', params: { preset: 'ablation-cube' }, ablationOf: 'lmpo' },
      { label: 'lmpo sigmoid margin', id: 'lmpo', params: { preset: 'ablation-sigmoid' }, ablationOf: 'lmpo' },
    ]);
  });

  it('parses names and all, once each; rejects unknown names', () => {
    expect(parseAblationList('slime,lmpo')).toEqual(['slime', 'lmpo']);
    expect(parseAblationList('lmpo, slime,lmpo')).toEqual(['lmpo', 'slime']);
    expect(parseAblationList('all')).toEqual(Object.keys(ABLATIONS));
    expect(() => parseAblationList('dpo')).toThrow(PrefParamError);
    expect(() => parseAblationList('dpo')).toThrow(/known: slime, lmpo, all/);
    expect(() => parseAblationList('')).toThrow(/--ablations/);
  });

  it('appends to --objectives, skipping an ablation already selected by hand', () => {
    const selected = parseObjectiveList('slime,simpo,slime:preset=ablation-no-anchor');
    const all = withAblations(selected, ['slime']);
    expect(all.map((s) => s.label)).toEqual([
      'slime',
      'simpo',
      'slime:preset=ablation-no-anchor',
      'slime w/o stabilizer',
      'slime w/o hard margin',
      'slime w/o soft margin',
    ]);
    expect(withAblations(selected, [])).toEqual(selected);
  });

  it('ends up in the run settings (without needing the presets to exist)', () => {
    const settings = resolveAlignSettings({ ablations: 'lmpo', objectives: 'lmpo,simpo' });
    expect(settings.ablations).toEqual(['lmpo']);
    expect(settings.objectives.map((s) => s.label)).toEqual([
      'lmpo',
      'simpo',
      'lmpo w/o z-score',
      'lmpo w/o length normalization',
      'lmpo log margin',
      'lmpo cube margin',
      'lmpo sigmoid margin',
    ]);
    expect(resolveAlignSettings({}).objectives.map((s) => s.label)).toEqual(['slime', 'simpo', 'dpo', 'lmpo']);
  });
});

describe('run settings', () => {
  it('one seed by default; --seeds for several; not both', () => {
    expect(resolveAlignSettings({}).seeds).toEqual([1]);
    expect(resolveAlignSettings({ seed: 4 }).seeds).toEqual([4]);
    expect(resolveAlignSettings({ seeds: '3' })).toMatchObject({ seeds: [1, 2, 3], seed: 1 });
    expect(resolveAlignSettings({ seeds: [5, 9] })).toMatchObject({ seeds: [5, 9], seed: 5 });
    expect(() => resolveAlignSettings({ seed: 1, seeds: '2' })).toThrow(/not both/);
    expect(() => resolveAlignSettings({ seeds: [1, 1] })).toThrow(/twice/);
    expect(() => resolveAlignSettings({ seed: 1.5 })).toThrow(/integer/);
  });
});
