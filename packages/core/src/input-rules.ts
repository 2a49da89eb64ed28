import { PrefInputError, PrefParamError } from './pref-error';
import { sequenceInputName, type InputSchema, type InputSpec, type ParamRule, type SequenceInputSpec } from './objective-inputs';

type AlignedSpec = Exclude<InputSpec, { kind: 'sequence' }>;

const isAligned = (spec: InputSpec): spec is AlignedSpec => spec.kind === 'tokens' || spec.kind === 'rows';
const given = (batch: Readonly<Record<string, unknown>>, name: string) => batch[name] !== undefined && batch[name] !== null;
const layoutOf = (spec: AlignedSpec) => (spec.kind === 'rows' ? '[N]' : '[N, T]');
const withHint = (rule: ParamRule) => (rule.hint ? `; ${rule.hint}` : '');
/** `beta > 0 (beta is 0.04)`: the condition, and the values that made it hold. */
const condition = (rule: ParamRule, params: Readonly<Record<string, unknown>>) =>
  rule.actual ? `${rule.when} (${rule.actual(params)})` : rule.when;

function reject(rule: ParamRule, input: string, message: string): never {
  if (rule.param) throw new PrefParamError(rule.param, message);
  throw new PrefInputError(input, message);
}

/**
 * Checks the schema's conditional and alternative inputs against which inputs a batch gives
 * and the resolved parameters: `requiredWhen`, `forbiddenWhen`, `oneOf` groups and a
 * sequence's `logitsWhen`. Runs on the host, before any value is read or tensor made.
 */
export function checkInputRules(
  schema: InputSchema,
  batch: Readonly<Record<string, unknown>>,
  params: Readonly<Record<string, unknown>>,
): void {
  const groups = new Map<string, AlignedSpec[]>();
  for (const spec of Object.values(schema)) {
    if (spec.kind === 'sequence') {
      const rule = spec.logitsWhen;
      const logps = sequenceInputName(spec.prefix, 'Logps');
      if (rule && given(batch, logps) && rule.holds(params)) {
        const [logits, labels, mask] = ['Logits', 'Labels', 'Mask'].map((s) => sequenceInputName(spec.prefix, s));
        reject(rule, logps, `${condition(rule, params)}, so pass ${logits} with ${labels} instead of ${logps}/${mask}${withHint(rule)}`);
      }
      continue;
    }
    if (!isAligned(spec)) continue;
    if (spec.oneOf) groups.set(spec.oneOf, [...(groups.get(spec.oneOf) ?? []), spec]);
    const forbidden = spec.forbiddenWhen;
    if (forbidden && given(batch, spec.name) && forbidden.holds(params)) {
      reject(forbidden, spec.name, `${spec.name} cannot be used when ${condition(forbidden, params)}${withHint(forbidden)}`);
    }
  }
  for (const spec of Object.values(schema)) {
    if (!isAligned(spec) || given(batch, spec.name)) continue;
    const alternatives = spec.oneOf ? groups.get(spec.oneOf)! : [spec];
    if (alternatives.some((alt) => given(batch, alt.name))) continue;
    // Computed from the sequence's logits when it comes as logits (fromLogits).
    const sequence = spec.kind === 'tokens' && spec.fromLogits ? (schema[spec.sequence] as SequenceInputSpec) : null;
    const [logits, labels, hidden] = sequence ? ['Logits', 'Labels', 'Hidden'].map((s) => sequenceInputName(sequence.prefix, s)) : [];
    if (logits && (given(batch, logits) || given(batch, hidden))) continue;
    const others = alternatives.filter((alt) => alt !== spec).map((alt) => `${alt.name} ${layoutOf(alt)}`);
    if (logits) others.push(`${logits} [N, T, V] with ${labels}`, `${hidden} [N, T, H] with ${labels} and lmHead`);
    const or = others.length > 0 ? ` (or ${others.join(' or ')})` : '';
    if (spec.oneOf && alternatives.some((alt) => alt.requireOneOf)) {
      throw new PrefInputError(spec.name, `missing input ${spec.name} ${layoutOf(spec)}${or}: ${spec.description}`);
    }
    const required = spec.requiredWhen;
    if (!required || !required.holds(params)) continue;
    reject(
      required,
      spec.name,
      `missing input ${spec.name} ${layoutOf(spec)}${or}: ${spec.description} Needed when ${condition(required, params)}${withHint(required)}`,
    );
  }
  for (const members of groups.values()) {
    const present = members.filter((spec) => given(batch, spec.name));
    if (present.length > 1) {
      throw new PrefInputError(
        present[1].name,
        `give either ${present.map((spec) => `${spec.name} ${layoutOf(spec)}`).join(' or ')}, not both`,
      );
    }
  }
}

/**
 * Checks a sequence's `rowsMultipleOf` rule against its row count (on the host, after its shape
 * is known and before any tensor exists): a `PrefParamError` naming the parameter.
 */
export function checkRowsMultiple(
  spec: SequenceInputSpec,
  inputName: string,
  rows: number,
  params: Readonly<Record<string, unknown>>,
): void {
  const rule = spec.rowsMultipleOf;
  const size = rule ? params[rule.param] : undefined;
  if (!rule || typeof size !== 'number' || rows % size === 0) return;
  throw new PrefParamError(
    rule.param,
    `${rows} rows is not a multiple of ${rule.param} ${size} (${inputName} has ${rows} rows)${rule.hint ? `; ${rule.hint}` : ''}`,
  );
}
