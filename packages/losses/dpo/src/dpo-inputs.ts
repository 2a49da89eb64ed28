import { PAIRWISE_INPUTS, REFERENCE_INPUTS, type InputSchema, type ParamRule } from '@pref/core';

const withReference: ParamRule = {
  when: 'referenceFree is false',
  holds: (p) => !p.referenceFree,
  hint: 'set referenceFree: true to train without a reference model',
};
const ldAlphaSet = (side: string): ParamRule => ({
  when: 'ldAlpha (LD-DPO) is set',
  holds: (p) => p.ldAlpha !== null && p.ldAlpha !== undefined && !p.referenceFree,
  hint: `LD-DPO weights the reference token log-probs too: pass ref${side}TokenLogps [B, T] aligned with the ${side.toLowerCase()} completion instead`,
});
const wpo: ParamRule = {
  when: 'useWeighting (WPO) is true',
  holds: (p) => p.useWeighting === true,
  hint: 'WPO weights need the full token distribution',
};

/**
 * DPO's inputs: the pair (log-probs with masks, or logits with labels), and the reference model
 * either as summed log-probs per row (`refChosenLogps`, `refRejectedLogps` `[B]`) or as token
 * log-probs aligned with the completions (`refChosenTokenLogps` `[B, Tc]`,
 * `refRejectedTokenLogps` `[B, Tr]`, needed by LD-DPO). One of the two forms is required unless
 * `referenceFree`.
 */
export const DPO_INPUTS = {
  chosen: { ...PAIRWISE_INPUTS.chosen, logitsWhen: wpo },
  rejected: { ...PAIRWISE_INPUTS.rejected, logitsWhen: wpo },
  refChosen: {
    ...REFERENCE_INPUTS.refChosen,
    optional: true,
    oneOf: 'refChosen',
    requiredWhen: withReference,
    forbiddenWhen: ldAlphaSet('Chosen'),
  },
  refRejected: {
    ...REFERENCE_INPUTS.refRejected,
    optional: true,
    oneOf: 'refRejected',
    requiredWhen: withReference,
    forbiddenWhen: ldAlphaSet('Rejected'),
  },
  refChosenTokens: {
    kind: 'tokens',
    name: 'refChosenTokenLogps',
    sequence: 'chosen',
    optional: true,
    logProbs: true,
    oneOf: 'refChosen',
    requiredWhen: withReference,
    description:
      'Token log-probs of the chosen completion under the reference model [B, Tc], aligned with chosenMask (instead of refChosenLogps; needed by ldAlpha).',
  },
  refRejectedTokens: {
    kind: 'tokens',
    name: 'refRejectedTokenLogps',
    sequence: 'rejected',
    optional: true,
    logProbs: true,
    oneOf: 'refRejected',
    requiredWhen: withReference,
    description:
      'Token log-probs of the rejected completion under the reference model [B, Tr], aligned with rejectedMask (instead of refRejectedLogps; needed by ldAlpha).',
  },
} as const satisfies InputSchema;
