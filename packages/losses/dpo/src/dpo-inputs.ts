import { PAIRWISE_INPUTS, REFERENCE_INPUTS, type InputSchema } from '@pref/core';

/**
 * DPO's inputs: the pair (log-probs with masks, or logits with labels), and the reference model
 * either as summed log-probs per row (`refChosenLogps`, `refRejectedLogps` `[B]`) or as token
 * log-probs aligned with the completions (`refChosenTokenLogps` `[B, Tc]`,
 * `refRejectedTokenLogps` `[B, Tr]`, needed by LD-DPO). One of the two forms is required unless
 * `referenceFree`.
 */
export const DPO_INPUTS = {
  ...PAIRWISE_INPUTS,
  refChosen: { ...REFERENCE_INPUTS.refChosen, optional: true },
  refRejected: { ...REFERENCE_INPUTS.refRejected, optional: true },
  refChosenTokens: {
    kind: 'tokens',
    name: 'refChosenTokenLogps',
    sequence: 'chosen',
    optional: true,
    logProbs: true,
    description: 'Token log-probs of the chosen completion under the reference model [B, Tc], aligned with chosenMask (instead of refChosenLogps; needed by ldAlpha).',
  },
  refRejectedTokens: {
    kind: 'tokens',
    name: 'refRejectedTokenLogps',
    sequence: 'rejected',
    optional: true,
    logProbs: true,
    description: 'Token log-probs of the rejected completion under the reference model [B, Tr], aligned with rejectedMask (instead of refRejectedLogps; needed by ldAlpha).',
  },
} as const satisfies InputSchema;
