import type { HostArray, Shape } from '@pref/core';
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
}

interface CachedSession {
  readonly session: Promise<OrtSession>;
  readonly outputNames: readonly string[];
  running: number;
  evicted: boolean;
}

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
  private readonly cache = new Map<string, CachedSession>();
  private created = 0;
  private runs = 0;

  constructor(options: OnnxruntimeBackendOptions) {
    super();
    this.runtime = options.runtime;
    this.executionProviders = [...(options.executionProviders ?? ['cpu'])];
    this.skippedProviders = [...(options.skippedProviders ?? [])];
    this.sessionOptions = { ...(options.sessionOptions ?? {}) };
    this.maxCachedSessions = options.maxCachedSessions ?? 32;
    if (!(this.maxCachedSessions >= 1)) throw new Error(`maxCachedSessions must be at least 1, got ${this.maxCachedSessions}`);
    this.name = `onnxruntime:${providerName(this.executionProviders[0] ?? 'cpu')}`;
  }

  /** How many ONNX sessions this backend has compiled (a cache miss each). */
  get sessionsCreated(): number {
    return this.created;
  }

  /** How many `session.run` calls this backend has made. */
  get sessionRuns(): number {
    return this.runs;
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

  async read(xs: readonly GraphTensor[]): Promise<HostArray[]> {
    if (xs.length === 0) return [];
    const plan = planGraph(xs);
    const entry = this.sessionFor(plan);
    entry.running++;
    try {
      const session = await entry.session;
      const { outputNames } = entry;
      const feeds: Record<string, OrtTensor> = {};
      for (const feed of plan.feeds) feeds[feed.name] = new this.runtime.Tensor(feed.type, feed.data, feed.dims);
      this.runs++;
      const results = await session.run(feeds);
      const seen = new Set<number>();
      return plan.outputOf.map((position) => {
        const data = results[outputNames[position]].data as Float32Array | Int32Array;
        if (seen.has(position)) return data.slice();
        seen.add(position);
        return data;
      });
    } finally {
      entry.running--;
      if (entry.evicted && entry.running === 0) void releaseSession(entry);
    }
  }

  /** Releases every cached session; later reads compile again. */
  async releaseSessions(): Promise<void> {
    const entries = [...this.cache.values()];
    this.cache.clear();
    await Promise.all(entries.map((entry) => {
      entry.evicted = true;
      return entry.running === 0 ? releaseSession(entry) : undefined;
    }));
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
      this.runtime.InferenceSession.create(model, { ...this.sessionOptions, executionProviders: [...this.executionProviders] }),
    );
    const entry: CachedSession = { session, outputNames: lowered.outputNames, running: 0, evicted: false };
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
