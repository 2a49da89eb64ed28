export { conformanceCaseDir, loadConformanceCases } from './conformance-cases';
export { describeConformance, type BackendUnderTest } from './describe-conformance';
export { EARLIER_DEFAULTS, SUPERSEDED_METRICS } from './earlier-defaults';
export { describeTrlParity, loadTrlCases } from './describe-trl-parity';
export { finiteDifferenceGrad, worstMismatch } from './finite-differences';
export { sequenceArbitrary, pairBatchArbitrary, referenceSumsArbitrary, type SequenceArbitraryOptions } from './batch-arbitraries';
export { referenceBackends } from './reference-backends';
export { runDataParallel } from './data-parallel';
export { installedObjectives } from './installed-objectives';
export { OBJECTIVE_PACKAGES } from '@pref/core';
export {
  expectGradientsMatchFiniteDifferences,
  expectMaskedValuesIgnored,
  expectDataParallelAgreement,
  PAIRWISE_MASKS,
} from './objective-assertions';
export {
  describeShapeErrorBattery,
  SHAPE_ERROR_CASES,
  SHAPE_VALID_CASES,
  type ShapeErrorCase,
  type ShapeValidCase,
} from './shape-error-battery';
export { describeLeakBattery, countingBackend, type CountingBackend } from './leak-battery';
export { describeGradientBufferBattery } from './gradient-buffers-battery';
export { describeBadInputBattery, BAD_INPUT_CASES, type BadInputCase, type ExpectedRejection } from './bad-input-battery';
export {
  describeHiddenStateBattery,
  expectHiddenMatchesLogits,
  hiddenStatePair,
  HIDDEN_STATE_HEAD_CASES,
  type HiddenStateHeadCase,
  type HiddenStatePair,
  type HiddenStateTolerance,
} from './hidden-state-battery';
export { renderParamTable, extractParamTable, replaceParamTable } from './param-table';
export { TOY_PAIR_BATCH } from './toy-pair-batch';
export { describeTokenEntropyBattery, hostTokenEntropy, TOKEN_ENTROPY_CASES, LINEAR_ENTROPY_CASES } from './token-entropy-battery';
export {
  expectWithinFloat32Bound,
  float32ErrorBound,
  float32Excess,
  type Float32Bound,
  type Float32BoundOptions,
} from './float32-error-bound';
