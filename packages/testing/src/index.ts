export { conformanceCaseDir, loadConformanceCases } from './conformance-cases';
export { describeConformance, type BackendUnderTest } from './describe-conformance';
export { finiteDifferenceGrad, worstMismatch } from './finite-differences';
export { sequenceArbitrary, pairBatchArbitrary, referenceSumsArbitrary, type SequenceArbitraryOptions } from './batch-arbitraries';
export { referenceBackends } from './reference-backends';
export { runDataParallel } from './data-parallel';
export { installedObjectives, OBJECTIVE_PACKAGES } from './installed-objectives';
export { expectGradientsMatchFiniteDifferences, expectMaskedValuesIgnored, expectDataParallelAgreement, PAIRWISE_MASKS } from './objective-assertions';
export { describeShapeErrorBattery, SHAPE_ERROR_CASES, SHAPE_VALID_CASES, type ShapeErrorCase, type ShapeValidCase } from './shape-error-battery';
