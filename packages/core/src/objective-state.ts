import { PrefInputError } from './pref-error';
import { formatValue } from './host-tensor';

/** One field of a stateful objective's state (e.g. LMPO's running `std`). */
export interface StateFieldSpec {
  readonly description: string;
  /** Smallest allowed value (inclusive); `-0` is refused where `min` is 0. */
  readonly min?: number;
  /** A count: a non-negative integer below 2^53 (so `steps + 1` still changes it). */
  readonly integer?: boolean;
}

export type StateSchema = Readonly<Record<string, StateFieldSpec>>;

/**
 * Checks the state a caller passes back: none for a stateless objective; for a stateful one,
 * exactly the fields of `schema`, each a finite number in range. Errors are `PrefInputError`s
 * naming `state.<field>`.
 */
export function checkObjectiveState(
  objective: { readonly id: string; readonly stateful: boolean; readonly stateSchema?: StateSchema },
  state: unknown,
): void {
  if (state === undefined || state === null) return;
  const id = objective.id;
  if (!objective.stateful) {
    throw new PrefInputError('state', `${id} is stateless: it takes no state, got ${formatValue(state)}; leave state out`);
  }
  if (typeof state !== 'object' || Array.isArray(state)) {
    throw new PrefInputError('state', `${id}: state must be the object a previous call returned, got ${formatValue(state)}`);
  }
  const schema = objective.stateSchema;
  if (!schema) return;
  const record = state as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (!(key in schema)) {
      throw new PrefInputError(
        `state.${key}`,
        `${id}: unknown state field ${key}; the state holds ${Object.keys(schema).join(', ')} (pass back the state a previous call returned)`,
      );
    }
  }
  for (const [key, spec] of Object.entries(schema)) {
    const value = record[key];
    const fail = (why: string): never => {
      throw new PrefInputError(
        `state.${key}`,
        `${id}: state.${key} ${why}, got ${formatValue(value)} (pass back the state a previous call returned)`,
      );
    };
    if (typeof value !== 'number' || !Number.isFinite(value)) fail('must be a finite number');
    const v = value as number;
    if (spec.min !== undefined && (v < spec.min || (spec.min === 0 && Object.is(v, -0)))) fail(`must be ≥ ${spec.min}`);
    if (spec.integer && (!Number.isInteger(v) || v < 0 || v > Number.MAX_SAFE_INTEGER)) fail(`must be an integer in [0, 2^53)`);
  }
}
