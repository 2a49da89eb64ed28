export { benchCommand, BENCH_HELP, type BenchCommandIo } from './bench-command';
export { runBenchmarks, type RunBenchmarksOptions } from './run-benchmarks';
export * from './bench-report';
export { benchReportProblems, parseBenchReport } from './validate-bench-report';
export {
  BENCH_BACKEND_CONFIGS, DEFAULT_BENCH_BACKENDS, ORACLE_CONFIG, benchBackendSpec, resolveBenchBackends,
  type BenchBackendSpec, type ImportModule,
} from './bench-backends';
export { median, quantileSorted, summarizeSamples, type SampleSummary } from './summarize-samples';
export { compareWithOracle, describeMismatch, type CheckedResult } from './compare-with-oracle';
export { measureCell, type CellPlan, type MeasuredCell, type MeasureCellOptions } from './measure-cell';
export { measureMemoryBandwidth, type MemoryBandwidth, type MemoryBandwidthOptions } from './memory-bandwidth';
export { measurePeakMemory, type PeakMemory, type PeakMemoryMethod } from './peak-memory';
export { LOGITS_SHAPES, createLogitsWorkload, logitsTrafficBytes, placeLogitsBatch, type LogitsShape, type LogitsWorkload } from './logits-workload';
export { buildObjectiveWorkload, installedObjectives, OBJECTIVE_PACKAGES, type ObjectiveWorkload } from './objective-workload';
export { runAlignWorkload, ALIGN_TFJS_BACKENDS, type AlignWorkloadOptions } from './align-workload';
export { markdownTable, renderMarkdownReport } from './markdown-report';
export { renderBarChartSvg, escapeXml, type BarGroup, type BarPanel } from './svg-bar-chart';
export { writeBenchReport, benchChartPanels, BENCH_FILES } from './write-bench-report';
