import { sequenceInputName, type AnyObjective, type InputSpec } from '@pref/core';

/** A seeded PRNG (mulberry32): the same seed gives the same batches on every machine. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The seed of batch `index` of a run with `seed`, so one batch can be regenerated alone. */
export function batchSeed(seed: number, index: number): number {
  return (Math.imul(seed >>> 0, 0x9e3779b1) + Math.imul(index + 1, 0x85ebca6b)) >>> 0;
}

export interface FuzzShape {
  readonly rows: number;
  readonly steps: number;
}

/**
 * A valid batch for `objective` in its documented ranges, with the edges that break objectives
 * mixed in: log-probs from −1e−300 to −50 (and exactly 0), identical chosen/rejected pairs,
 * one-token completions, rows inputs that tie (zero advantages), old/reference log-probs far
 * from the policy's. Optional inputs follow the schema's rules for `params`; one of each group
 * of alternatives is given.
 */
export function fuzzBatch(
  objective: AnyObjective,
  params: Readonly<Record<string, unknown>>,
  random: () => number,
  shape: FuzzShape,
): Record<string, unknown> {
  const rows = 2 + Math.floor(random() * (shape.rows - 1));
  const steps = 1 + Math.floor(random() * shape.steps);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)];
  const logProb = () => {
    const r = random();
    if (r < 0.05) return 0;
    if (r < 0.1) return -1e-300;
    if (r < 0.15) return -50 * random();
    return -Math.exp(-18 + 22 * random());
  };
  const batch: Record<string, unknown> = {};
  const specs = Object.values(objective.inputs as Record<string, InputSpec>);
  let first: { logps: number[][]; mask: number[][] } | null = null;
  for (const spec of specs) {
    if (spec.kind !== 'sequence') continue;
    const identical: boolean = first !== null && random() < 0.2;
    const mask: number[][] = identical
      ? first!.mask.map((r) => [...r])
      : Array.from({ length: rows }, () => {
          const length = random() < 0.2 ? 1 : 1 + Math.floor(random() * steps);
          return Array.from({ length: steps }, (_, t) => (t < length ? 1 : 0));
        });
    const logps: number[][] = identical ? first!.logps.map((r) => [...r]) : mask.map((r) => r.map(() => logProb()));
    batch[sequenceInputName(spec.prefix, 'Logps')] = logps;
    batch[sequenceInputName(spec.prefix, 'Mask')] = mask;
    first ??= { logps, mask };
  }
  const groups = new Set<string>();
  let realRowsGiven = false;
  for (const spec of specs) {
    if (spec.kind === 'sequence') continue;
    if (spec.kind !== 'tokens' && spec.kind !== 'rows') continue;
    if (spec.forbiddenWhen?.holds(params)) continue;
    if (spec.oneOf) {
      if (groups.has(spec.oneOf)) continue;
      groups.add(spec.oneOf);
    }
    const required = !spec.optional || spec.requiredWhen?.holds(params) || spec.oneOf !== undefined;
    // An optional real-valued rows input without rules (advantages or rewards): give the first.
    const firstReal = spec.kind === 'rows' && spec.values !== 'binary' && !spec.logProbs && !realRowsGiven;
    if (!required && !(firstReal && spec.optional) && !(spec.kind === 'tokens' && random() < 0.5)) continue;
    if (spec.kind === 'tokens') {
      const sequence = objective.inputs[spec.sequence] as Extract<InputSpec, { kind: 'sequence' }>;
      const policy = batch[sequenceInputName(sequence.prefix, 'Logps')] as number[][];
      const far = random() < 0.2;
      batch[spec.name] =
        spec.values === 'binary'
          ? policy.map((r) => r.map(() => (random() < 0.5 ? 1 : 0)))
          : policy.map((r) => r.map((l) => (spec.logProbs ? Math.min(0, l + (far ? -30 : 2) * (random() - 0.5)) : 4 * (random() - 0.5))));
    } else if (spec.values === 'binary') {
      batch[spec.name] = Array.from({ length: rows }, (_, i) => (i < 2 ? i : random() < 0.5 ? 1 : 0));
    } else if (spec.logProbs) {
      batch[spec.name] = Array.from({ length: rows }, () => -steps * 10 * random());
    } else {
      realRowsGiven = true;
      const tie = random() < 0.2 ? pick([0, 1, -3]) : null;
      batch[spec.name] = Array.from({ length: rows }, () => tie ?? 6 * (random() - 0.5));
    }
  }
  return batch;
}
