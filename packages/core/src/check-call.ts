import { PrefBackendError, PrefInputError, PrefParamError } from './pref-error';
import { checkObjectiveState, type StateSchema } from './objective-state';

/**
 * The arguments of `valueAndGrad` before anything else reads them, so a wrong call gives a
 * typed error instead of a `TypeError`: an objective, a batch object, a params object (or
 * nothing), options with a backend, and state only where the objective keeps one.
 */
export function checkValueAndGradCall(objective: unknown, batch: unknown, params: unknown, options: unknown): void {
  const o = objective as { id?: unknown; forward?: unknown; stateful?: boolean; stateSchema?: StateSchema } | null;
  if (typeof o !== 'object' || o === null || typeof o.forward !== 'function' || typeof o.id !== 'string') {
    throw new PrefParamError(
      'objective',
      `the first argument must be an objective such as simpo from @pref/simpo, got ${describe(objective)}`,
    );
  }
  if (typeof batch !== 'object' || batch === null || Array.isArray(batch)) {
    throw new PrefInputError(
      'batch',
      `${o.id}: the batch must be an object of named inputs like { chosenLogps, chosenMask, ... }, got ${describe(batch)}`,
    );
  }
  if (params !== undefined && (typeof params !== 'object' || params === null || Array.isArray(params))) {
    throw new PrefParamError(
      'params',
      `${o.id}: params must be an object of named parameters (use {} for the defaults), got ${describe(params)}`,
    );
  }
  const backend = (options as { backend?: { fromHost?: unknown } } | null | undefined)?.backend;
  if (typeof backend !== 'object' || backend === null || typeof backend.fromHost !== 'function') {
    throw new PrefBackendError(
      `${o.id}: options.backend must be a backend: valueAndGrad(objective, batch, params, { backend: await createBackend() }), got ${describe(backend)}`,
    );
  }
  checkObjectiveState({ id: o.id, stateful: Boolean(o.stateful), stateSchema: o.stateSchema }, (options as { state?: unknown }).state);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value;
}
