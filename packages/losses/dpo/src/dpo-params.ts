import { defineParams, PrefParamError, type ParamsOf } from '@pref/core';

/** Every value `lossType` accepts (alone or in a list). */
export const DPO_LOSS_TYPES = [
  'sigmoid',
  'hinge',
  'ipo',
  'sigmoid_norm',
  'robust',
  'exo_pair',
  'nca_pair',
  'bco_pair',
  'sppo_hard',
  'apo_zero',
  'apo_down',
  'discopop',
  'aot',
  'aot_unpaired',
  'sft',
] as const;
export type DpoLossType = (typeof DPO_LOSS_TYPES)[number];

/** Loss types that sort across the batch (pairing broken): one worker only, no WPO weights. */
export const BATCH_SORTING_LOSS_TYPES: readonly DpoLossType[] = ['aot', 'aot_unpaired'];

export const F_DIVERGENCES = ['reverse_kl', 'forward_kl', 'js_divergence', 'alpha_divergence'] as const;
export type FDivergence = (typeof F_DIVERGENCES)[number];

/** DPO's parameter schema, written once: the parameter type, defaults, docs table and CLI help derive from it. */
export const DPO_PARAM_SCHEMA = defineParams({
  beta: {
    kind: 'number',
    default: 0.1,
    min: 0,
    minExclusive: true,
    symbol: 'β',
    description: 'Inverse temperature of the implicit reward β·(S − S_ref).',
  },
  labelSmoothing: {
    kind: 'number',
    default: 0,
    min: 0,
    max: 0.5,
    maxExclusive: true,
    symbol: 'ε',
    description:
      'Label noise ε: cDPO smoothing of sigmoid and aot/aot_unpaired, the noise rate of robust, and ε of exo_pair (must be > 0 there).',
  },
  lossType: {
    kind: 'enumList',
    values: DPO_LOSS_TYPES,
    default: 'sigmoid',
    description: 'Per-pair loss, or a list of them summed with lossWeights (sft adds the token-mean NLL of the chosen tokens).',
  },
  lossWeights: {
    kind: 'numberList',
    default: null,
    symbol: 'w_k',
    description: 'Weights of the listed loss types, one per entry (≥ 0); null: all 1.',
  },
  referenceFree: { kind: 'boolean', default: false, description: 'Reference sums treated as 0 (in the loss and in the rewards metrics).' },
  discopopTau: {
    kind: 'number',
    default: 0.05,
    min: 0,
    minExclusive: true,
    symbol: 'τ',
    description: 'Temperature of the DiscoPOP blend σ(βΔ/τ).',
  },
  ldAlpha: {
    kind: 'number',
    default: null,
    min: 0,
    max: 1,
    symbol: 'α_LD',
    description: 'LD-DPO: tokens past the shorter completion of the pair count with weight α (policy and reference); null = off.',
  },
  useWeighting: {
    kind: 'boolean',
    default: false,
    description: 'WPO: multiply each pair loss by the detached w(y_w)·w(y_l); needs the logits path; not with aot/aot_unpaired.',
  },
  fDivergence: {
    kind: 'enum',
    values: F_DIVERGENCES,
    default: 'reverse_kl',
    symbol: 'f',
    description: 'f-DPO: the divergence whose score f′(π/π_ref) replaces the log-ratio r.',
  },
  fAlphaCoef: { kind: 'number', default: 0.5, symbol: 'α_f', description: 'α of alpha_divergence (|α − 1| < 1e-6 is reverse KL).' },
  fDivergenceConstants: {
    kind: 'boolean',
    default: true,
    description:
      'Keep the constants of the f-divergence scores as TRL 1.13 does (1 − e^{−r}, log 2 + logσ(r), (e^{…} − 1)/(α − 1)); false: the constant-free forms of earlier TRL. They matter for ipo and sigmoid_norm.',
  },
});

/** DPO's hyperparameters, resolved: derived from {@link DPO_PARAM_SCHEMA} (see {@link dpo}). */
export type DpoParams = ParamsOf<typeof DPO_PARAM_SCHEMA>;

/** The loss types as a list, whether one or several were given. */
export function lossTypeList(params: Pick<DpoParams, 'lossType'>): readonly DpoLossType[] {
  return typeof params.lossType === 'string' ? [params.lossType] : params.lossType;
}

/** Checks spanning several parameters; throws `PrefParamError` naming the parameter at fault. */
export function validateDpoParams(params: DpoParams): void {
  const types = lossTypeList(params);
  const weights = params.lossWeights;
  if (weights !== null) {
    if (weights.length !== types.length) {
      throw new PrefParamError(
        'lossWeights',
        `dpo: lossWeights must have one weight per lossType entry: expected ${types.length} (for ${JSON.stringify(types)}), got ${weights.length}`,
      );
    }
    const negative = weights.findIndex((w) => w < 0);
    if (negative >= 0) {
      throw new PrefParamError('lossWeights', `dpo: lossWeights[${negative}] must be ≥ 0, got ${weights[negative]}`);
    }
  }
  if (types.includes('exo_pair') && !(params.labelSmoothing > 0)) {
    throw new PrefParamError(
      'labelSmoothing',
      `dpo: exo_pair needs labelSmoothing ε in (0, 0.5) (log ε appears in the loss; 1e-3 is the usual value), got ${params.labelSmoothing}`,
    );
  }
  const sorting = types.filter((t) => BATCH_SORTING_LOSS_TYPES.includes(t));
  if (params.useWeighting && sorting.length > 0) {
    throw new PrefParamError(
      'useWeighting',
      `dpo: useWeighting (WPO) cannot be combined with ${sorting.join(', ')}: those losses sort the batch, so there is no per-pair loss to weight`,
    );
  }
}

/** The weight of each listed loss type (1 when `lossWeights` is null). */
export function lossWeightList(params: Pick<DpoParams, 'lossType' | 'lossWeights'>): readonly number[] {
  return params.lossWeights ?? lossTypeList(params).map(() => 1);
}
