/** Base class of every error pref throws on purpose. */
export class PrefError extends Error {
  override name = 'PrefError';
}

/** A batch input is missing, has the wrong shape, or holds an invalid value. */
export class PrefInputError extends PrefError {
  override name = 'PrefInputError';
  constructor(
    /** The input's name, e.g. `chosenMask`. */
    readonly input: string,
    message: string,
    /** The offending row, where there is one. */
    readonly row?: number,
  ) {
    super(message);
  }
}

/** A hyperparameter or preset is unknown or out of range. */
export class PrefParamError extends PrefError {
  override name = 'PrefParamError';
  constructor(
    /** The parameter's name, e.g. `labelSmoothing`. */
    readonly param: string,
    message: string,
  ) {
    super(message);
  }
}

/** No backend in the configured list could start; `attempts` says why for each. */
export class PrefBackendError extends PrefError {
  override name = 'PrefBackendError';
  constructor(
    message: string,
    readonly attempts: readonly { backend: string; reason: string }[] = [],
  ) {
    super(message);
  }
}

/** A primitive got tensors of incompatible shapes (checked in `TensorOps` before the backend runs). */
export class PrefShapeError extends PrefError {
  override name = 'PrefShapeError';
  constructor(
    /** The primitive, e.g. `concat`. */
    readonly op: string,
    /** The shapes involved. */
    readonly shapes: readonly (readonly number[])[],
    message: string,
  ) {
    super(message);
  }
}

/** A backend config key is unknown or holds an invalid value (`pref.config.json`, `PREF_BACKEND`, `--backend`). */
export class PrefConfigError extends PrefBackendError {
  override name = 'PrefConfigError';
  constructor(
    /** The config key, e.g. `threads`, or `backend` for the backend name. */
    readonly key: string,
    message: string,
  ) {
    super(message);
  }
}
