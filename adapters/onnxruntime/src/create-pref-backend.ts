import { PrefConfigError, type BackendConfig } from '@pref/core';
import { OnnxruntimeBackend } from './onnxruntime-backend';
import { loadOnnxruntimeNode, type OrtRuntime } from './ort-runtime';
import { providerName, resolveExecutionProviders, type ExecutionProvider } from './execution-providers';
import { onnxruntimeNodeLibraryDir } from './provider-libraries';
import { OnnxGraphBuilder } from './onnx-graph-builder';
import { encodeOnnxModel } from './encode-onnx-model';

/** Options of `createOnnxruntimeBackend`; the same keys as the backend config. */
export interface OnnxruntimeBackendConfig {
  /** In priority order, e.g. `["cuda", "cpu"]` (default `["cpu"]`). */
  readonly executionProviders?: readonly ExecutionProvider[];
  /**
   * Skip providers that cannot start (with a warning naming each) instead of failing; the CPU
   * is used when none is left. Default false.
   */
  readonly fallback?: boolean;
  /** Passed to `InferenceSession.create`: `intraOpNumThreads`, `interOpNumThreads`, `graphOptimizationLevel`, ... */
  readonly sessionOptions?: Readonly<Record<string, unknown>>;
  /** Compiled graphs kept (least recently used released first). Default 32. */
  readonly maxCachedSessions?: number;
  /** Reuse output buffers across same-shaped runs (see `OnnxruntimeBackendOptions.reuseOutputs`). Default false. */
  readonly reuseOutputs?: boolean;
  /** The onnxruntime API to use (default: `onnxruntime-node`, imported on first use). */
  readonly runtime?: OrtRuntime;
  /**
   * Receives the backend's own warnings (one per skipped provider). Nothing is printed
   * without one: onnxruntime's native log is limited to fatal errors, failures are thrown.
   */
  readonly logger?: OnnxruntimeLogger;
  /** Called once per skipped provider; shorthand for `logger: { warn }`. */
  readonly warn?: (message: string) => void;
}

/** Receives the backend's warnings. */
export interface OnnxruntimeLogger {
  warn(message: string): void;
}

/** A one-node model, to check providers and session options when the backend starts. */
async function probeModel(): Promise<Uint8Array> {
  const b = new OnnxGraphBuilder();
  b.output(b.node('Identity', [b.input('x', 'float', 1)]), 'float', [null]);
  return encodeOnnxModel(b.model('probe'));
}

function checkConfig(config: OnnxruntimeBackendConfig): void {
  const providers = config.executionProviders;
  if (providers !== undefined) {
    const valid =
      Array.isArray(providers) &&
      providers.length > 0 &&
      providers.every(
        (p) => typeof p === 'string' || (typeof p === 'object' && p !== null && typeof (p as { name?: unknown }).name === 'string'),
      );
    if (!valid) {
      throw new PrefConfigError(
        'executionProviders',
        `executionProviders must be a non-empty list of provider names like ["cuda", "cpu"], got ${JSON.stringify(providers)}`,
      );
    }
  }
  if (config.fallback !== undefined && typeof config.fallback !== 'boolean') {
    throw new PrefConfigError('fallback', `fallback must be true or false, got ${JSON.stringify(config.fallback)}`);
  }
  const sessionOptions = config.sessionOptions;
  if (sessionOptions !== undefined && (typeof sessionOptions !== 'object' || sessionOptions === null || Array.isArray(sessionOptions))) {
    throw new PrefConfigError(
      'sessionOptions',
      `sessionOptions must be an object like { "intraOpNumThreads": 2 }, got ${JSON.stringify(sessionOptions)}`,
    );
  }
  if (config.reuseOutputs !== undefined && typeof config.reuseOutputs !== 'boolean') {
    throw new PrefConfigError('reuseOutputs', `reuseOutputs must be true or false, got ${JSON.stringify(config.reuseOutputs)}`);
  }
}

/**
 * The onnxruntime backend, with its execution providers checked: a requested provider that
 * cannot start (e.g. CUDA whose binaries were not installed) is an error saying how to
 * install it, or, with `fallback: true` or `cpu` in the list, skipped: recorded in
 * `skippedProviders` and passed once to `warn`.
 */
export async function createOnnxruntimeBackend(config: OnnxruntimeBackendConfig = {}): Promise<OnnxruntimeBackend> {
  checkConfig(config);
  const runtime = config.runtime ?? (await loadOnnxruntimeNode());
  const sessionOptions = config.sessionOptions ?? {};
  const probe = await probeModel();
  const { active, skipped } = await resolveExecutionProviders(runtime, config.executionProviders ?? ['cpu'], {
    fallback: config.fallback ?? false,
    probeModel: probe,
    sessionOptions,
    libraryDir: config.runtime ? null : onnxruntimeNodeLibraryDir(),
  });
  const warn = config.logger ? (message: string) => config.logger!.warn(message) : (config.warn ?? (() => {}));
  for (const provider of skipped) {
    warn(`onnxruntime: skipped execution provider ${provider.name}, running on ${active.map(providerName).join(', ')}: ${provider.reason}`);
  }
  // Session options are checked now rather than at the first read.
  try {
    const session = await runtime.InferenceSession.create(probe, {
      logSeverityLevel: 4,
      ...sessionOptions,
      executionProviders: [...active],
    });
    await session.release?.();
  } catch (error) {
    throw new PrefConfigError(
      'sessionOptions',
      `onnxruntime: invalid sessionOptions ${JSON.stringify(sessionOptions)}: ${(error as Error).message}`,
    );
  }
  return new OnnxruntimeBackend({
    runtime,
    executionProviders: active,
    skippedProviders: skipped,
    sessionOptions,
    maxCachedSessions: config.maxCachedSessions,
    reuseOutputs: config.reuseOutputs,
  });
}

/**
 * Factory `createBackend` calls with the config, e.g.
 * `{ "backend": "onnxruntime", "executionProviders": ["cuda", "cpu"], "fallback": true,
 *    "sessionOptions": { "intraOpNumThreads": 2, "graphOptimizationLevel": "all" } }`.
 * `"backend": "onnxruntime:cuda"` is short for `"executionProviders": ["cuda"]`.
 */
export async function createPrefBackend(config: BackendConfig): Promise<OnnxruntimeBackend> {
  if (config.precision !== undefined && config.precision !== 32) {
    throw new PrefConfigError(
      'precision',
      `the onnxruntime backend computes in float32; precision must be 32, got ${String(config.precision)}`,
    );
  }
  const name = typeof config.backend === 'string' ? config.backend : '';
  const suffix = name.startsWith('onnxruntime:') ? name.slice('onnxruntime:'.length) : '';
  const executionProviders = (config.executionProviders as ExecutionProvider[] | undefined) ?? (suffix ? [suffix] : undefined);
  return createOnnxruntimeBackend({
    executionProviders,
    fallback: config.fallback as boolean | undefined,
    sessionOptions: config.sessionOptions as Record<string, unknown> | undefined,
    maxCachedSessions: config.maxCachedSessions as number | undefined,
    reuseOutputs: config.reuseOutputs as boolean | undefined,
    logger: isLogger(config.logger) ? config.logger : undefined,
    warn: typeof config.warn === 'function' ? (config.warn as (message: string) => void) : undefined,
  });
}

function isLogger(value: unknown): value is OnnxruntimeLogger {
  return typeof value === 'object' && value !== null && typeof (value as { warn?: unknown }).warn === 'function';
}
