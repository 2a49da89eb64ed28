import type { InputSchema, ObjectiveInputs } from './objective-inputs';
import type { ParamSchema, ParamSchemaDefinition, ParamsArgument, ParamsOf, ParamValues, Preset } from './objective-params';
import type { Tensor } from './tensor';
import type { ForwardContext } from './forward-context';
import type { StateSchema } from './objective-state';

/** State an objective carries between calls (e.g. LMPO's running moments): plain numbers, JSON-safe. */
export type ObjectiveState = Readonly<Record<string, number>>;

export interface ForwardResult {
  /** Scalar loss. */
  readonly loss: Tensor;
  /** Scalar metrics, named as in TRL where TRL has the metric. */
  readonly metrics: Readonly<Record<string, Tensor>>;
  /** Per-row losses `[N]`, where the objective has them. */
  readonly perExample?: Tensor;
  /** The next state: scalar tensors or host numbers. */
  readonly state?: Readonly<Record<string, Tensor | number>>;
}

/**
 * An objective is a value: what it reads, its hyperparameters with defaults and ranges, named
 * presets, and a `forward` written once over `TensorOps`. `forward` never reads tensor values
 * (no data-dependent host control flow), so it runs on eager and lazy backends alike, and
 * batch-global statistics go through `ctx.allReduceSum` so data-parallel workers agree.
 */
export interface Objective<
  P extends ParamValues = ParamValues,
  I extends InputSchema = InputSchema,
  S extends ObjectiveState = ObjectiveState,
  /** Names of the presets. */
  K extends string = string,
> {
  readonly id: string;
  /** Display name, e.g. `SimPO`. */
  readonly title: string;
  /** One sentence on what it optimizes. */
  readonly summary: string;
  /** The paper (and equation) it implements. */
  readonly reference: string;
  readonly inputs: I;
  readonly params: ParamSchema<P>;
  readonly presets: Readonly<Record<K, Preset<P>>>;
  /** Names of the metrics `forward` returns. */
  readonly metrics: readonly string[];
  /** Whether it carries state between calls (pass `result.state` back in). */
  readonly stateful: boolean;
  /** The fields of the state (stateful objectives): checked before `forward` runs. */
  readonly stateSchema?: StateSchema;
  /** Checks that span several parameters; throw `PrefParamError`. */
  validateParams?(params: P): void;
  forward(ctx: ForwardContext, inputs: ObjectiveInputs<I>, params: P, state: S | null): ForwardResult;
}

/** An objective of any parameter, input and state types (for registries and the CLI). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyObjective = Objective<any, any, any, any>;

/** An objective as written: its parameter schema `PS` (literal types) stands for its parameter type. */
export type ObjectiveDefinition<PS extends ParamSchemaDefinition, I extends InputSchema, S extends ObjectiveState, K extends string> = Omit<
  Objective<ParamsOf<PS>, I, S, K>,
  'params'
> & { readonly params: PS };

/**
 * Identity helper that infers an objective's types from its definition: the parameter type
 * from the schema (written once, its literal types kept), the preset names from `presets`,
 * the inputs from `inputs`. `valueAndGrad` reads them back, so a misspelled or mistyped
 * parameter or an unknown preset is a compile error.
 */
export function defineObjective<
  const PS extends ParamSchemaDefinition,
  I extends InputSchema,
  S extends ObjectiveState = ObjectiveState,
  K extends string = never,
>(objective: ObjectiveDefinition<PS, I, S, K>): Objective<ParamsOf<PS>, I, S, K> {
  return objective as Objective<ParamsOf<PS>, I, S, K>;
}

/* eslint-disable @typescript-eslint/no-explicit-any */
/** The resolved parameter type of an objective (`SimpoParams` for `simpo`). */
export type ObjectiveParams<O extends AnyObjective> = O extends Objective<infer P, any, any, any> ? P : never;
/** The preset names of an objective. */
export type ObjectivePresetName<O extends AnyObjective> = O extends Objective<any, any, any, infer K> ? K : never;
/** The state an objective carries between calls. */
export type ObjectiveStateOf<O extends AnyObjective> = O extends Objective<any, any, infer S, any> ? S : never;
/** What `valueAndGrad` accepts as the parameters of `O`: a subset of them and a preset name. */
export type ObjectiveArgs<O extends AnyObjective> = [O] extends [never]
  ? Readonly<Record<string, unknown>>
  : ParamsArgument<ObjectiveParams<O>, ObjectivePresetName<O>>;

type SequenceGradName<Prefix extends string> =
  | (Prefix extends '' ? 'logps' | 'logits' | 'hidden' : `${Prefix}Logps` | `${Prefix}Logits` | `${Prefix}Hidden`)
  /** The hidden-state path's LM head (`lmHead` in the batch). */
  | 'lmHead.weight'
  | 'lmHead.bias';
/** Names of the differentiable inputs of an input schema (`chosenLogps` | `chosenLogits` | ...). */
export type GradientNames<I> = string extends keyof I
  ? string
  : {
      [K in keyof I]: I[K] extends { readonly kind: 'sequence'; readonly prefix: infer Prefix extends string }
        ? SequenceGradName<Prefix>
        : never;
    }[keyof I];
/** The keys of `grads` that `valueAndGrad` may return for `O`. */
export type ObjectiveGradientNames<O extends AnyObjective> = [O] extends [never]
  ? string
  : O extends Objective<any, infer I, any, any>
    ? GradientNames<I>
    : string;
/* eslint-enable @typescript-eslint/no-explicit-any */
