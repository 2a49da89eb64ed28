/**
 * Compile-time behaviour of typed objectives, checked by `tsc` (see `objective-types.test.ts`):
 * every `@ts-expect-error` line must be an error, and every other line must compile.
 */
import {
  defineObjective,
  defineParams,
  PAIRWISE_INPUTS,
  valueAndGrad,
  type AnyObjective,
  type ObjectiveParams,
  type ParamsOf,
  type PrefBackend,
} from '../../src';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const expectType = <T extends true>(value: T): T => value;

const TOY_PARAMS = defineParams({
  beta: { kind: 'number', default: 0.1, min: 0, minExclusive: true, description: 'Scale.' },
  ldAlpha: { kind: 'number', default: null, min: 0, max: 1, description: 'Derived when null.' },
  lossType: { kind: 'enum', values: ['sigmoid', 'hinge'], default: 'sigmoid', description: 'Loss.' },
  terms: { kind: 'enumList', values: ['nll', 'kl'], default: 'nll', description: 'Terms.' },
  weights: { kind: 'numberList', default: null, description: 'Weights.' },
  referenceFree: { kind: 'boolean', default: false, description: 'No reference.' },
});

// The parameter type is derived from the schema, literal unions included.
expectType<
  Equal<
    ParamsOf<typeof TOY_PARAMS>,
    {
      beta: number;
      ldAlpha: number | null;
      lossType: 'sigmoid' | 'hinge';
      terms: 'nll' | 'kl' | readonly ('nll' | 'kl')[];
      weights: readonly number[] | null;
      referenceFree: boolean;
    }
  >
>(true);

const toy = defineObjective({
  id: 'toy',
  title: 'Toy',
  summary: 'A margin loss for type tests.',
  reference: 'none',
  inputs: PAIRWISE_INPUTS,
  params: TOY_PARAMS,
  presets: {
    strong: { description: 'Large β.', values: { beta: 1, lossType: 'hinge' } },
  },
  metrics: [],
  stateful: false,
  forward(ctx, inputs, params) {
    expectType<Equal<typeof params.lossType, 'sigmoid' | 'hinge'>>(true);
    // @ts-expect-error forward's params have no `lamda`
    void params.lamda;
    const margin = ctx.ops.sub(ctx.ops.sum(inputs.chosen.logps, 1), ctx.ops.sum(inputs.rejected.logps, 1));
    return { loss: ctx.batchMean(ctx.ops.softplus(ctx.ops.mul(margin, -params.beta))), metrics: {} };
  },
});
expectType<Equal<ObjectiveParams<typeof toy>, ParamsOf<typeof TOY_PARAMS>>>(true);

// An inline schema is typed the same way (defineObjective keeps its literal types).
const inline = defineObjective({
  id: 'inline',
  title: 'Inline',
  summary: 'Inline schema.',
  reference: 'none',
  inputs: PAIRWISE_INPUTS,
  params: { mode: { kind: 'enum', values: ['a', 'b'], default: 'a', description: 'Mode.' } },
  presets: {},
  metrics: [],
  stateful: false,
  forward(ctx, inputs, params) {
    expectType<Equal<typeof params.mode, 'a' | 'b'>>(true);
    return { loss: ctx.ops.sum(inputs.chosen.logps), metrics: {} };
  },
});

defineObjective({
  id: 'bad-preset',
  title: 'Bad preset',
  summary: 'A preset value of the wrong type.',
  reference: 'none',
  inputs: PAIRWISE_INPUTS,
  params: TOY_PARAMS,
  presets: {
    // @ts-expect-error a preset value must have the parameter's type
    wrong: { description: 'β as a string.', values: { beta: '1' } },
  },
  metrics: [],
  stateful: false,
  forward: (ctx, inputs) => ({ loss: ctx.ops.sum(inputs.chosen.logps), metrics: {} }),
});

defineParams({
  // @ts-expect-error an enum's default must be one of its values
  mode: { kind: 'enum', values: ['a', 'b'], default: 'c', description: 'Mode.' },
});

export async function calls(backend: PrefBackend, untyped: AnyObjective): Promise<void> {
  const batch = {};
  await valueAndGrad(toy, batch, {}, { backend });
  await valueAndGrad(toy, batch, { beta: 0.2, lossType: 'hinge', terms: ['nll', 'kl'], weights: [1, 2], ldAlpha: null }, { backend });
  await valueAndGrad(toy, batch, { preset: 'strong', beta: 2 }, { backend });
  // @ts-expect-error misspelled parameter
  await valueAndGrad(toy, batch, { bta: 0.2 }, { backend });
  // @ts-expect-error wrong type
  await valueAndGrad(toy, batch, { beta: '0.2' }, { backend });
  // @ts-expect-error not one of the enum's values
  await valueAndGrad(toy, batch, { lossType: 'hing' }, { backend });
  // @ts-expect-error not one of the enum list's values
  await valueAndGrad(toy, batch, { terms: ['nll', 'kll'] }, { backend });
  // @ts-expect-error unknown preset
  await valueAndGrad(toy, batch, { preset: 'stronk' }, { backend });
  // @ts-expect-error an objective without presets takes no preset
  await valueAndGrad(inline, batch, { preset: 'strong' }, { backend });

  const result = await valueAndGrad(toy, batch, {}, { backend });
  void result.grads.chosenLogps.data;
  void result.grads.rejectedLogits.shape;
  // @ts-expect-error the grads keys come from the inputs: there is no `chosenLogp`
  void result.grads.chosenLogp;
  // @ts-expect-error nor a `referenceLogps`
  void result.grads.referenceLogps;

  // The gradients option's keys are the same names.
  await valueAndGrad(toy, batch, {}, { backend, gradients: { chosenLogps: new Float32Array(4), rejectedLogits: new Float64Array(8) } });
  // @ts-expect-error a gradient buffer for an input that has none
  await valueAndGrad(toy, batch, {}, { backend, gradients: { chosenLogp: new Float32Array(4) } });
  // @ts-expect-error a gradient buffer must be a Float32Array or Float64Array
  await valueAndGrad(toy, batch, {}, { backend, gradients: { chosenLogps: [0, 0] } });

  // Registries and the CLI hold objectives of unknown type: any parameters and keys are accepted.
  const loose = await valueAndGrad(untyped, batch, { anything: 1, preset: 'any' }, { backend });
  void loose.grads['whatever'];
}
