import { withSpecificationChanges } from './conformance-changes';
import type { AnyObjective, ObjectiveState } from './objective';
import type { PrefBackend } from './pref-backend';
import { valueAndGrad } from './value-and-grad';

/** A case file, as in `shared/conformance/README.md` (`format: "pref-conformance/1"`). */
export interface ConformanceFile {
  readonly format: 'pref-conformance/1';
  readonly cases: readonly ConformanceCase[];
}

export interface ConformanceCase {
  readonly id: string;
  readonly objective: string;
  readonly params: Readonly<Record<string, unknown>>;
  readonly state?: ObjectiveState | null;
  readonly inputs: Readonly<Record<string, unknown>>;
  readonly expected: ConformanceExpected | { readonly error: string };
}

export interface ConformanceExpected {
  readonly loss: number;
  readonly grads: Readonly<Record<string, unknown>>;
  readonly metrics: Readonly<Record<string, number>>;
  readonly state: ObjectiveState | null;
}

/** What a backend computed for a case (the `results` entries of `--out`). */
export type ConformanceComputed =
  { loss: number; grads: Record<string, unknown>; metrics: Record<string, number>; state: ObjectiveState | null } | { error: string };

export interface ConformanceOutcome {
  readonly id: string;
  readonly status: 'passed' | 'failed' | 'skipped';
  /** Why it failed or was skipped. */
  readonly reason?: string;
  readonly computed?: ConformanceComputed;
}

export interface Tolerance {
  readonly relative: number;
  readonly absolute: number;
}

/** The tolerances of the conformance README: float64 1e-9 / 1e-12, float32 1e-4 / 1e-5. */
export function toleranceFor(precision: 32 | 64): Tolerance {
  return precision === 64 ? { relative: 1e-9, absolute: 1e-12 } : { relative: 1e-4, absolute: 1e-5 };
}

export function parseConformanceFile(text: string, origin = 'case file'): ConformanceFile {
  const parsed = JSON.parse(text) as ConformanceFile;
  if (parsed?.format !== 'pref-conformance/1' || !Array.isArray(parsed.cases)) {
    throw new Error(`${origin}: not a pref-conformance/1 file`);
  }
  return parsed;
}

function isErrorCase(expected: ConformanceCase['expected']): expected is { readonly error: string } {
  return typeof (expected as { error?: unknown }).error === 'string';
}

/** Nested arrays from a flat array and its shape. */
export function nest(data: ArrayLike<number>, shape: readonly number[]): unknown {
  if (shape.length === 0) return Number(data[0]);
  const build = (offset: number, depth: number): unknown => {
    if (depth === shape.length - 1) return Array.from({ length: shape[depth] }, (_, i) => Number(data[offset + i]));
    const stride = shape.slice(depth + 1).reduce((a, b) => a * b, 1);
    return Array.from({ length: shape[depth] }, (_, i) => build(offset + i * stride, depth + 1));
  };
  return build(0, 0);
}

function flatten(value: unknown): number[] {
  return Array.isArray(value) ? value.flatMap(flatten) : [Number(value)];
}

/** Where `actual` differs from `expected` beyond the tolerance (per element), or null. */
export function compareValues(path: string, actual: unknown, expected: unknown, tolerance: Tolerance): string | null {
  const a = flatten(actual);
  const e = flatten(expected);
  if (a.length !== e.length) return `${path}: ${a.length} values, expected ${e.length}`;
  for (let i = 0; i < e.length; i++) {
    const diff = Math.abs(a[i] - e[i]);
    if (!(diff <= tolerance.absolute + tolerance.relative * Math.abs(e[i]))) {
      return `${path}${e.length > 1 ? `[${i}]` : ''}: got ${a[i]}, expected ${e[i]} (|diff| ${diff.toExponential(2)})`;
    }
  }
  return null;
}

/**
 * Computes one case on `backend` and checks it against its expectation. A case whose objective
 * is not in `objectives` is skipped (with the reason), never passed.
 */
export async function runConformanceCase(
  testCase: ConformanceCase,
  options: { readonly backend: PrefBackend; readonly objectives: Readonly<Record<string, AnyObjective>>; readonly tolerance?: Tolerance },
): Promise<ConformanceOutcome> {
  testCase = withSpecificationChanges(testCase);
  const objective = options.objectives[testCase.objective];
  if (!objective)
    return { id: testCase.id, status: 'skipped', reason: `objective ${testCase.objective} is not implemented or not installed` };
  const tolerance = options.tolerance ?? toleranceFor(options.backend.capabilities.precision);
  let computed: ConformanceComputed;
  try {
    const result = await valueAndGrad(objective, testCase.inputs, testCase.params, {
      backend: options.backend,
      state: testCase.state ?? null,
    });
    computed = {
      loss: result.loss,
      grads: Object.fromEntries(Object.entries(result.grads).map(([k, g]) => [k, nest(g.data, g.shape)])),
      metrics: result.metrics,
      state: result.state,
    };
  } catch (error) {
    computed = { error: (error as Error).message };
  }
  const fail = (reason: string): ConformanceOutcome => ({ id: testCase.id, status: 'failed', reason, computed });
  const expected = testCase.expected;
  if (isErrorCase(expected)) {
    if (!('error' in computed)) return fail(`expected an error containing "${expected.error}", got loss ${computed.loss}`);
    if (!computed.error.toLowerCase().includes(expected.error.toLowerCase())) {
      return fail(`expected an error containing "${expected.error}", got: ${computed.error}`);
    }
    return { id: testCase.id, status: 'passed', computed };
  }
  if ('error' in computed) return fail(`unexpected error: ${computed.error}`);
  const problems: string[] = [];
  const check = (path: string, actual: unknown, want: unknown) => {
    if (actual === undefined) problems.push(`${path}: missing`);
    else {
      const problem = compareValues(path, actual, want, tolerance);
      if (problem) problems.push(problem);
    }
  };
  check('loss', computed.loss, expected.loss);
  for (const [name, want] of Object.entries(expected.grads)) check(`grads.${name}`, computed.grads[name], want);
  for (const [name, want] of Object.entries(expected.metrics)) check(`metrics.${name}`, computed.metrics[name], want);
  if (expected.state) {
    for (const [name, want] of Object.entries(expected.state)) check(`state.${name}`, computed.state?.[name], want);
  }
  return problems.length ? fail(problems.join('; ')) : { id: testCase.id, status: 'passed', computed };
}
