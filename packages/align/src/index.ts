export { alignCommand, ALIGN_HELP } from './align-command';
export {
  runAlign,
  resolveAlignSettings,
  MODEL_SIZES,
  DEFAULT_TFJS_BACKEND,
  type AlignOptions,
  type AlignReport,
  type AlignSettings,
  type ObjectiveRun,
  type SummaryRow,
  type EvaluationPoint,
  type ModelSize,
  type SeedRun,
  type SeedTimings,
  type DataSizes,
  type AlignEnvironment,
} from './run-align';
export {
  aggregateSeeds,
  SUMMARY_FIGURES,
  type SeedAggregate,
  type ObjectiveAggregate,
  type PairedComparison,
  type SummaryFigure,
} from './aggregate-seeds';
export {
  meanInterval,
  pairedDifference,
  studentTQuantile,
  studentTCdf,
  INTERVAL_LEVEL,
  INTERVAL_METHOD,
  type IntervalEstimate,
  type PairedDifference,
} from './seed-statistics';
export { parseSeedList } from './seed-list';
export {
  ABLATIONS,
  parseAblationList,
  expandAblations,
  withAblations,
  type AblationName,
  type AblationFamily,
  type AblationPreset,
} from './ablations';
export { LOSS_INPUTS, LOSS_INPUT_KINDS, type LossInputKind, type LossInputBuilder, type PairLossInputs } from './loss-input';
export { exponentialMovingAverage, smoothingSpan } from './align-charts';
export { estimateTextWidth, wrapText } from './text-metrics';
export { parseObjectiveList, DEFAULT_OBJECTIVES, type ObjectiveSelection } from './objective-selection';
export {
  generateArithmeticTask,
  type ArithmeticTask,
  type ArithmeticTaskOptions,
  type ArithmeticExample,
  type PreferencePair,
} from './arithmetic-task';
export { writeAlignReport, REPORT_FILES, MULTI_SEED_FILES } from './write-align-report';
export {
  renderLineChart,
  SERIES_COLORS,
  type LineChart,
  type ChartSeries,
  type ChartSize,
  type ChartMarker,
  type LegendKey,
} from './svg-line-chart';
export type { PreferenceStepLog } from './preference-stage';
export type { HeldOutEvaluation } from './held-out-evaluation';
export type { CausalLmShape } from './causal-lm';
