import { TOKEN_LOG_PROBS_WASM, TOKEN_LOG_PROBS_WASM_SHARED } from './token-log-probs-wasm';
import { WORKER_SOURCE } from './kernel-worker-source';

export type FloatArray = Float32Array | Float64Array;

/**
 * Fused token log-probs over rows of logits `[rows, vocab]`, in WebAssembly SIMD, split over
 * threads where the platform has them (Node worker threads sharing one memory).
 */
export interface TokenLogProbsKernel {
  readonly precision: 32 | 64;
  /** Threads the work is split over (1 = the calling thread only). */
  readonly threads: number;
  /** `logps[r] = z[r, label] − lse[r]` (0 where ignored) and the row log-sum-exps. */
  forward(logits: FloatArray, labels: Int32Array, vocab: number, ignoreIndex: number): { logps: FloatArray; lse: FloatArray };
  /** `grad[r, v] = up[r]·(onehot(label) − exp(z[r, v] − lse[r]))`, 0 rows where ignored. */
  backward(logits: FloatArray, labels: Int32Array, lse: FloatArray, upstream: FloatArray, vocab: number, ignoreIndex: number): FloatArray;
  /** Stops the worker threads. */
  dispose(): void;
}

export interface TokenLogProbsKernelOptions {
  readonly precision: 32 | 64;
  /** Threads to use (default: the machine's available parallelism in Node, else 1). */
  readonly threads?: number;
}

const PAGE = 65536;
/** Below this many logits, the work stays on the calling thread. */
const PARALLEL_THRESHOLD = 1 << 16;

interface KernelExports {
  lse_f32(logits: number, lse: number, row0: number, row1: number, vocab: number): void;
  lse_f64(logits: number, lse: number, row0: number, row1: number, vocab: number): void;
  grad_f32(logits: number, lse: number, up: number, labels: number, grad: number, row0: number, row1: number, vocab: number, ignore: number): void;
  grad_f64(logits: number, lse: number, up: number, labels: number, grad: number, row0: number, row1: number, vocab: number, ignore: number): void;
}

/** The part of the WebAssembly API used here (typed locally: no DOM lib needed). */
interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
  Memory: new (descriptor: { initial: number; maximum: number; shared?: boolean }) => WasmMemory;
}
const wasm = (): WasmApi => (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

type WorkerThreads = typeof import('node:worker_threads');
type OsModule = typeof import('node:os');

function nodeBuiltin<T>(name: string): T | undefined {
  const proc = (globalThis as { process?: { getBuiltinModule?: (name: string) => unknown } }).process;
  return proc?.getBuiltinModule?.(name) as T | undefined;
}

function decode(base64: string): Uint8Array {
  const binary = atob(base64);
  const bytes = new Uint8Array(new ArrayBuffer(binary.length));
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

let compiled: { shared: object; plain: object } | null = null;
function modules() {
  compiled ??= { shared: new (wasm().Module)(decode(TOKEN_LOG_PROBS_WASM_SHARED)), plain: new (wasm().Module)(decode(TOKEN_LOG_PROBS_WASM)) };
  return compiled;
}

/** Whether this platform runs the kernels (WebAssembly with SIMD). */
export function wasmSimdSupported(): boolean {
  try {
    modules();
    return true;
  } catch {
    return false;
  }
}

const align = (n: number) => (n + 15) & ~15;

class WasmTokenLogProbsKernel implements TokenLogProbsKernel {
  readonly threads: number;
  private readonly memory: WasmMemory;
  private readonly exports: KernelExports;
  private readonly workers: { terminate(): unknown }[] = [];
  /** [generation, pending, fn, args...]: the job the workers run next. */
  private readonly control: Int32Array | null = null;
  /**
   * The logits the last `forward` copied into wasm memory: the `backward` that follows it reuses
   * them instead of copying again. Every `forward` copies (the caller may have rewritten the
   * same array since), and a `backward` consumes the reuse.
   */
  private resident: FloatArray | null = null;

  constructor(readonly precision: 32 | 64, threads: number) {
    const workerThreads = threads > 1 ? nodeBuiltin<WorkerThreads>('node:worker_threads') : undefined;
    const shared = workerThreads !== undefined && typeof SharedArrayBuffer !== 'undefined';
    this.threads = shared ? threads : 1;
    this.memory = new (wasm().Memory)(shared ? { initial: 1, maximum: 65536, shared: true } : { initial: 1, maximum: 65536 });
    const module = shared ? modules().shared : modules().plain;
    this.exports = new (wasm().Instance)(module, { env: { memory: this.memory, log: Math.log } }).exports as unknown as KernelExports;
    if (shared) {
      this.control = new Int32Array(new SharedArrayBuffer(4 * 16));
      for (let index = 1; index < this.threads; index++) {
        const worker = new workerThreads!.Worker(WORKER_SOURCE, {
          eval: true,
          workerData: { module, memory: this.memory, control: this.control, index, threads: this.threads, generation: 0 },
        });
        worker.unref();
        this.workers.push(worker);
      }
    }
  }

  private ensure(bytes: number): void {
    const have = this.memory.buffer.byteLength;
    if (bytes > have) this.memory.grow(Math.ceil((bytes - have) / PAGE));
  }

  /** Runs kernel `fn` over `rows` rows, split over the threads. */
  private run(fn: 0 | 1, args: number[], rows: number, vocab: number): void {
    const name = (fn === 0 ? 'lse_f' : 'grad_f') + this.precision;
    const kernel = this.exports[name as keyof KernelExports] as (...a: number[]) => void;
    const call = (row0: number, row1: number) =>
      fn === 0 ? kernel(args[0], args[1], row0, row1, vocab) : kernel(args[0], args[1], args[2], args[3], args[4], row0, row1, vocab, args[5]);
    if (!this.control || rows * vocab < PARALLEL_THRESHOLD || rows < this.threads) {
      call(0, rows);
      return;
    }
    const control = this.control;
    control[2] = fn * 2 + (this.precision === 64 ? 1 : 0);
    control[3] = rows;
    control[4] = vocab;
    args.forEach((a, i) => (control[5 + i] = a));
    Atomics.store(control, 1, this.workers.length);
    Atomics.add(control, 0, 1);
    Atomics.notify(control, 0);
    call(0, Math.ceil(rows / this.threads));
    for (let pending = Atomics.load(control, 1); pending !== 0; pending = Atomics.load(control, 1)) {
      Atomics.wait(control, 1, pending);
    }
  }

  private layout(rows: number, vocab: number) {
    const item = this.precision / 8;
    const logits = 0;
    const labels = align(logits + rows * vocab * item);
    const lse = align(labels + rows * 4);
    const up = align(lse + rows * item);
    const grad = align(up + rows * item);
    return { logits, labels, lse, up, grad, end: grad + rows * vocab * item };
  }

  private view(offset: number, length: number): FloatArray {
    return this.precision === 32 ? new Float32Array(this.memory.buffer, offset, length) : new Float64Array(this.memory.buffer, offset, length);
  }

  private load(logits: FloatArray, labels: Int32Array, vocab: number, reuse: boolean) {
    const rows = labels.length;
    if (logits.length !== rows * vocab) throw new Error(`token kernel: ${logits.length} logits for ${rows} rows of ${vocab}`);
    const at = this.layout(rows, vocab);
    this.ensure(at.end);
    if (!reuse || this.resident !== logits) this.view(at.logits, logits.length).set(logits);
    this.resident = reuse ? null : logits;
    new Int32Array(this.memory.buffer, at.labels, rows).set(labels);
    return at;
  }

  forward(logits: FloatArray, labels: Int32Array, vocab: number, ignoreIndex: number) {
    const rows = labels.length;
    const at = this.load(logits, labels, vocab, false);
    this.run(0, [at.logits, at.lse], rows, vocab);
    const lse = this.view(at.lse, rows).slice();
    const logps = this.precision === 32 ? new Float32Array(rows) : new Float64Array(rows);
    for (let r = 0; r < rows; r++) {
      const label = labels[r];
      if (label !== ignoreIndex) logps[r] = logits[r * vocab + label] - lse[r];
    }
    return { logps, lse };
  }

  backward(logits: FloatArray, labels: Int32Array, lse: FloatArray, upstream: FloatArray, vocab: number, ignoreIndex: number) {
    const rows = labels.length;
    const at = this.load(logits, labels, vocab, true);
    this.view(at.lse, rows).set(lse);
    this.view(at.up, rows).set(upstream);
    this.run(1, [at.logits, at.lse, at.up, at.labels, at.grad, ignoreIndex], rows, vocab);
    return this.view(at.grad, rows * vocab).slice();
  }

  dispose(): void {
    if (this.control) {
      Atomics.store(this.control, 15, 1);
      Atomics.add(this.control, 0, 1);
      Atomics.notify(this.control, 0);
    }
    for (const worker of this.workers) worker.terminate();
    this.workers.length = 0;
    this.resident = null;
  }
}

/** A token log-prob kernel in the given precision (threads default to the available cores in Node). */
export function createTokenLogProbsKernel(options: TokenLogProbsKernelOptions): TokenLogProbsKernel {
  const os = nodeBuiltin<OsModule>('node:os');
  const threads = Math.max(1, Math.floor(options.threads ?? os?.availableParallelism?.() ?? 1));
  return new WasmTokenLogProbsKernel(options.precision, threads);
}
