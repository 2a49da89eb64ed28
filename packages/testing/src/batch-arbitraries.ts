import fc from 'fast-check';

export interface SequenceArbitraryOptions {
  readonly rows: number;
  readonly maxSteps?: number;
  /** Range of token log-probs (default [-20, -1e-3]). */
  readonly minLogp?: number;
  readonly maxLogp?: number;
  /** Also draw the range's ends exactly (e.g. log-probs of exactly 0 and −100). */
  readonly endpoints?: boolean;
}

/** Token log-probs `[N, T]` with a 0/1 mask whose rows each count at least one token. */
export function sequenceArbitrary(options: SequenceArbitraryOptions) {
  const { rows, maxSteps = 6, minLogp = -20, maxLogp = -1e-3 } = options;
  const inRange = fc.double({ min: minLogp, max: maxLogp, noNaN: true });
  const logp = options.endpoints ? fc.oneof(fc.constantFrom(minLogp, maxLogp), inRange) : inRange;
  return fc.integer({ min: 1, max: maxSteps }).chain((steps) =>
    fc.record({
      logps: fc.array(fc.array(logp, { minLength: steps, maxLength: steps }), { minLength: rows, maxLength: rows }),
      mask: fc.array(
        fc.integer({ min: 1, max: steps }).chain((length) => fc.constant(Array.from({ length: steps }, (_, t) => (t < length ? 1 : 0)))),
        { minLength: rows, maxLength: rows },
      ),
    }),
  );
}

/** A batch of `rows` preference pairs on the log-prob path. */
export function pairBatchArbitrary(rows: number, options: Omit<SequenceArbitraryOptions, 'rows'> = {}) {
  return fc.tuple(sequenceArbitrary({ rows, ...options }), sequenceArbitrary({ rows, ...options })).map(([chosen, rejected]) => ({
    chosenLogps: chosen.logps,
    chosenMask: chosen.mask,
    rejectedLogps: rejected.logps,
    rejectedMask: rejected.mask,
  }));
}

/** Summed reference log-probs `[N]`. */
export function referenceSumsArbitrary(rows: number) {
  return fc.record({
    refChosenLogps: fc.array(fc.double({ min: -60, max: -0.01, noNaN: true }), { minLength: rows, maxLength: rows }),
    refRejectedLogps: fc.array(fc.double({ min: -60, max: -0.01, noNaN: true }), { minLength: rows, maxLength: rows }),
  });
}
