export { alignCommand, ALIGN_HELP } from './align-command';
export {
  runAlign, MODEL_SIZES,
  type AlignOptions, type AlignReport, type AlignSettings, type ObjectiveRun, type SummaryRow, type EvaluationPoint, type ModelSize,
} from './run-align';
export { parseObjectiveList, DEFAULT_OBJECTIVES, type ObjectiveSelection } from './objective-selection';
export { generateArithmeticTask, type ArithmeticTask, type ArithmeticTaskOptions, type ArithmeticExample, type PreferencePair } from './arithmetic-task';
export { writeAlignReport, REPORT_FILES } from './write-align-report';
export { renderLineChart, type LineChart, type ChartSeries } from './svg-line-chart';
export type { PreferenceStepLog } from './preference-stage';
export type { HeldOutEvaluation } from './held-out-evaluation';
export type { CausalLmShape } from './causal-lm';
