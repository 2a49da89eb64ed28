import { PARAMS_DECL } from './wgsl-common';

/** Rows × columns of one output tile, the reduction depth of one shared-memory step, threads. */
export const TILE_M = 64;
export const TILE_N = 64;
const TILE_K = 16;
// The forward's per-thread pairs reuse the operand tiles: 16 pairs per row fill TILE_K × TILE_M.
/** Threads per linear-head workgroup: 16 × 16, each computing a 4 × 4 block of its tile. */
export const LINEAR_WORKGROUP_SIZE = 256;

/** Where each operand of a tile product is read from. */
interface TileOperands {
  /** WGSL expression of A(i, k) given `i`, `k` in bounds. */
  readonly a: string;
  /** WGSL expression of B(k, j) given `k`, `j` in bounds. */
  readonly b: string;
  /** Whether consecutive threads should load along k (coalesced when the stride of k is 1). */
  readonly aAlongK: boolean;
  readonly bAlongK: boolean;
}

const TILE_DECLS = /* wgsl */ `const TM = ${TILE_M}u;
const TN = ${TILE_N}u;
const TK = ${TILE_K}u;
const LOWEST = -3.4028234e38;
var<workgroup> tileA: array<f32, ${TILE_K * TILE_M}>;
var<workgroup> tileB: array<f32, ${TILE_K * TILE_N}>;`;

/** `body(i)` for i = 0 … n − 1, joined: loops unrolled in the generated WGSL, so every index is constant. */
function unroll(n: number, body: (i: number) => string): string {
  return Array.from({ length: n }, (_, i) => body(i)).join('\n');
}

/**
 * `fn tileProduct(row0, col0, rows, cols, depth, lid) -> array<vec4<f32>, 4>`: the thread's 4 × 4
 * block of `A[row0.., :] · B[:, col0..]` (element `[i][j]` is row `ty + 16i`, column `tx + 16j`),
 * through `TK`-deep tiles of both operands in workgroup memory; out-of-range elements read as 0.
 * Every inner loop is unrolled with constant indices, so the block stays in registers.
 */
function tileProductFn({ a, b, aAlongK, bAlongK }: TileOperands): string {
  const split = (alongK: boolean, wide: string) =>
    alongK ? `let k = idx % TK; let w = idx / TK;` : `let w = idx % ${wide}; let k = idx / ${wide};`;
  const loads = (q: number) => `    {
      let idx = lid + ${256 * q}u;
      {
        ${split(aAlongK, 'TM')}
        let i = row0 + w;
        let kk = k0 + k;
        tileA[k * TM + w] = select(0.0, loadA(min(i, rows - 1u), min(kk, depth - 1u)), i < rows && kk < depth);
      }
      {
        ${split(bAlongK, 'TN')}
        let j = col0 + w;
        let kk = k0 + k;
        tileB[k * TN + w] = select(0.0, loadB(min(kk, depth - 1u), min(j, cols - 1u)), j < cols && kk < depth);
      }
    }`;
  return /* wgsl */ `
fn loadA(i: u32, k: u32) -> f32 { return ${a}; }
fn loadB(k: u32, j: u32) -> f32 { return ${b}; }
fn tileProduct(row0: u32, col0: u32, rows: u32, cols: u32, depth: u32, lid: u32) -> array<vec4<f32>, 4> {
  let tx = lid % 16u;
  let ty = lid / 16u;
${unroll(4, (i) => `  var acc${i} = vec4<f32>(0.0);`)}
  for (var k0 = 0u; k0 < depth; k0 += TK) {
${unroll(4, loads)}
    workgroupBarrier();
    for (var k = 0u; k < TK; k++) {
      let ar = k * TM + ty;
      let br = k * TN + tx;
      let av = vec4<f32>(tileA[ar], tileA[ar + 16u], tileA[ar + 32u], tileA[ar + 48u]);
      let bv = vec4<f32>(tileB[br], tileB[br + 16u], tileB[br + 32u], tileB[br + 48u]);
${unroll(4, (i) => `      acc${i} = fma(vec4<f32>(av[${i}]), bv, acc${i});`)}
    }
    workgroupBarrier();
  }
  return array<vec4<f32>, 4>(acc0, acc1, acc2, acc3);
}`;
}

/**
 * Parameters of the head kernels: `[rows, hiddenSize, chunkCols, chunkStart, weightShift,
 * ignoreIndex, logitScale bits, softcap bits (0 = none), colGroups, tilesPerGroup, splitBase,
 * totalSplits, vocab, hasBias]`; the bound weight range holds the chunk's rows from `weightShift`.
 */
const HEAD_PRELUDE = /* wgsl */ `${PARAMS_DECL}
${TILE_DECLS}
@group(0) @binding(1) var<storage, read> hidden: array<f32>;
@group(0) @binding(2) var<storage, read> weight: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read> labels: array<i32>;
fn biasAt(v: u32) -> f32 {
  if (params[13] == 0u) { return 0.0; }
  return bias[v];
}
fn logitScale() -> f32 { return bitcast<f32>(params[6]); }
fn softcap() -> f32 { return bitcast<f32>(params[7]); }
/** The logit z and dz/d(h·w + b) of a pre-activation. */
fn headLogit(pre: f32) -> vec2<f32> {
  let scale = logitScale();
  let cap = softcap();
  let u = scale * pre;
  if (cap > 0.0) {
    let t = tanh(clamp(u / cap, -15.0, 15.0));
    return vec2<f32>(cap * t, scale * (1.0 - t * t));
  }
  return vec2<f32>(u, scale);
}
/** A row's label, or the ignore index past the last row or when it is outside the vocabulary. */
fn rowLabel(row: u32) -> i32 {
  let ignore = bitcast<i32>(params[5]);
  if (row >= params[0]) { return ignore; }
  let label = labels[row];
  if (label < 0 || u32(label) >= params[12]) { return ignore; }
  return label;
}`;

const HEAD_OPERANDS: TileOperands = {
  a: 'hidden[i * params[1] + k]',
  b: 'weight[params[4] + j * params[1] + k]',
  aAlongK: true,
  bAlongK: true,
};

const HEAD_ENTRY = `@compute @workgroup_size(${LINEAR_WORKGROUP_SIZE})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let group = wid.y * nwg.x + wid.x;
  let rows = params[0];
  let colGroups = params[8];
  if (group >= ((rows + TM - 1u) / TM) * colGroups) { return; }
  let row0 = (group / colGroups) * TM;
  let colGroup = group % colGroups;
  let tx = lid % 16u;
  let ty = lid / 16u;
  let label = array<i32, 4>(${unroll(4, (i) => `rowLabel(row0 + ty + ${16 * i}u)`)
    .split('\n')
    .join(', ')});`;

/**
 * Forward over one vocabulary chunk: each workgroup takes 64 rows and `tilesPerGroup` tiles of
 * 64 chunk columns, computes each tile `z = softcap(scale · (hidden · weightᵀ + bias))` and
 * folds it into the rows' running (max, Σexp) in workgroup memory (online log-sum-exp); the
 * pair goes to `partials[row · totalSplits + splitBase + colGroup]`, and the labelled logit to
 * `labelLogit[row]` (exactly one writer per row).
 */
export const LINEAR_FORWARD_KERNEL = `${HEAD_PRELUDE}
@group(0) @binding(5) var<storage, read_write> partials: array<vec2<f32>>;
@group(0) @binding(6) var<storage, read_write> labelLogit: array<f32>;
var<workgroup> runMax: array<f32, ${TILE_M}>;
var<workgroup> runSum: array<f32, ${TILE_M}>;
${tileProductFn(HEAD_OPERANDS)}
${HEAD_ENTRY}
  let cols = params[2];
  let chunkStart = params[3];
  let ignore = bitcast<i32>(params[5]);
  if (lid < TM) { runMax[lid] = LOWEST; runSum[lid] = 0.0; }
  for (var t = 0u; t < params[9]; t++) {
    let col0 = (colGroup * params[9] + t) * TN;
    if (col0 >= cols) { break; }
    let acc = tileProduct(row0, col0, rows, cols, params[1], lid);
${unroll(
  4,
  (i) => `    {
      let r = ty + ${16 * i}u;
      var m = LOWEST;
      var s = 0.0;
${unroll(
  4,
  (j) => `      {
        let col = col0 + tx + ${16 * j}u;
        if (col < cols) {
          let z = headLogit(acc[${i}][${j}] + biasAt(chunkStart + col)).x;
          if (z > m) { s = s * exp(m - z); m = z; }
          s += exp(z - m);
          if (label[${i}] != ignore && label[${i}] == i32(chunkStart + col)) { labelLogit[row0 + r] = z; }
        }
      }`,
)}
      // The operand tiles are free between products: they hold the per-thread (max, Σexp) pairs.
      tileA[r * 16u + tx] = m;
      tileB[r * 16u + tx] = s;
    }`,
)}
    workgroupBarrier();
    if (lid < TM) {
      var m = runMax[lid];
      var s = runSum[lid];
      for (var q = 0u; q < 16u; q++) {
        let pm = tileA[lid * 16u + q];
        let top = max(m, pm);
        s = s * exp(m - top) + tileB[lid * 16u + q] * exp(pm - top);
        m = top;
      }
      runMax[lid] = m;
      runSum[lid] = s;
    }
    workgroupBarrier();
  }
  if (lid < TM && row0 + lid < rows) {
    partials[(row0 + lid) * params[11] + params[10] + colGroup] = vec2<f32>(runMax[lid], runSum[lid]);
  }
}`;

/**
 * Backward over one chunk, one 64 × 64 tile per workgroup: the logits' gradient
 * `dPre[row, col] = upstream[row] · (onehot(label) − exp(z − lse[row])) · dz/dPre` into the
 * `[rows, chunkCols]` scratch, zero rows where ignored.
 */
export const LINEAR_LOGITS_GRAD_KERNEL = `${HEAD_PRELUDE}
@group(0) @binding(5) var<storage, read> lse: array<f32>;
@group(0) @binding(6) var<storage, read> upstream: array<f32>;
@group(0) @binding(7) var<storage, read_write> dPre: array<f32>;
${tileProductFn(HEAD_OPERANDS)}
${HEAD_ENTRY}
  let cols = params[2];
  let chunkStart = params[3];
  let ignore = bitcast<i32>(params[5]);
  let col0 = colGroup * TN;
  let acc = tileProduct(row0, col0, rows, cols, params[1], lid);
${unroll(
  4,
  (i) => `  {
    let row = row0 + ty + ${16 * i}u;
    if (row < rows) {
      let kept = label[${i}] != ignore;
      let up = upstream[row];
      let total = lse[row];
${unroll(
  4,
  (j) => `      {
        let col = col0 + tx + ${16 * j}u;
        if (col < cols) {
          let z = headLogit(acc[${i}][${j}] + biasAt(chunkStart + col));
          let onehot = select(0.0, 1.0, label[${i}] == i32(chunkStart + col));
          dPre[row * cols + col] = select(0.0, up * (onehot - exp(z.x - total)) * z.y, kept);
        }
      }`,
)}
    }
  }`,
)}
}`;

/**
 * Row log-sum-exp and log-prob from the partial (max, Σexp) pairs of every split, one thread per
 * row. A label outside the vocabulary (and not the ignore index) sets `flag` in the status
 * buffer. Params: `[rows, totalSplits, ignoreIndex, vocab]`.
 */
export function linearCombineKernel(flag: number): string {
  return `${PARAMS_DECL}
const LOWEST = -3.4028234e38;
@group(0) @binding(1) var<storage, read> labels: array<i32>;
@group(0) @binding(2) var<storage, read> partials: array<vec2<f32>>;
@group(0) @binding(3) var<storage, read> labelLogit: array<f32>;
@group(0) @binding(4) var<storage, read_write> logps: array<f32>;
@group(0) @binding(5) var<storage, read_write> lse: array<f32>;
@group(0) @binding(6) var<storage, read_write> status: array<atomic<u32>>;
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let row = (wid.y * nwg.x + wid.x) * 256u + lid;
  if (row >= params[0]) { return; }
  let splits = params[1];
  var m = LOWEST;
  var s = 0.0;
  for (var q = 0u; q < splits; q++) {
    let p = partials[row * splits + q];
    let top = max(m, p.x);
    s = s * exp(m - top) + p.y * exp(p.x - top);
    m = top;
  }
  let total = m + log(s);
  lse[row] = total;
  let label = labels[row];
  var ignored = label == bitcast<i32>(params[2]);
  if (!ignored && (label < 0 || u32(label) >= params[3])) {
    atomicOr(&status[0], ${flag}u);
    ignored = true;
  }
  logps[row] = select(labelLogit[row] - total, 0.0, ignored);
}`;
}

/**
 * `C[i, j] (+)= Σ_k A(i, k) · B(k, j)` over 64 × 64 tiles, operands addressed by strides:
 * params `[M, N, K, aShift, aRowStride, aDepthStride, bShift, bDepthStride, bColStride, cShift,
 * cRowStride, accumulate, colTiles]`. `aAlongK`/`bAlongK` pick the coalesced load order.
 */
export function matmulKernel(aAlongK: boolean, bAlongK: boolean): string {
  return `${PARAMS_DECL}
${TILE_DECLS}
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;
${tileProductFn({ a: 'a[params[3] + i * params[4] + k * params[5]]', b: 'b[params[6] + k * params[7] + j * params[8]]', aAlongK, bAlongK })}
@compute @workgroup_size(${LINEAR_WORKGROUP_SIZE})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let group = wid.y * nwg.x + wid.x;
  let rows = params[0];
  let cols = params[1];
  let colTiles = params[12];
  if (group >= ((rows + TM - 1u) / TM) * colTiles) { return; }
  let row0 = (group / colTiles) * TM;
  let col0 = (group % colTiles) * TN;
  let acc = tileProduct(row0, col0, rows, cols, params[2], lid);
  let tx = lid % 16u;
  let ty = lid / 16u;
${unroll(
  16,
  (n) => `  {
    let row = row0 + ty + ${16 * (n >> 2)}u;
    let col = col0 + tx + ${16 * (n & 3)}u;
    if (row < rows && col < cols) {
      let at = params[9] + row * params[10] + col;
      var v = acc[${n >> 2}][${n & 3}];
      if (params[11] != 0u) { v += c[at]; }
      c[at] = v;
    }
  }`,
)}
}`;
}

/** `out[shift + col] = Σ_row x[row · cols + col]`, one thread per column. Params: `[cols, rows, shift]`. */
export const COLUMN_SUM_KERNEL = `${PARAMS_DECL}
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let col = (wid.y * nwg.x + wid.x) * 256u + lid;
  let cols = params[0];
  if (col >= cols) { return; }
  var acc = 0.0;
  var carry = 0.0;
  for (var row = 0u; row < params[1]; row++) {
    let y = x[row * cols + col] - carry;
    let t = acc + y;
    carry = (t - acc) - y;
    acc = t;
  }
  out[params[2] + col] = acc;
}`;
