import { PrefParamError, resolveObjectiveParams, type AnyObjective, type InputSchema } from '@pref/core';

/** One objective run of `pref align`: which objective, with which (explicit) parameters. */
export interface ObjectiveSelection {
  /** Series name in the report: the text it was selected with, e.g. `dpo:beta=0.3`. */
  readonly label: string;
  readonly id: string;
  /** Parameters as given (`preset` included); defaults fill the rest. */
  readonly params: Readonly<Record<string, unknown>>;
  /** For a run added by `--ablations`: the objective it ablates (e.g. `slime`). */
  readonly ablationOf?: string;
}

export const DEFAULT_OBJECTIVES = 'slime,simpo,dpo,lmpo';

/**
 * Parses `--objectives`: comma-separated ids, each optionally followed by `:name=value`
 * parameters; further `name=value` items after an id belong to it. Values parse as JSON
 * where they can (numbers, booleans), else stay strings.
 *
 * @example parseObjectiveList('slime:preset=paper,dpo:beta=0.1,labelSmoothing=0.1,lmpo')
 */
export function parseObjectiveList(text: string): ObjectiveSelection[] {
  const selections: { id: string; parts: string[]; params: Record<string, unknown> }[] = [];
  for (const raw of text
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean)) {
    const colon = raw.indexOf(':');
    const equals = raw.indexOf('=');
    const startsObjective = equals < 0 || (colon >= 0 && colon < equals);
    let assignment = raw;
    if (startsObjective) {
      const id = colon >= 0 ? raw.slice(0, colon).trim() : raw;
      if (!/^[a-z][a-z0-9_-]*$/i.test(id))
        throw new PrefParamError('objectives', `--objectives: ${JSON.stringify(id)} is not an objective id`);
      selections.push({ id, parts: [], params: {} });
      if (colon < 0) continue;
      assignment = raw.slice(colon + 1).trim();
      if (!assignment) continue;
    }
    const current = selections.at(-1);
    if (!current) throw new PrefParamError('objectives', `--objectives: parameter ${JSON.stringify(raw)} comes before any objective id`);
    const eq = assignment.indexOf('=');
    if (eq <= 0)
      throw new PrefParamError('objectives', `--objectives: expected name=value after ${current.id}:, got ${JSON.stringify(assignment)}`);
    const name = assignment.slice(0, eq).trim();
    const value = assignment.slice(eq + 1).trim();
    current.params[name] = parseValue(value);
    current.parts.push(`${name}=${value}`);
  }
  if (selections.length === 0) throw new PrefParamError('objectives', '--objectives: give at least one objective id');
  const labels = selections.map((s) => (s.parts.length ? `${s.id}:${s.parts.join(',')}` : s.id));
  const duplicate = labels.find((label, i) => labels.indexOf(label) !== i);
  if (duplicate) throw new PrefParamError('objectives', `--objectives: ${duplicate} is listed twice`);
  return selections.map((s, i) => ({ label: labels[i], id: s.id, params: s.params }));
}

function parseValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Reference inputs `pref align` can supply: summed log-probs of the frozen SFT model. */
const REFERENCE_SUM_INPUTS = new Set(['refChosenLogps', 'refRejectedLogps']);

/** What an objective needs from the run: whether it reads reference sums. */
export interface ObjectiveNeeds {
  readonly referenceSums: boolean;
}

/**
 * Checks that `pref align` can feed `objective` (a chosen/rejected pair, optionally summed
 * reference log-probs) and that `params` resolve; returns what it needs.
 */
export function checkObjectiveSupported(objective: AnyObjective, params: Readonly<Record<string, unknown>>): ObjectiveNeeds {
  const schema = objective.inputs as InputSchema;
  let referenceSums = false;
  for (const [key, spec] of Object.entries(schema)) {
    if (spec.kind === 'sequence' && (spec.prefix === 'chosen' || spec.prefix === 'rejected')) continue;
    if (spec.kind === 'rows' && REFERENCE_SUM_INPUTS.has(spec.name)) {
      referenceSums = true;
      continue;
    }
    if ('optional' in spec && spec.optional) continue;
    const name = spec.kind === 'sequence' ? `${spec.prefix}Logps` : spec.name;
    throw new PrefParamError(
      'objectives',
      `${objective.id} needs input ${name} (${key}); pref align trains on chosen/rejected pairs and can supply only reference sums`,
    );
  }
  resolveObjectiveParams(objective, params);
  return { referenceSums };
}
