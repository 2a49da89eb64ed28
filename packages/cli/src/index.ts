export { runCli, MAIN_HELP } from './run-cli';
export { loadObjectives, OBJECTIVE_PACKAGES } from './objective-registry';
export { parseParamList } from './parse-param-list';
export { processIo, UsageError, type CliIo } from './cli-io';
