import { PARAMS_DECL, STRIDED_OFFSET_FN, elementEntry } from './wgsl-common';

const IN_OUT = /* wgsl */ `${PARAMS_DECL}
@group(0) @binding(1) var<storage, read> source: array<u32>;
@group(0) @binding(2) var<storage, read_write> out: array<u32>;`;

/**
 * `out[i] = source[base + Σ coord_d · stride_d]` (any dtype, copied as bits): broadcastTo
 * (stride 0 on broadcast axes) and slice. Params: `[size, rank, outShape, strides, base]`.
 */
export const STRIDED_COPY_KERNEL = `${IN_OUT}
${STRIDED_OFFSET_FN}
${elementEntry('  out[index] = source[params[2u + 2u * params[1]] + stridedOffset(index, 2u + params[1])];')}`;

/**
 * One input of a concat: blocks of `block` values go to `outBlock`-strided rows of the
 * output at `start`. Params: `[size, block, outBlock, start]`.
 */
export const CONCAT_COPY_KERNEL = `${IN_OUT}
${elementEntry('  out[(index / params[1]) * params[2] + params[3] + index % params[1]] = source[index];')}`;

/** `out[i] = bits`. Params: `[size, bits]`. */
export const FILL_KERNEL = `${PARAMS_DECL}
@group(0) @binding(1) var<storage, read_write> out: array<u32>;
${elementEntry('  out[index] = params[1];')}`;
