import { describe, expect, it } from 'vitest';
import { PrefParamError, resolveParams, type ParamSchema } from '../src';

type Params = {
  beta: number;
  lossType: string | readonly string[];
  weights: readonly number[] | null;
  flag: boolean;
  limit: number | null;
};
const schema: ParamSchema<Params> = {
  beta: { kind: 'number', default: 0.1, min: 0, minExclusive: true, description: '' },
  lossType: { kind: 'enumList', values: ['sigmoid', 'hinge', 'sft'], default: 'sigmoid', description: '' },
  weights: { kind: 'numberList', default: null, description: '' },
  flag: { kind: 'boolean', default: true, description: '' },
  limit: { kind: 'number', default: null, min: 0, max: 0.5, maxExclusive: true, description: '' },
};
const presets = { strong: { description: '', values: { beta: 2, flag: false } } };

function paramError(given: Record<string, unknown>): PrefParamError {
  try {
    resolveParams('toy', schema, presets, given);
  } catch (error) {
    expect(error).toBeInstanceOf(PrefParamError);
    return error as PrefParamError;
  }
  throw new Error('expected an error');
}

describe('resolveParams', () => {
  it('defaults, then the preset, then explicit values', () => {
    expect(resolveParams('toy', schema, presets, {})).toEqual({ beta: 0.1, lossType: 'sigmoid', weights: null, flag: true, limit: null });
    expect(resolveParams('toy', schema, presets, { preset: 'strong', beta: 3 })).toMatchObject({ beta: 3, flag: false });
    expect(resolveParams('toy', schema, presets, { lossType: ['sigmoid', 'sft'], weights: [1, 0.5] })).toMatchObject({
      lossType: ['sigmoid', 'sft'],
    });
  });

  it('names the parameter in every error', () => {
    expect(paramError({ betta: 1 }).message).toMatch(/unknown parameter betta; known parameters: beta/);
    expect(paramError({ beta: 0 })).toMatchObject({ param: 'beta' });
    expect(paramError({ beta: 0 }).message).toMatch(/beta must be in \(0, ∞\), got 0/);
    expect(paramError({ limit: 0.5 }).message).toMatch(/limit must be in \[0, 0.5\), got 0.5/);
    expect(paramError({ lossType: 'nope' }).message).toMatch(/lossType must be one of sigmoid, hinge, sft/);
    expect(paramError({ lossType: [] }).param).toBe('lossType');
    expect(paramError({ flag: 'yes' }).param).toBe('flag');
    expect(paramError({ weights: [1, 'a'] }).param).toBe('weights');
    expect(paramError({ beta: Number.NaN }).message).toMatch(/beta must be a finite number/);
    expect(paramError({ preset: 'weak' }).message).toMatch(/unknown preset "weak"; known presets: strong/);
  });
});
