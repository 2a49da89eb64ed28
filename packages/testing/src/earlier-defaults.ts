// The list lives in core, where `runConformanceCase` applies it.
export { EARLIER_DEFAULTS, SUPERSEDED_METRICS } from '@pref/core';
