/**
 * `@pref/core/backend`: the API for writing a backend adapter — the closed `PrefBackend`
 * interface and its specification version, the primitive op lists, the shape helpers adapters
 * use to lay out results, and the errors they throw. Users of pref need only `@pref/core`.
 */
export * from './pref-backend';
export * from './broadcast-shape';
export * from './pref-error';
export {
  composedLinearTokenEntropy,
  composedLinearTokenEntropyGrad,
  composedTokenEntropy,
  composedTokenEntropyGrad,
} from './composed-token-entropy';
export type { BackendConfig } from './backend-config';
