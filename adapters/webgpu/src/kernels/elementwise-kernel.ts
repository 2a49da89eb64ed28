import type { BinaryOp, CompareOp, UnaryOp } from '@pref/core/backend';
import { MATH_FNS, PARAMS_DECL, STRIDED_OFFSET_FN, elementEntry } from './wgsl-common';

/** How an input of an elementwise kernel is indexed: like the output, one value, or by strides. */
export type InputLayout = 'same' | 'scalar' | 'strided';

export interface ElementwiseInput {
  readonly dtype: 'float' | 'int32';
  readonly layout: InputLayout;
}

export const UNARY_WGSL: Record<UnaryOp, string> = {
  neg: '-a',
  exp: 'exp(a)',
  log: 'log(a)',
  log1p: 'log1p_(a)',
  expm1: 'expm1_(a)',
  sigmoid: 'sigmoid_(a)',
  softplus: 'softplus_(a)',
  logSigmoid: '-softplus_(-a)',
  relu: 'select(0.0, a, a > 0.0)',
  square: 'a * a',
  sqrt: 'sqrt(a)',
  abs: 'abs(a)',
};

export const BINARY_WGSL: Record<BinaryOp, string> = {
  add: 'a + b',
  sub: 'a - b',
  mul: 'a * b',
  div: 'a / b',
  pow: 'pow_(a, b)',
  maximum: 'select(b, a, a >= b)',
  minimum: 'select(b, a, a <= b)',
};

export const COMPARE_WGSL: Record<CompareOp, string> = {
  greater: 'select(0.0, 1.0, a > b)',
  greaterEqual: 'select(0.0, 1.0, a >= b)',
  less: 'select(0.0, 1.0, a < b)',
  lessEqual: 'select(0.0, 1.0, a <= b)',
  equal: 'select(0.0, 1.0, a == b)',
};

export const WHERE_WGSL = 'select(c, b, a != 0.0)';

const VARIABLES = ['a', 'b', 'c'];

/**
 * Float output `out[i] = expression(a, b, c)` over inputs broadcast with NumPy rules.
 * Params: `[size, rank, outShape[rank], strides of input k at 2 + rank·(k + 1)]`.
 */
export function elementwiseKernel(expression: string, inputs: readonly ElementwiseInput[]): string {
  const declarations = inputs
    .map((input, k) => `@group(0) @binding(${k + 1}) var<storage, read> in${k}: array<${input.dtype === 'int32' ? 'i32' : 'f32'}>;`)
    .join('\n');
  const loads = inputs
    .map((input, k) => {
      const at = input.layout === 'same' ? 'index' : input.layout === 'scalar' ? '0u' : `stridedOffset(index, 2u + params[1] * ${k + 1}u)`;
      const raw = `in${k}[${at}]`;
      return `  let ${VARIABLES[k]} = ${input.dtype === 'int32' ? `f32(${raw})` : raw};`;
    })
    .join('\n');
  return `${PARAMS_DECL}
${declarations}
@group(0) @binding(${inputs.length + 1}) var<storage, read_write> out: array<f32>;
${MATH_FNS}
${inputs.some((i) => i.layout === 'strided') ? STRIDED_OFFSET_FN : ''}
${elementEntry(`${loads}\n  out[index] = ${expression};`)}`;
}
