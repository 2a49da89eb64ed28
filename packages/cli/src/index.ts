export { runCli, MAIN_HELP } from './run-cli';
export { loadObjectives } from './objective-registry';
export { OBJECTIVE_PACKAGES } from '@pref/core';
export { parseParamList } from './parse-param-list';
export { processIo, UsageError, type CliIo } from './cli-io';
