import { WORKER_SOURCE } from './kernel-worker-source';
import { kernelImports, kernelModules, nodeBuiltin, wasmApi, type WasmMemory } from './wasm';

type WorkerThreads = typeof import('node:worker_threads');

/** Every kernel entry point, `module.function`; its index is what a worker is told to run. */
export const KERNEL_NAMES = [
  'token.probe',
  'token.token_fwd_f32',
  'token.token_fwd_f64',
  'token.token_fwd_online_f32',
  'token.token_fwd_online_f64',
  'token.token_bwd_f32',
  'token.token_bwd_f64',
  'token.row_max_abs_f32',
  'token.row_max_abs_f64',
  'linear.lin_fwd_f32',
  'linear.lin_fwd_f64',
  'linear.lin_bwd_f32',
  'linear.lin_bwd_f64',
  'linear.lin_reduce_f32',
  'linear.lin_reduce_f64',
  'linear.lin_gemm_f32',
  'linear.lin_gemm_f64',
] as const;
export type KernelName = (typeof KERNEL_NAMES)[number];

type KernelFn = (job: number, tid: number, nt: number) => void;

/** How long the first threaded job waits for the workers to start before leaving them out. */
const READY_MS = 20_000;

/**
 * The calling thread plus `threads − 1` Node worker threads, all with the kernels instantiated on
 * one shared memory. `run` posts a job (a function and the address of its parameter block), does
 * share 0 itself and waits (Atomics.wait) for the others; the workers are `unref`'d, so they never
 * keep a process alive, and `dispose` stops them.
 */
export class KernelPool {
  private readonly wanted: number;
  private ready = false;
  private active = 0;
  private readonly local: KernelFn[];
  private readonly workers: { terminate(): unknown }[] = [];
  private readonly control: Int32Array | null = null;
  private readonly message: Uint8Array | null = null;
  private disposed = false;

  constructor(memory: WasmMemory, shared: boolean, threads: number) {
    const modules = kernelModules(shared);
    const imports = kernelImports(memory);
    const Instance = wasmApi().Instance;
    const token = new Instance(modules.token, imports).exports as Record<string, KernelFn>;
    const linear = new Instance(modules.linear, imports).exports as Record<string, KernelFn>;
    // The exp / tanh constant table in the header (the kernels load it into registers).
    (token.init as unknown as () => void)();
    this.local = KERNEL_NAMES.map((name) => {
      const [m, f] = name.split('.');
      return (m === 'token' ? token : linear)[f];
    });
    const workerThreads = shared && threads > 1 ? nodeBuiltin<WorkerThreads>('node:worker_threads') : undefined;
    this.wanted = workerThreads ? Math.min(threads, 64) : 1;
    if (workerThreads) {
      this.control = new Int32Array(new SharedArrayBuffer(4 * 128));
      this.message = new Uint8Array(new SharedArrayBuffer(1024));
      for (let index = 1; index < this.wanted; index++) {
        const worker = new workerThreads.Worker(WORKER_SOURCE, {
          eval: true,
          // not the parent's flags (--input-type, loader hooks, ...): the worker source is plain CommonJS
          execArgv: [],
          workerData: { modules, memory, control: this.control, message: this.message, index, names: [...KERNEL_NAMES], generation: 0 },
        });
        worker.on('error', () => {});
        worker.unref();
        this.workers.push(worker);
      }
    }
  }

  /** Threads a job is split over: the workers that started, plus the calling thread. */
  get threads(): number {
    return this.ready ? 1 + this.active : this.wanted;
  }

  /**
   * Waits (once, up to READY_MS) for the workers to start; one that did not is stopped and left
   * out, so a job never waits for a thread that cannot run it.
   */
  whenReady(): void {
    if (this.ready || !this.control) return;
    const control = this.control;
    const deadline = Date.now() + READY_MS;
    for (let n = Atomics.load(control, 7); n < this.workers.length && Date.now() < deadline; n = Atomics.load(control, 7)) {
      Atomics.wait(control, 7, n, Math.max(1, deadline - Date.now()));
    }
    // A worker counts itself ready before it waits for jobs; the order it did so does not matter:
    // thread ids go to the first ones to be ready (all of them, normally).
    const started = Math.min(Atomics.load(control, 7), this.workers.length);
    if (started < this.workers.length) {
      for (const worker of this.workers) worker.terminate();
      this.workers.length = 0;
      this.active = 0;
    } else {
      for (let index = 1; index <= this.workers.length; index++) Atomics.store(control, 32 + index, index);
      this.active = this.workers.length;
    }
    this.ready = true;
  }

  /** Runs `name(job, tid, nt)` for tid in [0, nt), nt ≤ threads, and returns when all are done. */
  run(name: KernelName, job: number, nt: number): void {
    if (this.disposed) throw new Error('cpu kernels: used after dispose()');
    const fn = KERNEL_NAMES.indexOf(name);
    if (nt > 1) this.whenReady();
    const n = Math.max(1, Math.min(Math.floor(nt), this.threads));
    const control = this.control;
    if (n === 1 || !control || this.active === 0) {
      this.local[fn](job, 0, 1);
      return;
    }
    control[2] = fn;
    control[3] = job;
    control[4] = n;
    control[6] = 0;
    Atomics.store(control, 1, this.active);
    Atomics.add(control, 0, 1);
    Atomics.notify(control, 0);
    let error: unknown = null;
    try {
      this.local[fn](job, 0, n);
    } catch (e) {
      error = e;
    }
    for (let pending = Atomics.load(control, 1); pending !== 0; pending = Atomics.load(control, 1)) Atomics.wait(control, 1, pending);
    if (error) throw error;
    if (Atomics.load(control, 6) !== 0) {
      const bytes = this.message!;
      const end = bytes.indexOf(0);
      throw new Error(new TextDecoder().decode(bytes.slice(0, end < 0 ? bytes.length : end)));
    }
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.control) {
      Atomics.store(this.control, 5, 1);
      Atomics.add(this.control, 0, 1);
      Atomics.notify(this.control, 0);
    }
    for (const worker of this.workers) worker.terminate();
    this.workers.length = 0;
  }
}
