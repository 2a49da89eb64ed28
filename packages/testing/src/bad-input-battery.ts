import { describe, expect, it } from 'vitest';
import {
  MAX_INPUT_MAGNITUDE,
  PrefBackendError,
  PrefError,
  PrefInputError,
  PrefParamError,
  sequenceInputName,
  valueAndGrad,
  type AnyObjective,
  type InputSpec,
  type PrefBackend,
} from '@pref/core';
import type { BackendUnderTest } from './describe-conformance';
import { loadConformanceCases } from './conformance-cases';
import { installedObjectives } from './installed-objectives';

type Batch = Record<string, unknown>;
type Params = Record<string, unknown>;

/** What a bad call must give: a typed error naming the input (or parameter) and, where there is one, the row. */
export interface ExpectedRejection {
  readonly error: typeof PrefInputError | typeof PrefParamError | typeof PrefBackendError;
  /** `PrefInputError.input` / `PrefParamError.param`; omitted for backend errors. */
  readonly name?: string;
  readonly row?: number;
  /** Text the message contains. */
  readonly message?: RegExp;
}

/** One class of bad (or awkward but valid) input, made from a valid batch of an objective. */
export interface BadInputCase {
  readonly name: string;
  /** The call to make, or null when the class does not apply to this objective. */
  readonly build: (base: BaseCall, precision: 32 | 64) => BadCall | null;
}

interface BaseCall {
  readonly objective: AnyObjective;
  readonly batch: Batch;
  readonly params: Params;
  /** The first sequence input given as log-probs, and its mask. */
  readonly logps: string;
  readonly mask: string;
  readonly rows: number;
}

interface BadCall {
  readonly batch: unknown;
  readonly params?: unknown;
  readonly options?: (backend: PrefBackend) => unknown;
  /** A rejection, or `accepted`: the call must succeed with a finite loss and finite gradients. */
  readonly expect: ExpectedRejection | 'accepted';
}

const clone = (value: unknown): unknown => (Array.isArray(value) ? value.map(clone) : value);
const withInput = (base: BaseCall, name: string, value: unknown): Batch => ({ ...base.batch, [name]: value });
const edited = (base: BaseCall, name: string, edit: (rows: number[][]) => void): Batch => {
  const rows = clone(base.batch[name]) as number[][];
  edit(rows);
  return withInput(base, name, rows);
};
const lastRow = (base: BaseCall) => base.rows - 1;
/** The first counted position of a row of the base mask. */
const countedAt = (base: BaseCall, row: number) => (base.batch[base.mask] as number[][])[row].indexOf(1);
const rowsInputs = (o: AnyObjective, batch: Batch) =>
  Object.values(o.inputs as Record<string, InputSpec>).filter(
    (s): s is Extract<InputSpec, { kind: 'rows' }> => s.kind === 'rows' && batch[s.name] !== undefined,
  );
const firstNumberParam = (o: AnyObjective) =>
  Object.entries(o.params as Record<string, { kind: string; default: unknown }>).find(
    ([, spec]) => spec.kind === 'number' && spec.default !== null,
  )?.[0];
const input = (name: string, row?: number, message?: RegExp): ExpectedRejection => ({ error: PrefInputError, name, row, message });

/** The classes of bad input of issue 15, each with the typed error it must give. */
export const BAD_INPUT_CASES: readonly BadInputCase[] = [
  {
    name: 'empty batch ({ data: [], shape: [0, ...] })',
    build: (b) => ({
      batch: Object.fromEntries(
        Object.entries(b.batch).map(([k, v]) => {
          const inner = Array.isArray(v) && Array.isArray(v[0]) ? [0, ...shapeOf(v[0])] : [0];
          return [k, { data: [], shape: inner }];
        }),
      ),
      expect: { error: PrefInputError, message: /empty/ },
    }),
  },
  {
    name: 'NaN log-prob at a counted position of the last row',
    build: (b) => ({
      batch: edited(b, b.logps, (r) => {
        r[lastRow(b)][countedAt(b, lastRow(b))] = NaN;
      }),
      expect: input(b.logps, lastRow(b), /NaN/),
    }),
  },
  {
    name: '+Infinity log-prob',
    build: (b) => ({
      batch: edited(b, b.logps, (r) => {
        r[lastRow(b)][countedAt(b, lastRow(b))] = Infinity;
      }),
      expect: input(b.logps, lastRow(b), /Infinity/),
    }),
  },
  {
    name: "log-prob outside the backend precision's range (finite in float64)",
    build: (b, precision) => ({
      batch: edited(b, b.logps, (r) => {
        r[lastRow(b)][countedAt(b, lastRow(b))] = -MAX_INPUT_MAGNITUDE[precision] * 10;
      }),
      expect: input(b.logps, lastRow(b), /outside/),
    }),
  },
  {
    name: 'log-prob above 0',
    build: (b) => ({
      batch: edited(b, b.logps, (r) => {
        r[lastRow(b)][countedAt(b, lastRow(b))] = 0.5;
      }),
      expect: input(b.logps, lastRow(b), /above 0/),
    }),
  },
  {
    name: 'mask value 2',
    build: (b) => ({
      batch: edited(b, b.mask, (r) => {
        r[lastRow(b)][0] = 2;
      }),
      expect: input(b.mask, lastRow(b), /0 or 1/),
    }),
  },
  {
    name: 'empty completion (mask row of zeros)',
    build: (b) => ({
      batch: edited(b, b.mask, (r) => {
        r[lastRow(b)].fill(0);
      }),
      expect: input(b.mask, lastRow(b), /empty/),
    }),
  },
  {
    name: 'ragged mask (row 0 short)',
    build: (b) => ({
      batch: edited(b, b.mask, (r) => {
        r[0].pop();
      }),
      expect: input(b.mask, 0, /ragged/),
    }),
  },
  {
    name: 'log-probs and mask of different shapes',
    build: (b) => ({
      batch: edited(b, b.logps, (r) => {
        for (const row of r) row.push(-1);
      }),
      expect: input(b.logps, undefined, /shape/),
    }),
  },
  { name: 'missing mask', build: (b) => ({ batch: withInput(b, b.mask, undefined), expect: input(b.mask, undefined, /missing/) }) },
  {
    name: 'misspelled input name',
    build: (b) => ({ batch: withInput(b, `${b.logps}s`, b.batch[b.logps]), expect: input(`${b.logps}s`, undefined, /unknown input/) }),
  },
  {
    name: 'rows given as Float64Array (accepted)',
    build: (b) => ({
      batch: withInput(
        b,
        b.logps,
        (b.batch[b.logps] as number[][]).map((r) => Float64Array.from(r)),
      ),
      expect: 'accepted',
    }),
  },
  {
    name: 'negative dims',
    build: (b) => ({
      batch: withInput(b, b.mask, { data: [], shape: [-1, 2] }),
      expect: input(b.mask, undefined, /non-negative integers/),
    }),
  },
  {
    name: 'fractional dims',
    build: (b) => ({
      batch: withInput(b, b.mask, { data: [1, 1, 1], shape: [1.5, 2] }),
      expect: input(b.mask, undefined, /non-negative integers/),
    }),
  },
  {
    name: 'a string among the values',
    build: (b) => ({
      batch: edited(b, b.logps, (r) => {
        (r[lastRow(b)] as unknown[])[0] = '-1';
      }),
      expect: input(b.logps, lastRow(b), /not a number/),
    }),
  },
  {
    name: 'rows input one row short',
    build: (b) => {
      const spec = rowsInputs(b.objective, b.batch)[0];
      return spec
        ? { batch: withInput(b, spec.name, (b.batch[spec.name] as number[]).slice(1)), expect: input(spec.name, undefined, /rows/) }
        : null;
    },
  },
  {
    name: 'NaN in a rows input',
    build: (b) => {
      const spec = rowsInputs(b.objective, b.batch)[0];
      if (!spec) return null;
      const values = [...(b.batch[spec.name] as number[])];
      values[lastRow(b)] = NaN;
      return { batch: withInput(b, spec.name, values), expect: input(spec.name, lastRow(b), /NaN/) };
    },
  },
  {
    name: 'summed log-prob above 0 in a rows input that holds log-probs',
    build: (b) => {
      const spec = rowsInputs(b.objective, b.batch).find((s) => s.logProbs);
      if (!spec) return null;
      const values = [...(b.batch[spec.name] as number[])];
      values[lastRow(b)] = 5;
      return { batch: withInput(b, spec.name, values), expect: input(spec.name, lastRow(b), /above 0/) };
    },
  },
  {
    name: 'binary rows input holding 2',
    build: (b) => {
      const spec = rowsInputs(b.objective, b.batch).find((s) => s.values === 'binary');
      if (!spec) return null;
      const values = [...(b.batch[spec.name] as number[])];
      values[lastRow(b)] = 2;
      return { batch: withInput(b, spec.name, values), expect: input(spec.name, lastRow(b), /0 or 1/) };
    },
  },
  ...[NaN, Infinity].map((value): BadInputCase => ({
    name: `${value} as a parameter`,
    build: (b) => {
      const param = firstNumberParam(b.objective);
      return param
        ? {
            batch: b.batch,
            params: { ...b.params, [param]: value },
            expect: { error: PrefParamError, name: param, message: new RegExp(`got ${value}`) },
          }
        : null;
    },
  })),
  {
    name: 'misspelled parameter',
    build: (b) => ({
      batch: b.batch,
      params: { ...b.params, betta: 0.1 },
      expect: { error: PrefParamError, name: 'betta', message: /unknown parameter/ },
    }),
  },
  { name: 'params = null', build: (b) => ({ batch: b.batch, params: null, expect: { error: PrefParamError, name: 'params' } }) },
  { name: 'batch = null', build: () => ({ batch: null, expect: input('batch') }) },
  {
    name: 'no backend',
    build: (b) => ({ batch: b.batch, options: () => ({}), expect: { error: PrefBackendError, message: /options.backend/ } }),
  },
  {
    name: 'state with an unknown key (or any state for a stateless objective)',
    build: (b) => ({
      batch: b.batch,
      options: (backend) => ({ backend, state: { mean: 0, std: 1, steps: 1, extra: 1 } }),
      expect: input(b.objective.stateful ? 'state.extra' : 'state'),
    }),
  },
  {
    name: 'state with std −0 (stateful objectives)',
    build: (b) =>
      b.objective.stateSchema?.std
        ? {
            batch: b.batch,
            options: (backend) => ({ backend, state: { mean: 0, std: -0, steps: 1 } }),
            expect: input('state.std', undefined, /-0/),
          }
        : null,
  },
  {
    name: 'state with steps 1e20 (stateful objectives)',
    build: (b) =>
      b.objective.stateSchema?.steps
        ? { batch: b.batch, options: (backend) => ({ backend, state: { mean: 0, std: 1, steps: 1e20 } }), expect: input('state.steps') }
        : null,
  },
];

function shapeOf(value: unknown): number[] {
  const shape: number[] = [];
  for (let v = value; Array.isArray(v); v = v[0]) shape.push(v.length);
  return shape;
}

/** A valid call per objective: its first conformance case whose completions are given as log-probs. */
function baseCalls(objectives: Readonly<Record<string, AnyObjective>>): BaseCall[] {
  const calls: BaseCall[] = [];
  for (const objective of Object.values(objectives)) {
    for (const testCase of loadConformanceCases()) {
      if (testCase.objective !== objective.id || 'error' in testCase.expected || testCase.state) continue;
      const batch = testCase.inputs as Batch;
      const sequence = Object.values(objective.inputs as Record<string, InputSpec>).find((s) => s.kind === 'sequence');
      if (!sequence || sequence.kind !== 'sequence') continue;
      const logps = sequenceInputName(sequence.prefix, 'Logps');
      const mask = sequenceInputName(sequence.prefix, 'Mask');
      const rows = (batch[mask] as unknown[] | undefined)?.length ?? 0;
      if (!Array.isArray(batch[logps]) || rows < 2) continue;
      calls.push({ objective, batch, params: (testCase.params ?? {}) as Params, logps, mask, rows });
      break;
    }
  }
  return calls;
}

async function outcome(call: BadCall, base: BaseCall, backend: PrefBackend): Promise<unknown> {
  const options = call.options ? call.options(backend) : { backend };
  const params = 'params' in call ? call.params : base.params;
  try {
    return await valueAndGrad(base.objective, call.batch as Batch, params as never, options as never);
  } catch (error) {
    return error;
  }
}

function checkRejection(error: unknown, expected: ExpectedRejection, label: string): void {
  expect(
    error,
    `${label}: expected ${expected.error.name}, got ${error instanceof Error ? `${error.name}: ${error.message}` : 'a result'}`,
  ).toBeInstanceOf(expected.error);
  expect(error).toBeInstanceOf(PrefError);
  const e = error as PrefInputError & PrefParamError;
  if (expected.name !== undefined) {
    expect(expected.error === PrefParamError ? e.param : e.input, `${label}: ${e.message}`).toBe(expected.name);
    expect(e.message).toContain(expected.name.replace(/^state\./, ''));
  }
  if (expected.row !== undefined) expect(e.row, `${label}: ${e.message}`).toBe(expected.row);
  if (expected.message) expect(e.message).toMatch(expected.message);
}

function checkAccepted(result: unknown, label: string): void {
  expect(result, `${label}: ${result instanceof Error ? result.message : ''}`).not.toBeInstanceOf(Error);
  const { loss, grads } = result as { loss: number; grads: Record<string, { data: ArrayLike<number> }> };
  expect(Number.isFinite(loss), `${label}: loss ${loss}`).toBe(true);
  for (const [name, grad] of Object.entries(grads)) {
    expect(Array.from(grad.data).every(Number.isFinite), `${label}: non-finite gradient of ${name}`).toBe(true);
  }
}

/**
 * Every class of `BAD_INPUT_CASES` for every installed objective on one backend: each must give
 * the typed error naming the input (or parameter, state field) and row, or, for the valid
 * classes, a finite result. A backend that cannot start is reported as skipped with the reason.
 */
export function describeBadInputBattery(backendUnderTest: BackendUnderTest): void {
  describe(`bad-input battery on ${backendUnderTest.name}`, async () => {
    const created = await backendUnderTest.create().catch((error: Error) => ({ unavailable: error.message }));
    if ('unavailable' in created) {
      it.skip(`skipped: ${backendUnderTest.name} unavailable: ${created.unavailable}`, () => {});
      return;
    }
    const backend = created;
    const precision = backend.capabilities.precision;
    const { objectives, missing } = await installedObjectives();
    for (const name of missing) it.skip(`${name} (skipped: package not installed)`, () => {});
    for (const base of baseCalls(objectives)) {
      for (const badCase of BAD_INPUT_CASES) {
        const call = badCase.build(base, precision);
        if (!call) continue;
        const label = `${base.objective.id}: ${badCase.name}`;
        it(label, async () => {
          const result = await outcome(call, base, backend);
          if (call.expect === 'accepted') checkAccepted(result, label);
          else checkRejection(result, call.expect, label);
        });
      }
    }
  });
}
