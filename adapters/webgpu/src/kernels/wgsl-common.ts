/** Threads per workgroup of the elementwise and copy kernels. */
export const WORKGROUP_SIZE = 256;

/** Binding 0 of every kernel: its small parameters, as 32-bit words. */
export const PARAMS_DECL = '@group(0) @binding(0) var<storage, read> params: array<u32>;';

/** Entry point of a one-thread-per-element kernel; `index` is the element, past `params[0]` it returns. */
export function elementEntry(body: string): string {
  return /* wgsl */ `
@compute @workgroup_size(${WORKGROUP_SIZE})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let index = (wid.y * nwg.x + wid.x) * ${WORKGROUP_SIZE}u + lid;
  if (index >= params[0]) { return; }
${body}
}`;
}

/**
 * Flat offset into an input laid out by `strides` (at `params[strideAt..]`) of output element
 * `index`, whose shape (rank `params[1]`) sits at `params[2..]`.
 */
export const STRIDED_OFFSET_FN = /* wgsl */ `
fn stridedOffset(index: u32, strideAt: u32) -> u32 {
  let rank = params[1];
  var rest = index;
  var offset = 0u;
  for (var d = i32(rank) - 1; d >= 0; d--) {
    let dim = params[2u + u32(d)];
    offset += (rest % dim) * params[strideAt + u32(d)];
    rest = rest / dim;
  }
  return offset;
}`;

/** Float helpers shared by the elementwise kernels, accurate in float32 over the whole range. */
export const MATH_FNS = /* wgsl */ `
// Non-finite values cannot be constant expressions in WGSL: build them from runtime bits.
fn posInf() -> f32 { return bitcast<f32>(0x7f800000u | (params[0] & 0u)); }
fn nan() -> f32 { return bitcast<f32>(0x7fc00000u | (params[0] & 0u)); }
fn log1p_(x: f32) -> f32 {
  if (abs(x) < 0.5) {
    let s = x / (2.0 + x);
    let s2 = s * s;
    return 2.0 * s * (1.0 + s2 * (1.0 / 3.0 + s2 * (1.0 / 5.0 + s2 * (1.0 / 7.0 + s2 * (1.0 / 9.0 + s2 * (1.0 / 11.0 + s2 * (1.0 / 13.0)))))));
  }
  return log(1.0 + x);
}
fn expm1_(x: f32) -> f32 {
  if (abs(x) < 0.5) {
    return x * (1.0 + x * (1.0 / 2.0 + x * (1.0 / 6.0 + x * (1.0 / 24.0 + x * (1.0 / 120.0 + x * (1.0 / 720.0 + x * (1.0 / 5040.0 + x * (1.0 / 40320.0))))))));
  }
  return exp(x) - 1.0;
}
fn softplus_(x: f32) -> f32 {
  if (x > 0.0) { return x + log1p_(exp(-x)); }
  return log1p_(exp(x));
}
fn sigmoid_(x: f32) -> f32 {
  if (x >= 0.0) { return 1.0 / (1.0 + exp(-x)); }
  let e = exp(x);
  return e / (1.0 + e);
}
fn pow_(a: f32, b: f32) -> f32 {
  if (b == 0.0) { return 1.0; }
  if (b == 1.0) { return a; }
  if (b == 2.0) { return a * a; }
  if (a == 0.0) { return select(posInf(), 0.0, b > 0.0); }
  let magnitude = exp2(b * log2(abs(a)));
  if (a > 0.0) { return magnitude; }
  if (b != floor(b)) { return nan(); }
  return select(magnitude, -magnitude, abs(b % 2.0) == 1.0);
}`;

/** Bits of a float32, for passing float parameters as `u32` words. */
export function floatBits(value: number): number {
  const view = new DataView(new ArrayBuffer(4));
  view.setFloat32(0, value, true);
  return view.getUint32(0, true);
}
