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

/** A parameter schema as written once, `as const` (or through {@link defineParams}). */
export type ParamSchemaDefinition = Readonly<Record<string, ParamSpec>>;

/** The values one parameter spec admits (`enum` values as a union of literals). */
export type ParamValueOf<S extends ParamSpec> = S extends { readonly kind: 'number'; readonly default: infer D }
  ? null extends D
    ? number | null
    : number
  : S extends { readonly kind: 'boolean' }
    ? boolean
    : S extends { readonly kind: 'enum'; readonly values: readonly (infer V)[] }
      ? V
      : S extends { readonly kind: 'enumList'; readonly values: readonly (infer V)[] }
        ? V | readonly V[]
        : S extends { readonly kind: 'numberList' }
          ? readonly number[] | null
          : never;

/** The parameter type of a schema: what `forward` receives, every parameter resolved. */
export type ParamsOf<S extends ParamSchemaDefinition> = { -readonly [K in keyof S]: ParamValueOf<S[K]> };

/** What a caller may pass: any subset of the parameters, and a preset by name. */
export type ParamsArgument<P extends ParamValues, K extends string = string> = {
  readonly [N in keyof P]?: P[N];
} & { readonly preset?: K };

/** Compile-time checks a schema's literal types allow: an `enum`'s default is one of its values. */
type CheckedDefaults<S extends ParamSchemaDefinition> = {
  readonly [K in keyof S]: S[K] extends { readonly kind: 'enum' | 'enumList'; readonly values: readonly (infer V)[] }
    ? { readonly default: V }
    : unknown;
};

/**
 * A parameter schema, written once: keeps its literal types (so {@link ParamsOf} gives enum
 * unions) and refuses, at compile time, an enum default that is not one of its values.
 */
export function defineParams<const S extends ParamSchemaDefinition>(schema: S & CheckedDefaults<S>): S {
  return schema;
}

/** Every parameter's default (`null` for derived ones), as `resolveParams` starts from. */
export function paramDefaults<S extends ParamSchemaDefinition>(schema: S): ParamsOf<S> {
  return Object.fromEntries(Object.entries(schema).map(([name, spec]) => [name, spec.default])) as ParamsOf<S>;
}

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
    throw new PrefParamError(
      'params',
      `${objectiveId}: params must be an object of named parameters (use {} for the defaults), got ${given === null ? 'null' : Array.isArray(given) ? 'a list' : typeof given}`,
    );
  }
  const { preset, ...explicit } = given;
  const values: Record<string, unknown> = paramDefaults(schema as ParamSchemaDefinition);
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
