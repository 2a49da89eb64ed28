import fc from 'fast-check';
import { toHostTensor, type ConformanceCase, type ConformanceExpected } from '@pref/core';

/** A batch shaped like a conformance case, with random values in its differentiable inputs. */
export interface RandomBatch {
  readonly caseId: string;
  readonly objective: string;
  readonly params: Readonly<Record<string, unknown>>;
  readonly state: ConformanceCase['state'];
  readonly inputs: Record<string, unknown>;
  /** The differentiable inputs (`chosenLogps` or `chosenLogits`, ...). */
  readonly gradNames: readonly string[];
}

const VOCAB = 5;

function reshape(values: readonly number[], shape: readonly number[]): unknown {
  if (shape.length === 0) return values[0];
  const stride = values.length / shape[0];
  return Array.from({ length: shape[0] }, (_, i) => reshape(values.slice(i * stride, (i + 1) * stride), shape.slice(1)));
}

function floats(count: number, min: number, max: number) {
  return fc.array(fc.double({ min, max, noNaN: true, noDefaultInfinity: true }), { minLength: count, maxLength: count });
}

/** The sequence prefix of a log-prob input (`chosenLogps` → `chosen`, `logps` → ``), when its mask is given too. */
function sequencePrefix(name: string, inputs: Readonly<Record<string, unknown>>): string | null {
  if (name === 'logps') return 'mask' in inputs ? '' : null;
  if (!name.endsWith('Logps')) return null;
  const prefix = name.slice(0, -'Logps'.length);
  return `${prefix}Mask` in inputs ? prefix : null;
}

const named = (prefix: string, suffix: string) => (prefix ? `${prefix}${suffix}` : suffix.toLowerCase());

/**
 * Random batches from the structure of `cases` (shapes, masks, other inputs, params, state kept):
 * on the `logps` path the policy log-probs are redrawn in [-8, -0.01]; on the `logits` path each
 * `<prefix>Logps` + mask becomes random logits `[N, T, 5]` in [-4, 4] with random labels at the
 * counted positions and -100 elsewhere.
 */
export function randomBatchArbitrary(cases: readonly ConformanceCase[], path: 'logps' | 'logits') {
  return fc.constantFrom(...cases).chain((testCase) => {
    const gradNames = Object.keys((testCase.expected as ConformanceExpected).grads);
    const draws = gradNames.map((name) => {
      const host = toHostTensor(name, testCase.inputs[name]);
      const prefix = sequencePrefix(name, testCase.inputs);
      if (path === 'logps' || prefix === null) {
        return floats(host.data.length, -8, -0.01).map((values) => ({ [name]: reshape(values, host.shape) }));
      }
      const mask = toHostTensor(named(prefix, 'Mask'), testCase.inputs[named(prefix, 'Mask')]);
      const [rows, steps] = mask.shape;
      return fc
        .tuple(
          floats(rows * steps * VOCAB, -4, 4),
          fc.array(fc.integer({ min: 0, max: VOCAB - 1 }), { minLength: rows * steps, maxLength: rows * steps }),
        )
        .map(([logits, labels]) => ({
          [named(prefix, 'Logits')]: reshape(logits, [rows, steps, VOCAB]),
          [named(prefix, 'Labels')]: reshape(
            labels.map((label, i) => (mask.data[i] ? label : -100)),
            [rows, steps],
          ),
          [name]: undefined,
          [named(prefix, 'Mask')]: undefined,
        }));
    });
    return fc.tuple(...draws).map((parts) => {
      const inputs: Record<string, unknown> = { ...testCase.inputs };
      for (const part of parts) {
        for (const [key, value] of Object.entries(part)) {
          if (value === undefined) delete inputs[key];
          else inputs[key] = value;
        }
      }
      const names = gradNames.map((name) => {
        const prefix = sequencePrefix(name, testCase.inputs);
        return path === 'logits' && prefix !== null ? named(prefix, 'Logits') : name;
      });
      return {
        caseId: testCase.id,
        objective: testCase.objective,
        params: testCase.params,
        state: testCase.state ?? null,
        inputs,
        gradNames: names,
      } satisfies RandomBatch;
    });
  });
}
