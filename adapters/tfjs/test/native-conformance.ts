import { compareValues, toleranceFor, type AnyObjective, type ConformanceCase, type ConformanceExpected } from '@pref/core';
import type { Tensor as TfTensor } from '@tensorflow/tfjs-core';
import { EARLIER_DEFAULTS, SUPERSEDED_METRICS } from '@pref/testing';
import { tfjsLoss, type TfjsBackend } from '../src';

export interface NativeOutcome {
  readonly status: 'passed' | 'failed';
  readonly reason: string;
}

/**
 * One conformance case through the native path: the differentiable inputs become `tf.Variable`s,
 * the loss is `tfjsLoss(...).loss`, and its gradients come from `tf.variableGrads` (tfjs's tape).
 * Also fails when the case leaves tensors behind.
 */
export async function runNativeCase(testCase: ConformanceCase, backend: TfjsBackend, objective: AnyObjective): Promise<NativeOutcome> {
  const tf = backend.tf;
  // Cases whose objective's defaults changed since they were written run with the earlier ones, as in describeConformance.
  const params = { ...testCase.params, ...EARLIER_DEFAULTS[testCase.id] };
  const before = tf.memory().numTensors;
  const expected = testCase.expected;
  if ('error' in expected) {
    try {
      const result = tfjsLoss(objective, testCase.inputs, params, { backend, state: testCase.state ?? null });
      tf.dispose([result.loss, ...Object.values(result.metrics)]);
      await result.state;
      return { status: 'failed', reason: `expected an error containing "${expected.error}", got a loss` };
    } catch (error) {
      const message = (error as Error).message;
      const ok = message.toLowerCase().includes(expected.error.toLowerCase());
      return ok
        ? { status: 'passed', reason: '' }
        : { status: 'failed', reason: `expected an error containing "${expected.error}", got: ${message}` };
    }
  }
  const want = expected as ConformanceExpected;
  const gradNames = Object.keys(want.grads);
  const variables = gradNames.map((name) => {
    const initial = tf.tensor(testCase.inputs[name] as number[], undefined, 'float32');
    const variable = tf.variable(initial, true, undefined, 'float32');
    initial.dispose();
    return variable;
  });
  const batch = { ...testCase.inputs, ...Object.fromEntries(gradNames.map((name, i) => [name, variables[i]])) };
  let kept: { metrics: Record<string, TfTensor>; state: Promise<Record<string, number> | null> } = {
    metrics: {},
    state: Promise.resolve(null),
  };
  const problems: string[] = [];
  try {
    const { value, grads } = tf.variableGrads(() => {
      const result = tfjsLoss(objective, batch, params, { backend, state: testCase.state ?? null });
      kept = { metrics: Object.fromEntries(Object.entries(result.metrics).map(([k, t]) => [k, tf.keep(t)])), state: result.state };
      return result.loss;
    }, variables);
    const tolerance = toleranceFor(32);
    const check = (path: string, actual: unknown, target: unknown) => {
      const problem = actual === undefined ? `${path}: missing` : compareValues(path, actual, target, tolerance);
      if (problem) problems.push(problem);
    };
    const read = async (t: TfTensor | undefined) => (t ? Array.from(await t.data()) : undefined);
    check('loss', (await read(value))![0], want.loss);
    for (const [i, name] of gradNames.entries()) {
      const actual = (await read(grads[variables[i].name])) ?? new Array<number>(variables[i].size).fill(0);
      check(`grads.${name}`, actual, want.grads[name]);
    }
    // Metrics whose definition changed since the case was written are left out, as in describeConformance.
    const superseded = new Set(SUPERSEDED_METRICS[testCase.id] ?? []);
    for (const [name, target] of Object.entries(want.metrics).filter(([metric]) => !superseded.has(metric)))
      check(`metrics.${name}`, (await read(kept.metrics[name]))?.[0], target);
    const state = await kept.state;
    for (const [name, target] of Object.entries(want.state ?? {})) check(`state.${name}`, state?.[name], target);
    tf.dispose([value, ...Object.values(grads)]);
  } catch (error) {
    problems.push(`unexpected error: ${(error as Error).message}`);
  } finally {
    tf.dispose([...variables, ...Object.values(kept.metrics)]);
    await kept.state.catch(() => null);
  }
  const leaked = tf.memory().numTensors - before;
  if (leaked !== 0) problems.push(`${leaked} tensors left behind`);
  return problems.length ? { status: 'failed', reason: problems.join('; ') } : { status: 'passed', reason: '' };
}
