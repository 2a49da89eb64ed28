import { PrefParamError } from '@pref/core';
import type { ObjectiveSelection } from './objective-selection';

/** One ablation of a paper: a preset of its objective, with the label it gets in the report. */
export interface AblationPreset {
  readonly preset: string;
  /** Series name in the report, e.g. `slime w/o anchor`. */
  readonly label: string;
  /** What the preset leaves out or changes. */
  readonly description: string;
}

/** The ablations of one objective's paper. */
export interface AblationFamily {
  readonly objective: string;
  /** Where the paper lists them. */
  readonly source: string;
  readonly presets: readonly AblationPreset[];
}

/**
 * The papers' ablation tables as presets of the objective packages (see the spec's "Ablations as
 * presets"): `--ablations slime,lmpo` adds each preset as a `<objective>:preset=<name>` run.
 */
export const ABLATIONS = {
  slime: {
    objective: 'slime',
    source: 'SLIME paper, Table 4',
    presets: [
      { preset: 'ablation-no-anchor', label: 'slime w/o anchor', description: 'without the anchor on the chosen likelihood (L_w)' },
      {
        preset: 'ablation-no-stabilizer',
        label: 'slime w/o stabilizer',
        description: 'without the softplus^p stabilizer on rejected tokens (L_l)',
      },
      {
        preset: 'ablation-no-hard-margin',
        label: 'slime w/o hard margin',
        description: 'without the hinge relu(m_h − Δ) of the dual margin',
      },
      { preset: 'ablation-no-soft-margin', label: 'slime w/o soft margin', description: 'without the sigmoid gate of the dual margin' },
    ],
  },
  lmpo: {
    objective: 'lmpo',
    source: 'LMPO paper, Table 2',
    presets: [
      { preset: 'ablation-no-zscore', label: 'lmpo w/o z-score', description: 'the length-controlled margin used as is, not z-scored' },
      {
        preset: 'ablation-no-length-normalization',
        label: 'lmpo w/o length normalization',
        description: 'p_y = exp(A_y), not length-normalized',
      },
      { preset: 'ablation-log', label: 'lmpo log margin', description: 'the log margin function g' },
      { preset: 'ablation-cube', label: 'lmpo cube margin', description: 'the power margin with exponent 3' },
      { preset: 'ablation-sigmoid', label: 'lmpo sigmoid margin', description: 'the sigmoid margin function g' },
    ],
  },
} as const satisfies Record<string, AblationFamily>;

export type AblationName = keyof typeof ABLATIONS;

/** Parses `--ablations`: comma-separated names of {@link ABLATIONS} (`slime`, `lmpo`), or `all`. */
export function parseAblationList(text: string): AblationName[] {
  const names = text
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
  if (names.length === 0)
    throw new PrefParamError('ablations', `--ablations: give one or more of ${Object.keys(ABLATIONS).join(', ')} (or all)`);
  const out: AblationName[] = [];
  for (const name of names) {
    const expanded = name === 'all' ? (Object.keys(ABLATIONS) as AblationName[]) : [name];
    for (const item of expanded) {
      if (!(item in ABLATIONS)) {
        throw new PrefParamError(
          'ablations',
          `--ablations: unknown ablation set ${JSON.stringify(item)}; known: ${Object.keys(ABLATIONS).join(', ')}, all`,
        );
      }
      if (!out.includes(item as AblationName)) out.push(item as AblationName);
    }
  }
  return out;
}

/** The selections the ablation sets stand for, in table order: `{ id, params: { preset }, label, ablationOf }`. */
export function expandAblations(names: readonly AblationName[]): ObjectiveSelection[] {
  return names.flatMap((name) => {
    const family: AblationFamily = ABLATIONS[name];
    return family.presets.map((p) => ({
      label: p.label,
      id: family.objective,
      params: { preset: p.preset },
      ablationOf: family.objective,
    }));
  });
}

/**
 * `selections` followed by the ablation runs of `names`, leaving out an ablation already
 * selected by hand (same objective, `preset` its only parameter). Labels stay unique.
 */
export function withAblations(selections: readonly ObjectiveSelection[], names: readonly AblationName[]): ObjectiveSelection[] {
  const out = [...selections];
  for (const ablation of expandAblations(names)) {
    const existing = out.find(
      (s) => s.id === ablation.id && Object.keys(s.params).length === 1 && s.params.preset === ablation.params.preset,
    );
    if (existing) continue;
    if (out.some((s) => s.label === ablation.label))
      throw new PrefParamError('ablations', `--ablations: the label ${ablation.label} is already taken`);
    out.push(ablation);
  }
  return out;
}
