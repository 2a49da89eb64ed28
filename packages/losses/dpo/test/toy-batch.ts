import { TOY_PAIR_BATCH } from '@pref/testing';

/** The toy batch of reference-notes §12 (B = 2), also the worked example of docs/objectives/dpo.md. */
export const TOY_BATCH = {
  ...TOY_PAIR_BATCH,
  refChosenLogps: [-1.9, -0.2],
  refRejectedLogps: [-5.0, -4.2],
};
