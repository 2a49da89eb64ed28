import { describe, expect, it } from 'vitest';
import { createReferenceBackend } from '@pref/adapter-reference';
import { valueAndGrad, type ValueAndGradResult } from '@pref/core';
import { float32ErrorBound, float32Excess, installedObjectives, loadConformanceCases } from '../src';

const { objectives } = await installedObjectives();
const float32 = createReferenceBackend({ precision: 32 });
const cases = loadConformanceCases().filter((c) => objectives[c.objective] && !('error' in c.expected));
const accuracies = (name: string) => name.endsWith('accuracies');

/** The bound of the first gradient element, relative to the element. */
const relativeBound = (bound: Awaited<ReturnType<typeof float32ErrorBound>>, name: string, i = 0) =>
  bound.grads[name][i] / Math.abs(bound.oracle.grads[name].data[i]);

describe('float32ErrorBound: a per-batch float32 tolerance derived from a model of float32 arithmetic', () => {
  it('holds the float32 reference backend (round to nearest, an independent float32 evaluation) on every conformance case', async () => {
    expect(cases.length).toBeGreaterThan(50);
    let worst = 0;
    for (const testCase of cases) {
      const objective = objectives[testCase.objective];
      const options = { state: testCase.state ?? undefined };
      const [actual, bound] = await Promise.all([
        valueAndGrad(objective, testCase.inputs as never, testCase.params as never, { backend: float32, ...options } as never),
        float32ErrorBound(objective, testCase.inputs as never, testCase.params, options),
      ]);
      const excess = float32Excess(actual as ValueAndGradResult, bound, accuracies);
      expect(excess.worst, `${testCase.id}: ${excess.where}`).toBeLessThanOrEqual(1);
      worst = Math.max(worst, excess.worst);
    }
    // Not vacuous: some case uses a good part of its bound.
    expect(worst).toBeGreaterThan(0.05);
  });

  it('catches an error of 1e-5 relative in one gradient element, which the old fixed tolerance (1e-4) let through', async () => {
    const testCase = cases.find((c) => c.objective === 'simpo')!;
    const bound = await float32ErrorBound(objectives.simpo, testCase.inputs as never, testCase.params);
    const exact = bound.oracle;
    const name = Object.keys(exact.grads)[0];
    const data = Float64Array.from(exact.grads[name].data);
    data[0] *= 1 + 1e-5;
    const perturbed = { ...exact, grads: { ...exact.grads, [name]: { ...exact.grads[name], data } } } as ValueAndGradResult;
    expect(float32Excess(exact, bound).worst).toBe(0);
    expect(float32Excess(perturbed, bound)).toEqual({ worst: expect.toSatisfy((w: number) => w > 1), where: `grads.${name}[0]` });
  });

  it('grows where a z-score divides by a small spread (LMPO, nearly equal margins)', async () => {
    const batch = (spread: number) => ({
      chosenLogps: [[-1], [-1 - spread], [-1 + spread], [-1.5]],
      chosenMask: [[1], [1], [1], [1]],
      rejectedLogps: [[-2], [-2], [-2], [-2.5]],
      rejectedMask: [[1], [1], [1], [1]],
    });
    const wide = await float32ErrorBound(objectives.lmpo, batch(0.5), {});
    const narrow = await float32ErrorBound(
      objectives.lmpo,
      { ...batch(0), chosenLogps: [[-1], [-1 - 1e-4], [-1 + 1e-4], [-1 - 2e-4]] },
      {},
    );
    expect(relativeBound(narrow, 'chosenLogps')).toBeGreaterThan(100 * relativeBound(wide, 'chosenLogps'));
  });

  it('grows with the log-ratio of an importance ratio (GRPO, exp(logp − oldLogp) of large log-probs)', async () => {
    const batch = (scale: number) => ({
      logps: [
        [-0.5 * scale, -0.25 * scale],
        [-0.4 * scale, -0.3 * scale],
      ],
      oldLogps: [
        [-0.5 * scale - 0.1, -0.25 * scale + 0.05],
        [-0.4 * scale + 0.02, -0.3 * scale - 0.03],
      ],
      mask: [
        [1, 1],
        [1, 1],
      ],
      rewards: [1, 0],
    });
    const params = { groupSize: 2 };
    const small = await float32ErrorBound(objectives.grpo, batch(1), params);
    const large = await float32ErrorBound(objectives.grpo, batch(400), params);
    expect(relativeBound(large, 'logps')).toBeGreaterThan(20 * relativeBound(small, 'logps'));
  });
});
