/** The tfjs API as the user imports it (`@tensorflow/tfjs`, `-core`, or `-node`): the adapter uses this instance only. */
export type Tfjs = typeof import('@tensorflow/tfjs-core');
