import type { UnaryOp } from '@pref/core/backend';
import type { OnnxGraphBuilder } from './onnx-graph-builder';

/**
 * `log(1 + x)` accurate near 0 in float32 (ONNX has no `Log1p`): for |x| < 0.5 Kahan's form
 * `log(u)·x/(u − 1)` with `u = 1 + x` (exactly `x` when `u` rounds to 1), else `log(1 + x)`.
 */
export function lowerLog1p(b: OnnxGraphBuilder, x: string): string {
  const u = b.node('Add', [x, b.floatScalar(1)]);
  const d = b.node('Sub', [u, b.floatScalar(1)]);
  const logU = b.node('Log', [u]);
  const kahan = b.node('Div', [b.node('Mul', [logU, x]), d]);
  const small = b.node('Less', [b.node('Abs', [x]), b.floatScalar(0.5)]);
  const corrected = b.node('Where', [b.node('Equal', [d, b.floatScalar(0)]), x, kahan]);
  return b.node('Where', [small, corrected, logU]);
}

/** `exp(x) − 1` accurate near 0: for |x| < 0.5 `(u − 1)·x/log(u)` with `u = exp(x)`, else `exp(x) − 1`. */
function lowerExpm1(b: OnnxGraphBuilder, x: string): string {
  const u = b.node('Exp', [x]);
  const d = b.node('Sub', [u, b.floatScalar(1)]);
  const kahan = b.node('Div', [b.node('Mul', [d, x]), b.node('Log', [u])]);
  const small = b.node('Less', [b.node('Abs', [x]), b.floatScalar(0.5)]);
  const corrected = b.node('Where', [b.node('Equal', [u, b.floatScalar(1)]), x, kahan]);
  return b.node('Where', [small, corrected, d]);
}

/** `log(1 + exp(−|x|))`, the tail shared by softplus and log-sigmoid; never overflows. */
function softplusTail(b: OnnxGraphBuilder, x: string): string {
  return lowerLog1p(b, b.node('Exp', [b.node('Neg', [b.node('Abs', [x])])]));
}

/**
 * `σ(x)` from `e = exp(−|x|)`: `1/(1 + e)` for x ≥ 0, `e/(1 + e)` below, so it neither
 * overflows nor flushes to 0 early (onnxruntime's CPU `Sigmoid` reaches 0 near x = −18).
 */
function lowerSigmoid(b: OnnxGraphBuilder, x: string): string {
  const e = b.node('Exp', [b.node('Neg', [b.node('Abs', [x])])]);
  const denominator = b.node('Add', [e, b.floatScalar(1)]);
  const positive = b.node('Reciprocal', [denominator]);
  const negative = b.node('Div', [e, denominator]);
  return b.node('Where', [b.node('GreaterOrEqual', [x, b.floatScalar(0)]), positive, negative]);
}

/** Emits the numerically safe ONNX form of one unary primitive on a float32 value. */
export function lowerUnary(b: OnnxGraphBuilder, op: UnaryOp, x: string): string {
  switch (op) {
    case 'neg':
      return b.node('Neg', [x]);
    case 'exp':
      return b.node('Exp', [x]);
    case 'log':
      return b.node('Log', [x]);
    case 'log1p':
      return lowerLog1p(b, x);
    case 'expm1':
      return lowerExpm1(b, x);
    case 'sigmoid':
      return lowerSigmoid(b, x);
    // softplus(x) = max(x, 0) + log(1 + exp(−|x|))
    case 'softplus':
      return b.node('Add', [b.node('Relu', [x]), softplusTail(b, x)]);
    // log σ(x) = min(x, 0) − log(1 + exp(−|x|))
    case 'logSigmoid':
      return b.node('Sub', [b.node('Min', [x, b.floatScalar(0)]), softplusTail(b, x)]);
    case 'relu':
      return b.node('Relu', [x]);
    case 'square':
      return b.node('Mul', [x, x]);
    case 'sqrt':
      return b.node('Sqrt', [x]);
    case 'abs':
      return b.node('Abs', [x]);
  }
}
