import {
  loadObjectives,
  PrefInputError,
  PrefParamError,
  sequenceInputName,
  valueAndGrad,
  type AnyObjective,
  type Batch,
  type InputSpec,
  type PrefBackend,
  type ValueAndGradResult,
} from '@pref/core';
import { seededFloats } from './seeded-values';

/** A valid batch and parameters for one objective, found by building inputs from its schema. */
export interface ObjectiveWorkload {
  readonly objective: AnyObjective;
  readonly batch: Batch;
  readonly params: Readonly<Record<string, unknown>>;
  /** The rows and time steps of every sequence input. */
  readonly shape: readonly [number, number];
  /** Optional inputs and parameters that had to be added, e.g. `advantages`, `groupSize=4`. */
  readonly additions: readonly string[];
}

/** Rows per group for objectives with a `groupSize` parameter (GRPO, RLOO). */
export const GROUP_SIZE = 4;

/** Per-row masked sums of a sequence's log-probs: realistic values for summed reference log-probs. */
function maskedRowSums(batch: Batch, spec: InputSpec | undefined, rows: number, steps: number): Float32Array {
  const sums = new Float32Array(rows);
  if (spec?.kind !== 'sequence') return sums;
  const logps = (batch[sequenceInputName(spec.prefix, 'Logps')] as { data: Float32Array }).data;
  const mask = (batch[sequenceInputName(spec.prefix, 'Mask')] as { data: Float32Array }).data;
  for (let i = 0; i < rows * steps; i++) if (mask[i]) sums[Math.floor(i / steps)] += logps[i];
  return sums;
}

function inputFor(spec: InputSpec, rows: number, steps: number, seed: number, rowSums: Float32Array): Batch {
  const tokens = rows * steps;
  const hostTensor = (data: Float32Array, shape: number[]) => ({ data, shape });
  if (spec.kind === 'sequence') {
    const mask = new Float32Array(tokens);
    for (let r = 0; r < rows; r++) {
      const counted = steps - ((r * 11) % Math.max(1, Math.floor(steps / 2)));
      mask.fill(1, r * steps, r * steps + counted);
    }
    return {
      [sequenceInputName(spec.prefix, 'Logps')]: hostTensor(seededFloats(tokens, seed, -1, -0.01), [rows, steps]),
      [sequenceInputName(spec.prefix, 'Mask')]: hostTensor(mask, [rows, steps]),
    };
  }
  if (spec.kind === 'tokens') {
    // A binary per-token input (ORPO's chosenNllMask) gets every position counted.
    if (spec.values === 'binary') return { [spec.name]: hostTensor(new Float32Array(tokens).fill(1), [rows, steps]) };
    const values = spec.logProbs ? seededFloats(tokens, seed, -1, -0.01) : seededFloats(tokens, seed, -1, 1);
    return { [spec.name]: hostTensor(values, [rows, steps]) };
  }
  if (spec.values === 'binary')
    return {
      [spec.name]: hostTensor(
        Float32Array.from({ length: rows }, (_, r) => r % 2),
        [rows],
      ),
    };
  const offsets = seededFloats(rows, seed, -2, 2);
  return {
    [spec.name]: hostTensor(
      offsets.map((offset, r) => rowSums[r] + offset),
      [rows],
    ),
  };
}

/**
 * Builds a valid batch for `objective` from its input schema: every required input and every
 * optional per-token input, `[rows, steps]` per sequence (variable-length masks, log-probs in
 * [−3, −0.05]), per-row values (binary where the schema says so). Then runs it on `oracle`;
 * when the objective asks for an optional input it lacks (a `PrefInputError` naming it) or for
 * `groupSize`, adds that and tries again. Throws the objective's own error when no valid batch
 * is found, so the report can say why.
 */
export async function buildObjectiveWorkload(
  objective: AnyObjective,
  oracle: PrefBackend,
  rows = 8,
  steps = 128,
): Promise<{ workload: ObjectiveWorkload; result: ValueAndGradResult }> {
  const specs = Object.values(objective.inputs) as InputSpec[];
  let batch: Batch = {};
  const ordered = specs
    .map((spec, i) => ({ spec, i }))
    .sort((a, b) => Number(b.spec.kind === 'sequence') - Number(a.spec.kind === 'sequence'));
  let rowSums: Float32Array = new Float32Array(rows);
  for (const { spec, i } of ordered) {
    const optionalRows = spec.kind === 'rows' && spec.optional;
    if (!optionalRows) batch = { ...batch, ...inputFor(spec, rows, steps, 100 + i, rowSums) };
    if (spec.kind === 'sequence' && i === specs.findIndex((s) => s.kind === 'sequence')) rowSums = maskedRowSums(batch, spec, rows, steps);
  }
  const params: Record<string, unknown> = {};
  const additions: string[] = [];
  for (let attempt = 0; ; attempt++) {
    try {
      const result = await valueAndGrad(objective, batch, params, { backend: oracle });
      return { workload: { objective, batch, params, shape: [rows, steps], additions }, result };
    } catch (error) {
      if (attempt >= specs.length + 2) throw error;
      if (error instanceof PrefParamError && error.param === 'groupSize' && params.groupSize === undefined) {
        params.groupSize = GROUP_SIZE;
        additions.push(`groupSize=${GROUP_SIZE}`);
        continue;
      }
      const index = error instanceof PrefInputError ? specs.findIndex((s) => s.kind !== 'sequence' && s.name === error.input) : -1;
      if (index < 0 || batch[error instanceof PrefInputError ? error.input : ''] !== undefined) throw error;
      batch = { ...batch, ...inputFor(specs[index], rows, steps, 100 + index, rowSums) };
      additions.push((specs[index] as { name: string }).name);
    }
  }
}

/** Every objective exported by the installed objective packages (core's one list), and the packages that are missing. */
export async function installedObjectives(
  importModule: (name: string) => Promise<unknown>,
): Promise<{ objectives: AnyObjective[]; missing: { packageName: string; reason: string }[] }> {
  const { objectives, missing } = await loadObjectives(importModule);
  return { objectives: Object.values(objectives), missing: missing.map((packageName) => ({ packageName, reason: 'not installed' })) };
}
