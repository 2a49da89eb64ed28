import { PrefConfigError, type FloatArray, type HostArray, type Shape } from '@pref/core';
import { sizeOf } from '@pref/core/backend';
import { GraphRecorder } from './graph-recorder';
import { GraphTensor } from './graph-tensor';
import { planGraph, type GraphPlan } from './graph-plan';
import { lowerGraph } from './lower-graph';
import { encodeOnnxModel } from './encode-onnx-model';
import { providerName, type ExecutionProvider, type SkippedProvider } from './execution-providers';
import type { OrtRuntime, OrtSession, OrtTensor } from './ort-runtime';

export interface OnnxruntimeBackendOptions {
  /** `onnxruntime-node` or `onnxruntime-web` (see `createOnnxruntimeBackend`, which loads one). */
  readonly runtime: OrtRuntime;
  /** In priority order, as onnxruntime takes them (default `['cpu']`). */
  readonly executionProviders?: readonly ExecutionProvider[];
  /** Passed to `InferenceSession.create` (`intraOpNumThreads`, `graphOptimizationLevel`, ...). */
  readonly sessionOptions?: Readonly<Record<string, unknown>>;
  /** Compiled graphs kept; the least recently used is released beyond this (default 32). */
  readonly maxCachedSessions?: number;
  /** Providers asked for that could not start (reported by `skippedProviders`). */
  readonly skippedProviders?: readonly SkippedProvider[];
  /**
   * Write each session's outputs into buffers kept from its previous run of the same shapes
   * (onnxruntime `fetches`), so a loop of same-shaped calls allocates no new output buffers.
   * The arrays `read` returns are then valid until the next `read` of the same graph and
   * shapes, which overwrites them: copy what must outlive it. Default false (fresh arrays).
   */
  readonly reuseOutputs?: boolean;
}

/** Output tensors of a session's last run, reused by the next run of the same output shapes. */
interface OutputBuffers {
  readonly shapes: string;
  readonly tensors: Record<string, OrtTensor>;
}

interface CachedSession {
  readonly session: Promise<OrtSession>;
  readonly outputNames: readonly string[];
  running: number;
  evicted: boolean;
  outputs: OutputBuffers | null;
}

/** Native onnxruntime logs only fatal errors (failures reach the caller as exceptions). */
const QUIET = { logSeverityLevel: 4 } as const;
const BYTES: Record<string, number> = { float32: 4, int32: 4, int64: 8 };

/**
 * The onnxruntime backend: a lazy `PrefBackend` that records primitives and, on `read`,
 * compiles the forward and backward graph behind the tensors read into one ONNX model, runs
 * it in one `session.run`, and returns host arrays. Host data, fill values and every size are
 * graph inputs, so the compiled session is cached by the graph's structure alone and a
 * training loop compiles once, whatever its batch, sequence length or vocabulary.
 */
export class OnnxruntimeBackend extends GraphRecorder {
  readonly name: string;
  /** The execution providers sessions are created with, in priority order. */
  readonly executionProviders: readonly ExecutionProvider[];
  /** Providers that were asked for but skipped (with `fallback: true`), and why. */
  readonly skippedProviders: readonly SkippedProvider[];
  private readonly runtime: OrtRuntime;
  private readonly sessionOptions: Readonly<Record<string, unknown>>;
  private readonly maxCachedSessions: number;
  private readonly reuseOutputs: boolean;
  private readonly cache = new Map<string, CachedSession>();
  private created = 0;
  private runs = 0;
  private outputBytes = 0;
  /** `writeGradientInto` targets: of an input (and its reshapes), then of the gradient made for it (and its reshapes). */
  private readonly inputTargets = new WeakMap<GraphTensor, Float32Array>();
  private readonly outputTargets = new WeakMap<GraphTensor, Float32Array>();

  constructor(options: OnnxruntimeBackendOptions) {
    super();
    this.runtime = options.runtime;
    this.executionProviders = [...(options.executionProviders ?? ['cpu'])];
    this.skippedProviders = [...(options.skippedProviders ?? [])];
    this.sessionOptions = { ...(options.sessionOptions ?? {}) };
    this.maxCachedSessions = options.maxCachedSessions ?? 32;
    this.reuseOutputs = options.reuseOutputs ?? false;
    if (!(this.maxCachedSessions >= 1)) {
      throw new PrefConfigError('maxCachedSessions', `maxCachedSessions must be at least 1, got ${this.maxCachedSessions}`);
    }
    this.name = `onnxruntime:${providerName(this.executionProviders[0] ?? 'cpu')}`;
  }

  /** How many ONNX sessions this backend has compiled: one graph built and lowered per cache miss, none per call. */
  get sessionsCreated(): number {
    return this.created;
  }

  /** How many `session.run` calls this backend has made. */
  get sessionRuns(): number {
    return this.runs;
  }

  /**
   * Bytes of output buffers allocated so far: every output of every run, or with
   * `reuseOutputs` only the buffers created when a graph runs with new output shapes.
   */
  get outputBytesAllocated(): number {
    return this.outputBytes;
  }

  /** How many compiled sessions are cached now. */
  get cachedSessions(): number {
    return this.cache.size;
  }

  /**
   * Wraps an onnxruntime CPU tensor (`float32` or `int32`), e.g. a policy model's logits, as
   * an input without copying it; anything else gives `undefined`.
   */
  adopt(value: unknown, shape?: Shape): GraphTensor | undefined {
    const tensor = value as Partial<OrtTensor> & { location?: string };
    if (typeof value !== 'object' || value === null || !Array.isArray(tensor.dims) || typeof tensor.type !== 'string') return undefined;
    if (tensor.location !== undefined && tensor.location !== 'cpu') return undefined;
    const dims = shape ?? tensor.dims;
    if (tensor.type === 'float32' && tensor.data instanceof Float32Array) return this.fromHost(tensor.data, dims);
    if (tensor.type === 'int32' && tensor.data instanceof Int32Array) return this.fromHostInt(tensor.data, dims);
    return undefined;
  }

  /**
   * `valueAndGrad`'s `gradients` hint: the logits-path gradient of `input` is written by
   * onnxruntime straight into `target` (a `Float32Array`, given to `session.run` as that output's
   * pre-allocated tensor).
   */
  writeGradientInto(input: GraphTensor, target: FloatArray | null): void {
    if (target instanceof Float32Array && target.length === sizeOf(input.shape)) this.inputTargets.set(input, target);
    else this.inputTargets.delete(input);
  }

  override reshape(x: GraphTensor, shape: Shape): GraphTensor {
    const out = super.reshape(x, shape);
    const input = this.inputTargets.get(x);
    if (input) this.inputTargets.set(out, input);
    const output = this.outputTargets.get(x);
    if (output) this.outputTargets.set(out, output);
    return out;
  }

  override tokenLogProbsGrad(
    logits: GraphTensor,
    labels: GraphTensor,
    logSumExp: GraphTensor,
    upstream: GraphTensor,
    ignoreIndex: number,
  ): GraphTensor {
    const grad = super.tokenLogProbsGrad(logits, labels, logSumExp, upstream, ignoreIndex);
    const target = this.inputTargets.get(logits);
    if (target) {
      this.inputTargets.delete(logits);
      this.outputTargets.set(grad, target);
    }
    return grad;
  }

  async read(xs: readonly GraphTensor[]): Promise<HostArray[]> {
    if (xs.length === 0) return [];
    const plan = planGraph(xs);
    const entry = this.sessionFor(plan);
    entry.running++;
    try {
      const session = await entry.session;
      const feeds: Record<string, OrtTensor> = {};
      for (const feed of plan.feeds) feeds[feed.name] = new this.runtime.Tensor(feed.type, feed.data, feed.dims);
      // Concurrent runs of one session never share buffers: only a lone run reuses them.
      const reused = this.reuseOutputs && entry.running === 1 ? this.outputBuffers(entry, plan) : null;
      const fetches = this.withTargets(xs, plan, entry, reused);
      this.runs++;
      const ran = fetches ? await session.run(feeds, fetches, QUIET) : await session.run(feeds, QUIET);
      // Pre-allocated outputs were written in place: read them from the tensors passed.
      const results: Record<string, OrtTensor> = { ...ran };
      for (const [name, tensor] of Object.entries(fetches ?? {})) if (tensor) results[name] = tensor;
      const seen = new Set<number>();
      return plan.outputOf.map((position) => {
        const data = results[entry.outputNames[position]].data as Float32Array | Int32Array;
        if (!fetches?.[entry.outputNames[position]] && !seen.has(position)) this.outputBytes += data.byteLength;
        if (seen.has(position)) return data.slice();
        seen.add(position);
        return data;
      });
    } finally {
      entry.running--;
      if (entry.evicted && entry.running === 0) void releaseSession(entry);
    }
  }

  /**
   * The fetches of a run: the reused buffers (or `null`, onnxruntime allocates) with each output
   * that has a `writeGradientInto` target written into that target; null when there is nothing to pass.
   */
  private withTargets(
    xs: readonly GraphTensor[],
    plan: GraphPlan,
    entry: CachedSession,
    reused: Record<string, OrtTensor> | null,
  ): Record<string, OrtTensor | null> | null {
    const targets = xs.map((x) => this.outputTargets.get(x));
    if (!targets.some(Boolean)) return reused;
    const fetches: Record<string, OrtTensor | null> = {};
    for (const name of entry.outputNames) fetches[name] = reused?.[name] ?? null;
    xs.forEach((x, i) => {
      const target = targets[i];
      if (target) fetches[entry.outputNames[plan.outputOf[i]]] = new this.runtime.Tensor('float32', target, x.shape);
    });
    return fetches;
  }

  /** The session's output tensors for this plan's output shapes: kept ones when the shapes repeat. */
  private outputBuffers(entry: CachedSession, plan: GraphPlan): Record<string, OrtTensor> {
    const tensors = plan.outputs.map((nodeIndex) => plan.nodes[nodeIndex].tensor);
    const shapes = tensors.map((t) => `${t.dtype}[${t.shape.join(',')}]`).join(' ');
    if (entry.outputs?.shapes === shapes) return entry.outputs.tensors;
    const fetches: Record<string, OrtTensor> = {};
    tensors.forEach((tensor, position) => {
      const size = sizeOf(tensor.shape);
      const type = tensor.dtype === 'int32' ? 'int32' : 'float32';
      this.outputBytes += size * BYTES[type];
      const data = type === 'int32' ? new Int32Array(size) : new Float32Array(size);
      fetches[entry.outputNames[position]] = new this.runtime.Tensor(type, data, tensor.shape);
    });
    entry.outputs = { shapes, tensors: fetches };
    return fetches;
  }

  /** Releases every cached session; later reads compile again. */
  async releaseSessions(): Promise<void> {
    const entries = [...this.cache.values()];
    this.cache.clear();
    await Promise.all(
      entries.map((entry) => {
        entry.evicted = true;
        return entry.running === 0 ? releaseSession(entry) : undefined;
      }),
    );
  }

  private sessionFor(plan: GraphPlan): CachedSession {
    const cached = this.cache.get(plan.key);
    if (cached) {
      this.cache.delete(plan.key);
      this.cache.set(plan.key, cached);
      return cached;
    }
    const lowered = lowerGraph(plan);
    const bytes = encodeOnnxModel(lowered.model);
    const session = bytes.then((model) =>
      this.runtime.InferenceSession.create(model, { ...QUIET, ...this.sessionOptions, executionProviders: [...this.executionProviders] }),
    );
    const entry: CachedSession = { session, outputNames: lowered.outputNames, running: 0, evicted: false, outputs: null };
    this.created++;
    // A failed compile is not cached: the next read tries again (and reports the error again).
    session.catch(() => {
      if (this.cache.get(plan.key) === entry) this.cache.delete(plan.key);
    });
    this.cache.set(plan.key, entry);
    while (this.cache.size > this.maxCachedSessions) {
      const [oldestKey, oldest] = this.cache.entries().next().value as [string, CachedSession];
      this.cache.delete(oldestKey);
      oldest.evicted = true;
      if (oldest.running === 0) void releaseSession(oldest);
    }
    return entry;
  }
}

async function releaseSession(entry: CachedSession): Promise<void> {
  try {
    await (await entry.session).release?.();
  } catch {
    // A session that failed to compile has nothing to release.
  }
}

export { GraphTensor };
