/** The toy pair batch of reference-notes §12 (B = 2), the worked example of the pairwise objectives' docs pages. */
export const TOY_PAIR_BATCH = {
  chosenLogps: [
    [-0.5, -1.0, -0.25],
    [-0.05, -0.3, 0],
  ],
  chosenMask: [
    [1, 1, 1],
    [1, 1, 0],
  ],
  rejectedLogps: [
    [-2.0, -0.1, -3.0, -0.7],
    [-1.5, -2.5, -0.9, 0],
  ],
  rejectedMask: [
    [1, 1, 1, 1],
    [1, 1, 1, 0],
  ],
};
