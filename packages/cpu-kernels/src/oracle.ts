/**
 * The specification of every kernel as plain TypeScript over float64, in straightforward loops:
 * the oracle the kernels are tested against (`import { oracle } from '@pref/cpu-kernels'`).
 * Rows whose label is `ignoreIndex` are not read (logps = lse = entropy = 0, gradient rows 0), nor
 * are rows whose upstream gradients are both 0 in a backward.
 */
type Values = ArrayLike<number>;

export interface OracleForward {
  readonly logps: Float64Array;
  readonly lse: Float64Array;
  readonly entropy: Float64Array;
}

/** logps[r] = z[r, y] − lse[r], lse[r] = log Σ exp z[r, :], entropy[r] = lse[r] − Σ p z. */
export function tokenForward(logits: Values, labels: ArrayLike<number>, vocab: number, ignoreIndex = -100): OracleForward {
  const rows = labels.length;
  const logps = new Float64Array(rows);
  const lse = new Float64Array(rows);
  const entropy = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    if (labels[r] === ignoreIndex) continue;
    const base = r * vocab;
    let max = -Infinity;
    for (let v = 0; v < vocab; v++) max = Math.max(max, logits[base + v]);
    let sum = 0;
    for (let v = 0; v < vocab; v++) sum += Math.exp(logits[base + v] - max);
    lse[r] = max + Math.log(sum);
    let pz = 0;
    for (let v = 0; v < vocab; v++) pz += Math.exp(logits[base + v] - lse[r]) * logits[base + v];
    entropy[r] = lse[r] - pz;
    logps[r] = logits[base + labels[r]] - lse[r];
  }
  return { logps, lse, entropy };
}

/** g[r, v] = u_r·(δ_{v,y} − p_v) + e_r·p_v·(lse_r − z_v − H_r), from the logits alone. */
export function tokenBackward(
  logits: Values,
  labels: ArrayLike<number>,
  vocab: number,
  gradLogps: Values,
  gradEntropy?: Values,
  ignoreIndex = -100,
): Float64Array {
  const rows = labels.length;
  const { lse, entropy } = tokenForward(logits, labels, vocab, ignoreIndex);
  const grad = new Float64Array(rows * vocab);
  for (let r = 0; r < rows; r++) {
    const u = gradLogps[r];
    const e = gradEntropy ? gradEntropy[r] : 0;
    if (labels[r] === ignoreIndex || (u === 0 && e === 0)) continue;
    const base = r * vocab;
    for (let v = 0; v < vocab; v++) {
      const z = logits[base + v];
      const p = Math.exp(z - lse[r]);
      grad[base + v] = -u * p + e * p * (lse[r] - z - entropy[r]);
    }
    grad[base + labels[r]] += u;
  }
  return grad;
}

export interface OracleLinear {
  /** `[rows, hiddenSize]` */
  readonly hidden: Values;
  /** `[vocab, hiddenSize]` */
  readonly weight: Values;
  readonly bias?: Values;
  readonly labels: ArrayLike<number>;
  readonly hiddenSize: number;
  readonly vocab: number;
  readonly ignoreIndex?: number;
  readonly logitScale?: number;
  readonly softcap?: number;
}

/** z = s·(h·Wᵀ + b), then c·tanh(z/c) with a softcap; also t = tanh(·) (or null). Rows with ignored labels are left 0. */
export function linearLogits(a: OracleLinear): { logits: Float64Array; tanh: Float64Array | null } {
  const rows = a.labels.length;
  const { hiddenSize: H, vocab: V } = a;
  const s = a.logitScale ?? 1;
  const c = a.softcap ?? 0;
  const ignore = a.ignoreIndex ?? -100;
  const logits = new Float64Array(rows * V);
  const tanh = c ? new Float64Array(rows * V) : null;
  for (let r = 0; r < rows; r++) {
    if (a.labels[r] === ignore) continue;
    for (let v = 0; v < V; v++) {
      let dot = a.bias ? a.bias[v] : 0;
      for (let h = 0; h < H; h++) dot += a.hidden[r * H + h] * a.weight[v * H + h];
      const y = s * dot;
      if (c) {
        const t = Math.tanh(y / c);
        tanh![r * V + v] = t;
        logits[r * V + v] = c * t;
      } else logits[r * V + v] = y;
    }
  }
  return { logits, tanh };
}

export function linearForward(a: OracleLinear): OracleForward {
  return tokenForward(linearLogits(a).logits, a.labels, a.vocab, a.ignoreIndex ?? -100);
}

/** dHidden = dpre·W, dWeight = dpreᵀ·h, dBias = Σ_r dpre, dpre = s·dz·(1 − t²) (or s·dz). */
export function linearBackward(a: OracleLinear & { gradLogps: Values; gradEntropy?: Values }): {
  gradHidden: Float64Array;
  gradWeight: Float64Array;
  gradBias: Float64Array;
} {
  const rows = a.labels.length;
  const { hiddenSize: H, vocab: V } = a;
  const s = a.logitScale ?? 1;
  const ignore = a.ignoreIndex ?? -100;
  const { logits, tanh } = linearLogits(a);
  const dz = tokenBackward(logits, a.labels, V, a.gradLogps, a.gradEntropy, ignore);
  const gradHidden = new Float64Array(rows * H);
  const gradWeight = new Float64Array(V * H);
  const gradBias = new Float64Array(V);
  for (let r = 0; r < rows; r++) {
    const e = a.gradEntropy ? a.gradEntropy[r] : 0;
    if (a.labels[r] === ignore || (a.gradLogps[r] === 0 && e === 0)) continue;
    for (let v = 0; v < V; v++) {
      const t = tanh ? tanh[r * V + v] : 0;
      const d = s * dz[r * V + v] * (tanh ? 1 - t * t : 1);
      gradBias[v] += d;
      for (let h = 0; h < H; h++) {
        gradHidden[r * H + h] += d * a.weight[v * H + h];
        gradWeight[v * H + h] += d * a.hidden[r * H + h];
      }
    }
  }
  return { gradHidden, gradWeight, gradBias };
}
