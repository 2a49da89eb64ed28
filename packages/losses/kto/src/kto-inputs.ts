import type { InputSchema, ParamRule } from '@pref/core';

const ktoLoss: ParamRule = {
  when: 'lossType is "kto"',
  holds: (p) => p.lossType === 'kto',
  hint: 'klLogps and klRefLogps (summed log-probs of mismatched prompt/completion pairs) give its reference point z0; use lossType "apo_zero_unpaired" to train without them',
};

/**
 * KTO's unpaired inputs: one completion per row (`logps`/`mask` `[N, T]`, or `logits` `[N, T, V]`
 * with `labels`), its reference sum, whether it is desirable, and the policy and reference sums
 * of a mismatched prompt/completion pair for the KL reference point.
 */
export const KTO_INPUTS = {
  completion: {
    kind: 'sequence',
    prefix: '',
    description: 'Completion of each row: token log-probs `logps` [N, T] with a 0/1 `mask`, or `logits` [N, T, V] with `labels`.',
  },
  reference: {
    kind: 'rows',
    name: 'refLogps',
    logProbs: true,
    description: 'Summed token log-probs of each completion under the reference model [N].',
  },
  desirable: {
    kind: 'rows',
    name: 'desirable',
    values: 'binary',
    description: '1 where the completion is desirable, 0 where it is undesirable [N].',
  },
  kl: {
    kind: 'rows',
    name: 'klLogps',
    optional: true,
    logProbs: true,
    requiredWhen: ktoLoss,
    description:
      'Summed policy log-probs of a mismatched prompt/completion pair per row (e.g. completions rotated by one within the batch), computed without gradient [N]. Required for lossType "kto".',
  },
  klReference: {
    kind: 'rows',
    name: 'klRefLogps',
    optional: true,
    logProbs: true,
    requiredWhen: ktoLoss,
    description: 'Summed reference log-probs of the same mismatched pairs as klLogps [N]. Required for lossType "kto".',
  },
} as const satisfies InputSchema;
