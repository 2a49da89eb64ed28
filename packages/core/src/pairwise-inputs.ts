import type { RowsInputSpec, SequenceInputSpec } from './objective-inputs';

/** Chosen and rejected completions of each pair (`chosenLogps`/`chosenMask` or logits/labels, ...). */
export const PAIRWISE_INPUTS = {
  chosen: {
    kind: 'sequence',
    prefix: 'chosen',
    description: 'Chosen completion of each pair: token log-probs [B, Tc] with a 0/1 mask, or logits [B, Tc, V] with labels.',
  },
  rejected: {
    kind: 'sequence',
    prefix: 'rejected',
    description: 'Rejected completion of each pair: token log-probs [B, Tr] with a 0/1 mask, or logits [B, Tr, V] with labels.',
  },
} as const satisfies Record<string, SequenceInputSpec>;

/** Summed token log-probs of the reference model for each side (`[B]`, no gradient). */
export const REFERENCE_INPUTS = {
  refChosen: {
    kind: 'rows',
    name: 'refChosenLogps',
    description: 'Summed token log-probs of the chosen completion under the reference model [B].',
  },
  refRejected: {
    kind: 'rows',
    name: 'refRejectedLogps',
    description: 'Summed token log-probs of the rejected completion under the reference model [B].',
  },
} as const satisfies Record<string, RowsInputSpec>;
