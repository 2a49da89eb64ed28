import type { InputSchema, ObjectiveInputs } from './objective-inputs';
import type { ParamSchema, ParamValues, Preset } from './objective-params';
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
  readonly presets: Readonly<Record<string, Preset<P>>>;
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
export type AnyObjective = Objective<any, any, any>;

/** Identity helper that infers an objective's types from its definition. */
export function defineObjective<P extends ParamValues, I extends InputSchema, S extends ObjectiveState = ObjectiveState>(
  objective: Objective<P, I, S>,
): Objective<P, I, S> {
  return objective;
}
