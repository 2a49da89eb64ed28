export { benchCommand, BENCH_HELP, SHAPE_NAMES, loadBenchReport, parseShapes, type BenchCommandIo } from './bench-command';
export { runBenchmarks, bandwidthOf, type RunBenchmarksOptions } from './run-benchmarks';
export * from './bench-report';
export { benchReportProblems, parseBenchReport } from './validate-bench-report';
export {
  BENCH_BACKEND_CONFIGS,
  DEFAULT_BENCH_BACKENDS,
  ORACLE_CONFIG,
  WASM_ORACLE_CONFIG,
  benchBackendSpec,
  resolveBenchBackends,
  type BenchBackendSpec,
  type ImportModule,
  type ValueAndGradFn,
} from './bench-backends';
export { median, quantileSorted, summarizeSamples, type SampleSummary } from './summarize-samples';
export { compareWithOracle, describeMismatch, type CheckedResult } from './compare-with-oracle';
export {
  allocationsFrom,
  backendStatsReader,
  measureCell,
  type BackendBufferStats,
  type CellPlan,
  type MeasuredCell,
  type MeasureCellOptions,
} from './measure-cell';
export {
  defaultProbeArrayBytes,
  largestCpuCacheBytes,
  measureMemoryBandwidth,
  sliceBounds,
  type KernelRates,
  type MemoryBandwidth,
  type MemoryBandwidthOptions,
  type MemoryBandwidthProbe,
} from './memory-bandwidth';
export { measurePeakMemory, type PeakMemory, type PeakMemoryMethod } from './peak-memory';
export {
  LOGITS_SHAPES,
  createLogitsWorkload,
  logitsCall,
  logitsGradientBuffers,
  logitsTrafficBytes,
  placeLogitsBatch,
  type GradientOutput,
  type LogitsCall,
  type LogitsGradientBuffers,
  type LogitsShape,
  type LogitsWorkload,
} from './logits-workload';
export {
  LINEAR_SHAPES,
  LINEAR_UNAVAILABLE,
  LINEAR_ORACLE_NOTES,
  PURE_TS_ORACLE_MAX_MULTIPLY_ADDS,
  baselineSkipReason,
  chooseLinearOracle,
  createLinearBatch,
  fusedRatio,
  linearMultiplyAdds,
  measureLinearBaseline,
  measureLinearCell,
  predictLinearSeconds,
  probeHiddenStatePath,
  type HiddenStateSupport,
  type LinearCellContext,
  type LinearShape,
} from './linear-workload';
export {
  REFERENCE_LINEAR_SCRATCH_BYTES,
  WASM_MEMORY_LIMIT_BYTES,
  createLinearBaseline,
  linearBaselinePlan,
  referenceChunkSizes,
  type LinearBaselinePlan,
  type LinearBaselineRunner,
} from './linear-baseline';
export {
  DEFAULT_THRESHOLD,
  compareReports,
  comparisonHeadline,
  parseThreshold,
  renderComparisonMarkdown,
  renderSummaryMarkdown,
  verdictOf,
  type CellComparison,
  type CellKey,
  type CellVerdict,
  type ReportComparison,
  type TimingSpread,
} from './compare-reports';
export { buildObjectiveWorkload, installedObjectives, type ObjectiveWorkload } from './objective-workload';
export { runAlignWorkload, ALIGN_TFJS_BACKENDS, type AlignWorkloadOptions } from './align-workload';
export { bandwidthLine, linearRow, LINEAR_TABLE_HEADER, markdownTable, renderMarkdownReport } from './markdown-report';
export { renderBarChartSvg, escapeXml, type BarGroup, type BarPanel } from './svg-bar-chart';
export { writeBenchReport, benchChartPanels, BENCH_FILES } from './write-bench-report';
