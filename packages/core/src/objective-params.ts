import { PrefParamError } from './pref-error';
import { formatValue } from './host-tensor';
import { didYouMean } from './closest-name';

/** One hyperparameter's schema: its type, default, valid range and documentation. */
export type ParamSpec =
  | NumberParamSpec
  | { readonly kind: 'boolean'; readonly default: boolean; readonly description: string; readonly symbol?: string }
  | {
      readonly kind: 'enum';
      readonly values: readonly string[];
      readonly default: string;
      readonly description: string;
      readonly symbol?: string;
    }
  | {
      /** One value of `values` or a list of them (e.g. DPO's `lossType: ["sigmoid", "sft"]`). */
      readonly kind: 'enumList';
      readonly values: readonly string[];
      readonly default: string;
      readonly description: string;
      readonly symbol?: string;
    }
  | {
      readonly kind: 'numberList';
      readonly default: null;
      readonly description: string;
      readonly symbol?: string;
    };

export interface NumberParamSpec {
  readonly kind: 'number';
  /** `null`: derived from other parameters when not given (documented in `description`). */
  readonly default: number | null;
  readonly description: string;
  readonly symbol?: string;
  readonly min?: number;
  readonly max?: number;
  readonly minExclusive?: boolean;
  readonly maxExclusive?: boolean;
  readonly integer?: boolean;
}

export type ParamValue = number | boolean | string | readonly string[] | readonly number[] | null;
export type ParamValues = Record<string, ParamValue>;
export type ParamSchema<P extends ParamValues> = { readonly [K in keyof P]: ParamSpec };

export interface Preset<P extends ParamValues> {
  readonly description: string;
  readonly values: Partial<P>;
}

/** Human-readable valid range of a number parameter, e.g. `[0, 0.5)`. */
export function describeRange(spec: NumberParamSpec): string {
  const lo = spec.min === undefined ? '(-∞' : `${spec.minExclusive ? '(' : '['}${spec.min}`;
  const hi = spec.max === undefined ? '∞)' : `${spec.max}${spec.maxExclusive ? ')' : ']'}`;
  return `${lo}, ${hi}${spec.integer ? ', integer' : ''}`;
}

/**
 * Merges defaults, the named preset and explicit values (explicit wins), and checks each
 * value against its schema. Unknown names and out-of-range values throw `PrefParamError`
 * naming the parameter.
 */
export function resolveParams<P extends ParamValues>(
  objectiveId: string,
  schema: ParamSchema<P>,
  presets: Readonly<Record<string, Preset<P>>>,
  given: Readonly<Record<string, unknown>> = {},
): P {
  if (given === null || typeof given !== 'object' || Array.isArray(given)) {
    throw new PrefParamError('params', `${objectiveId}: params must be an object of named parameters (use {} for the defaults), got ${given === null ? 'null' : Array.isArray(given) ? 'a list' : typeof given}`);
  }
  const { preset, ...explicit } = given;
  const values: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(schema) as [string, ParamSpec][]) values[name] = spec.default;
  if (preset !== undefined && preset !== null) {
    if (typeof preset !== 'string' || !(preset in presets)) {
      throw new PrefParamError(
        'preset',
        `${objectiveId}: unknown preset ${formatValue(preset)}; known presets: ${Object.keys(presets).join(', ') || 'none'}`,
      );
    }
    Object.assign(values, presets[preset].values);
  }
  for (const [name, value] of Object.entries(explicit)) {
    if (!(name in schema)) {
      throw new PrefParamError(
        name,
        `${objectiveId}: unknown parameter ${name}; known parameters: ${Object.keys(schema).join(', ')}${didYouMean(name, Object.keys(schema)).replace(' (', '; ').replace(')', '')}`,
      );
    }
    values[name] = value;
  }
  for (const [name, spec] of Object.entries(schema) as [string, ParamSpec][]) {
    checkParam(objectiveId, name, spec, values[name]);
  }
  return values as P;
}

function checkParam(objectiveId: string, name: string, spec: ParamSpec, value: unknown): void {
  const fail = (why: string): never => {
    throw new PrefParamError(name, `${objectiveId}: parameter ${name} ${why}, got ${formatValue(value)}`);
  };
  switch (spec.kind) {
    case 'number': {
      if (value === null && spec.default === null) return;
      if (typeof value !== 'number' || !Number.isFinite(value)) fail('must be a finite number');
      const v = value as number;
      const inRange =
        (spec.min === undefined || (spec.minExclusive ? v > spec.min : v >= spec.min)) &&
        (spec.max === undefined || (spec.maxExclusive ? v < spec.max : v <= spec.max)) &&
        (!spec.integer || Number.isInteger(v));
      if (!inRange) fail(`must be in ${describeRange(spec)}`);
      return;
    }
    case 'boolean':
      if (typeof value !== 'boolean') fail('must be true or false');
      return;
    case 'enum':
      if (typeof value !== 'string' || !spec.values.includes(value)) fail(`must be one of ${spec.values.join(', ')}`);
      return;
    case 'enumList': {
      const list = Array.isArray(value) ? value : [value];
      if (list.length === 0 || list.some((v) => typeof v !== 'string' || !spec.values.includes(v))) {
        fail(`must be one of ${spec.values.join(', ')} (or a non-empty list of them)`);
      }
      return;
    }
    case 'numberList':
      if (value === null) return;
      if (!Array.isArray(value) || value.some((v) => typeof v !== 'number' || !Number.isFinite(v))) {
        fail('must be a list of finite numbers');
      }
      return;
  }
}
