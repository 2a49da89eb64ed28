import fc from 'fast-check';

/** A 0/1 row of `steps` with at least one 1, anywhere (prompt-like leading zeros, holes, padding). */
const maskRow = (steps: number) => fc.array(fc.constantFrom(0, 1), { minLength: steps, maxLength: steps }).filter((row) => row.includes(1));

const matrix = (rows: number, steps: number, min: number, max: number) =>
  fc.array(fc.array(fc.double({ min, max, noNaN: true }), { minLength: steps, maxLength: steps }), { minLength: rows, maxLength: rows });

/** One side: policy and reference token log-probs `[rows, T]` and a general mask. */
function tokenSide(rows: number, maxSteps: number, minLogp: number) {
  return fc.integer({ min: 1, max: maxSteps }).chain((steps) =>
    fc.record({
      logps: matrix(rows, steps, minLogp, -1e-3),
      reference: matrix(rows, steps, minLogp, -1e-3),
      mask: fc.array(maskRow(steps), { minLength: rows, maxLength: rows }),
    }),
  );
}

/** Pairs with token-level reference log-probs (for LD-DPO) and general masks. */
export function tokenReferenceBatchArbitrary(rows: number, options: { maxSteps?: number; minLogp?: number } = {}) {
  const { maxSteps = 6, minLogp = -10 } = options;
  return fc.tuple(tokenSide(rows, maxSteps, minLogp), tokenSide(rows, maxSteps, minLogp)).map(([chosen, rejected]) => ({
    chosenLogps: chosen.logps,
    chosenMask: chosen.mask,
    rejectedLogps: rejected.logps,
    rejectedMask: rejected.mask,
    refChosenTokenLogps: chosen.reference,
    refRejectedTokenLogps: rejected.reference,
  }));
}

/** One side on the logits path: logits `[rows, T, V]`, labels with −100 = ignored (≥ 1 counted per row). */
function logitsSide(rows: number, maxSteps: number, vocab: number) {
  return fc.integer({ min: 1, max: maxSteps }).chain((steps) =>
    fc.record({
      logits: fc.array(
        fc.array(fc.array(fc.double({ min: -4, max: 4, noNaN: true }), { minLength: vocab, maxLength: vocab }), {
          minLength: steps,
          maxLength: steps,
        }),
        { minLength: rows, maxLength: rows },
      ),
      labels: fc.array(
        fc
          .tuple(maskRow(steps), fc.array(fc.integer({ min: 0, max: vocab - 1 }), { minLength: steps, maxLength: steps }))
          .map(([mask, ids]) => ids.map((id, t) => (mask[t] ? id : -100))),
        { minLength: rows, maxLength: rows },
      ),
    }),
  );
}

/** Pairs on the logits path with summed reference log-probs. */
export function logitsPairBatchArbitrary(rows: number, options: { maxSteps?: number; vocab?: number } = {}) {
  const { maxSteps = 4, vocab = 5 } = options;
  return fc
    .tuple(logitsSide(rows, maxSteps, vocab), logitsSide(rows, maxSteps, vocab), referenceSums(rows, -20, -0.01))
    .map(([chosen, rejected, refs]) => ({
      chosenLogits: chosen.logits,
      chosenLabels: chosen.labels,
      rejectedLogits: rejected.logits,
      rejectedLabels: rejected.labels,
      ...refs,
    }));
}

/** Summed reference log-probs `[rows]` in `[min, max]`. */
export function referenceSums(rows: number, min: number, max: number) {
  const column = fc.array(fc.double({ min, max, noNaN: true }), { minLength: rows, maxLength: rows });
  return fc.record({ refChosenLogps: column, refRejectedLogps: column });
}
