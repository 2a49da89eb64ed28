import { PARAMS_DECL } from './wgsl-common';

/** Threads per row of the fused token log-prob kernels. */
export const TOKEN_WORKGROUP_SIZE = 256;

export interface TokenKernelOptions {
  /** Logits read as `vec4<f32>` (the vocabulary and the row offsets are multiples of 4). */
  readonly vectorized: boolean;
  /** Workgroup reductions with subgroup operations (the device has the `subgroups` feature). */
  readonly subgroups: boolean;
}

/**
 * One workgroup per row `[V]`: each thread keeps an online (max, Σexp) pair over its strided
 * share of the row (one read of every logit), then the workgroup combines the pairs (subgroup
 * max/add, or a shared-memory tree) into the row's log-sum-exp.
 * Params: `[rowsInChunk, vocab, ignoreIndex, elementShift, firstRow]`; `elementShift` is where
 * the chunk's first row starts inside the bound logits range.
 */
function tokenPrelude(options: TokenKernelOptions): string {
  const lanes = options.vectorized ? 4 : 1;
  const scalarType = options.vectorized ? 'vec4<f32>' : 'f32';
  const localFold = options.vectorized
    ? `let top = max(max(v.x, v.y), max(v.z, v.w));
    if (top > m) { s = s * exp(m - top); m = top; }
    let e = exp(v - vec4<f32>(m));
    s += (e.x + e.y) + (e.z + e.w);`
    : `if (v > m) { s = s * exp(m - v); m = v; }
    s += exp(v - m);`;
  const combine = options.subgroups
    ? `let groupMax = subgroupMax(m);
  let groupSum = subgroupAdd(s * exp(m - groupMax));
  if (lane == 0u) {
    let slot = atomicAdd(&groupCount, 1u);
    partialMax[slot] = groupMax;
    partialSum[slot] = groupSum;
  }
  workgroupBarrier();
  if (lid == 0u) {
    let groups = atomicLoad(&groupCount);
    var total = LOWEST;
    for (var g = 0u; g < groups; g++) { total = max(total, partialMax[g]); }
    var sum = 0.0;
    for (var g = 0u; g < groups; g++) { sum += partialSum[g] * exp(partialMax[g] - total); }
    rowLse = total + log(sum);
  }
  workgroupBarrier();
  return rowLse;`
    : `partialMax[lid] = m;
  partialSum[lid] = s;
  workgroupBarrier();
  for (var width = ${TOKEN_WORKGROUP_SIZE / 2}u; width > 0u; width = width / 2u) {
    if (lid < width) {
      let m1 = partialMax[lid];
      let m2 = partialMax[lid + width];
      let top = max(m1, m2);
      partialSum[lid] = partialSum[lid] * exp(m1 - top) + partialSum[lid + width] * exp(m2 - top);
      partialMax[lid] = top;
    }
    workgroupBarrier();
  }
  if (lid == 0u) { rowLse = partialMax[0] + log(partialSum[0]); }
  workgroupBarrier();
  return rowLse;`;
  return `${options.subgroups ? 'enable subgroups;\n' : ''}const WG = ${TOKEN_WORKGROUP_SIZE}u;
const LANES = ${lanes}u;
const LOWEST = -3.4028234e38;
${PARAMS_DECL}
@group(0) @binding(1) var<storage, read> logits: array<${scalarType}>;
@group(0) @binding(2) var<storage, read> labels: array<i32>;
var<workgroup> partialMax: array<f32, ${TOKEN_WORKGROUP_SIZE}>;
var<workgroup> partialSum: array<f32, ${TOKEN_WORKGROUP_SIZE}>;
var<workgroup> groupCount: atomic<u32>;
var<workgroup> rowLse: f32;
var<workgroup> rowLabel: i32;

fn logsumexp(start: u32, count: u32, lid: u32, lane: u32) -> f32 {
  var m = LOWEST;
  var s = 0.0;
  for (var i = lid; i < count; i += WG) {
    let v = logits[start + i];
    ${localFold}
  }
  ${combine}
}

fn logitAt(element: u32) -> f32 {
  ${options.vectorized ? 'return logits[element / 4u][element % 4u];' : 'return logits[element];'}
}

/** The row's label, or the ignore index when it is ignored or invalid (flagged). */
fn loadLabel(row: u32, lid: u32) -> i32 {
  if (lid == 0u) {
    var label = labels[row];
    let ignore = bitcast<i32>(params[2]);
    if (label != ignore && (label < 0 || u32(label) >= params[1])) {
      atomicOr(&status[0], 4u);
      label = ignore;
    }
    rowLabel = label;
  }
  return workgroupUniformLoad(&rowLabel);
}`;
}

function entry(options: TokenKernelOptions, body: string): string {
  const subgroupArgs = options.subgroups ? ', @builtin(subgroup_invocation_id) lane: u32' : '';
  return `@compute @workgroup_size(${TOKEN_WORKGROUP_SIZE})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32${subgroupArgs}) {
  ${options.subgroups ? '' : 'let lane = 0u;'}
  let local = wid.y * nwg.x + wid.x;
  if (local >= params[0]) { return; }
  let row = params[4] + local;
  let vocab = params[1];
  let first = params[3] + local * vocab;
  let label = loadLabel(row, lid);
  let ignored = label == bitcast<i32>(params[2]);
${body}
}`;
}

/** Forward: `out[row] = logits[row, label] − lse(row)` (0 when ignored); also writes `lse[row]`. */
export function tokenLogProbsKernel(options: TokenKernelOptions): string {
  return `${tokenPrelude(options)}
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<storage, read_write> lse: array<f32>;
@group(0) @binding(5) var<storage, read_write> status: array<atomic<u32>>;
${entry(
  options,
  `  if (ignored) {
    if (lid == 0u) { out[row] = 0.0; lse[row] = 0.0; }
    return;
  }
  let total = logsumexp(first / LANES, vocab / LANES, lid, lane);
  if (lid == 0u) {
    out[row] = logitAt(first + u32(label)) - total;
    lse[row] = total;
  }`,
)}`;
}

/**
 * Backward: `grad[row, v] = upstream[row] · (onehot(label)_v − exp(logits[row, v] − lse[row]))`,
 * zero rows where ignored; `lse` is the forward kernel's row log-sum-exp (one read of the row).
 */
export function tokenLogProbsGradKernel(options: TokenKernelOptions): string {
  const vector = options.vectorized ? 'vec4<f32>' : 'f32';
  return `${tokenPrelude(options)}
@group(0) @binding(3) var<storage, read> upstream: array<f32>;
@group(0) @binding(4) var<storage, read_write> grad: array<${vector}>;
@group(0) @binding(5) var<storage, read_write> status: array<atomic<u32>>;
@group(0) @binding(6) var<storage, read> savedLse: array<f32>;
${entry(
  options,
  `  let start = first / LANES;
  let count = vocab / LANES;
  if (ignored) {
    for (var i = lid; i < count; i += WG) { grad[start + i] = ${vector}(0.0); }
    return;
  }
  let total = savedLse[row];
  let up = upstream[row];
  let labelAt = u32(label);
  for (var i = lid; i < count; i += WG) {
    var g = -up * exp(logits[start + i] - ${vector}(total));
    let at = i * LANES;
    if (labelAt >= at && labelAt < at + LANES) { g${options.vectorized ? '[labelAt - at]' : ''} += up; }
    grad[start + i] = g;
  }`,
)}`;
}
