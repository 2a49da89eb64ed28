import type { Tensor } from './tensor';

/**
 * A completion per row, given as one of
 * - token log-probs with a mask (`<prefix>Logps`, `<prefix>Mask`, `[N, T]`);
 * - logits with labels (`<prefix>Logits` `[N, T, V]`, `<prefix>Labels` `[N, T]`, `-100` = ignored);
 * - the last hidden states with labels (`<prefix>Hidden` `[N, T, H]`, `<prefix>Labels`) and the
 *   batch's LM head `lmHead: { weight [V, H], bias? [V], logitScale?, softcap? }` (the hidden-state
 *   path: log-probs in vocabulary chunks, never `[N, T, V]` logits).
 * Gradients are returned for whichever of `<prefix>Logps` / `<prefix>Logits` / `<prefix>Hidden`
 * was given, and on the hidden path for `lmHead.weight` (and `lmHead.bias`).
 */
export interface SequenceInputSpec {
  readonly kind: 'sequence';
  /** `chosen` gives `chosenLogps`, ...; the empty prefix gives `logps`, `mask`, `logits`, `labels`. */
  readonly prefix: string;
  readonly description: string;
  /**
   * Give this completion as logits with labels (not log-probs with a mask) when the rule holds,
   * e.g. WPO weights need the full token distribution.
   */
  readonly logitsWhen?: ParamRule;
  /**
   * The rows must come in whole groups of a parameter's size (e.g. `groupSize`: the completions
   * of one prompt are consecutive rows). Checked when the parameter is a number; the error is a
   * `PrefParamError` naming it. Under data parallelism it is each worker's rows.
   */
  readonly rowsMultipleOf?: RowsMultipleRule;
}

/** See {@link SequenceInputSpec.rowsMultipleOf}. */
export interface RowsMultipleRule {
  /** The integer parameter the row count must be a multiple of (`null` = unchecked). */
  readonly param: string;
  /** Why, appended to the error. */
  readonly hint?: string;
}

/**
 * A condition on an objective's resolved parameters, used by the input schema to say when an
 * optional input is required or not allowed. `when` is shown in errors and docs (`beta > 0`).
 */
export interface ParamRule {
  readonly when: string;
  readonly holds: (params: Readonly<Record<string, unknown>>) => boolean;
  /** The parameter the error names when the rule rejects a batch (default: the input). */
  readonly param?: string;
  /** The parameter values that made the rule hold, shown in the error (`beta is 0.04`). */
  readonly actual?: (params: Readonly<Record<string, unknown>>) => string;
  /** What to do instead, appended to the error. */
  readonly hint?: string;
}

/**
 * Conditional and alternative inputs (checked on the host by `prepareBatch`, before any
 * tensor exists). Inputs with the same `oneOf` label are alternatives: at most one is given,
 * and a `requiredWhen` on any of them is met by giving any one.
 */
export interface InputRules {
  /** An optional input that becomes required when the rule holds. */
  readonly requiredWhen?: ParamRule;
  /** An input that must be left out when the rule holds. */
  readonly forbiddenWhen?: ParamRule;
  /** Label of a group of alternative inputs (e.g. `refChosen` for summed or per-token reference log-probs). */
  readonly oneOf?: string;
  /**
   * With `oneOf`: one input of the group must always be given, whatever the parameters (e.g.
   * `advantages` or `rewards`). The error names the first member missing and its alternatives.
   */
  readonly requireOneOf?: boolean;
}

/** Per-token values aligned with a sequence input (`[N, T]`), no gradient. */
export interface TokensInputSpec extends InputRules {
  readonly kind: 'tokens';
  readonly name: string;
  /** Key of the sequence input whose shape and mask this follows. */
  readonly sequence: string;
  readonly description: string;
  readonly optional?: boolean;
  /** `binary`: a 0/1 mask, checked at every position (e.g. ORPO's `chosenNllMask`). */
  readonly values?: 'real' | 'binary';
  /** Log-probs must be ≤ 0 (up to 1e-6) at counted positions. */
  readonly logProbs?: boolean;
  /**
   * The objective computes this input from its sequence's logits when the sequence comes as
   * logits with labels, or as hidden states with the LM head (e.g. token entropies):
   * `requiredWhen` is then met without it.
   */
  readonly fromLogits?: boolean;
}

/** One value per row (`[N]`), no gradient. */
export interface RowsInputSpec extends InputRules {
  readonly kind: 'rows';
  readonly name: string;
  readonly description: string;
  readonly optional?: boolean;
  /** `binary`: 0 or 1 (e.g. KTO's `desirable`). */
  readonly values?: 'real' | 'binary';
  /** Summed log-probs: must be ≤ 0 (up to 1e-6). */
  readonly logProbs?: boolean;
}

export type InputSpec = SequenceInputSpec | TokensInputSpec | RowsInputSpec;
export type InputSchema = Readonly<Record<string, InputSpec>>;

/** A sequence input as an objective receives it: token log-probs and the 0/1 mask, `[N, T]`. */
export interface SequenceTensors {
  readonly logps: Tensor;
  readonly mask: Tensor;
  /** Rows `N` and time steps `T`. */
  readonly rows: number;
  readonly steps: number;
  /**
   * On the logits path, the logits `[N, T, V]` and int labels `[N, T]` the log-probs came from
   * (for objectives that need more than the label's log-prob, e.g. WPO weights); else absent.
   */
  readonly logits?: Tensor;
  readonly labels?: Tensor;
  /**
   * On the hidden-state path, the hidden states `[N, T, H]` and the batch's LM head (for
   * objectives that need more than the label's log-prob, e.g. token entropies through
   * `ops.linearTokenEntropy(hidden, head.weight, head.bias, head.options)`); else absent.
   */
  readonly hidden?: Tensor;
  readonly head?: SequenceHead;
}

/** The LM head of the hidden-state path, as `SequenceTensors.head`. */
export interface SequenceHead {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  readonly options: { readonly logitScale: number; readonly softcap: number | null; readonly chunkSize?: number };
}

/** What `forward` receives for an input schema. */
export type ObjectiveInputs<S extends InputSchema> = {
  readonly [K in keyof S]: S[K] extends SequenceInputSpec
    ? SequenceTensors
    : S[K] extends { readonly optional: true }
      ? Tensor | undefined
      : Tensor;
};

/** The batch input names an input spec accepts, in the order they are documented. */
export function inputNames(spec: InputSpec): string[] {
  if (spec.kind !== 'sequence') return [spec.name];
  return ['Logps', 'Mask', 'Logits', 'Labels', 'Hidden'].map((suffix) => sequenceInputName(spec.prefix, suffix));
}

export function sequenceInputName(prefix: string, suffix: string): string {
  return prefix ? `${prefix}${suffix}` : suffix.toLowerCase();
}
