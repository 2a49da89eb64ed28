import { Arena, type ArenaBlock, type BlockKind, type FloatArray, type FloatBlock, type Int32Block } from './arena';
import { KernelPool, type KernelName } from './pool';
import { nodeBuiltin, wasmSharedMemorySupported, wasmThreadsSupported } from './wasm';

/** A float tensor argument: an arena block, or a typed array of the kernels' precision (copied when not an arena view). */
export type FloatRef = FloatBlock | FloatArray;
/** An int32 tensor argument: an arena block or an Int32Array (copied when not an arena view). */
export type Int32Ref = Int32Block | Int32Array;

export interface CpuKernelsOptions {
  readonly precision: 32 | 64;
  /** Threads (default: the available parallelism in Node, else 1). More than 1 needs SharedArrayBuffer and Node worker threads; otherwise 1. */
  readonly threads?: number;
  /** Bytes the arena reserves up front (default 1 MiB; it grows as needed). */
  readonly initialBytes?: number;
  /** The arena's largest size (default 4 GiB, the wasm32 limit). */
  readonly maximumBytes?: number;
  /**
   * Keep the arena in a shared memory even on one thread (default: only with more than one
   * thread). Views of a shared memory stay valid when it grows, so callers can hold arena views as
   * tensor storage. Needs SharedArrayBuffer (`wasmSharedMemorySupported()`).
   */
  readonly sharedMemory?: boolean;
  /** The logits-path forward without a probs stash: `two-pass` (default) or `online` (see the README). */
  readonly tokenForwardVariant?: 'two-pass' | 'online';
}

export interface TokenForwardArgs {
  /** `[rows, vocab]` logits. */
  readonly logits: FloatRef;
  /** `[rows]` labels, each in [0, vocab) or `ignoreIndex`. */
  readonly labels: Int32Ref;
  readonly vocab: number;
  /** Default −100. */
  readonly ignoreIndex?: number;
  /** `[rows]` outputs; omitted ones come back as new typed arrays. */
  readonly logps?: FloatRef;
  readonly lse?: FloatRef;
  /** `true` or a `[rows]` output: also compute the entropy of the softmax. */
  readonly entropy?: FloatRef | boolean;
  /**
   * `[rows, vocab]`: also write the softmax p here (typically the block the gradient will be
   * written to); give it to `tokenBackward` as `probs` and the backward needs no exp.
   */
  readonly probs?: FloatRef;
  /** Overrides the kernels' `tokenForwardVariant`. */
  readonly variant?: 'two-pass' | 'online';
}
export interface TokenForwardResult {
  readonly logps: FloatRef;
  readonly lse: FloatRef;
  readonly entropy?: FloatRef;
}

export interface TokenBackwardArgs {
  /** Needed unless `probs` is given and there is no `gradEntropy`. */
  readonly logits?: FloatRef;
  readonly labels: Int32Ref;
  readonly vocab: number;
  readonly ignoreIndex?: number;
  /** The forward's residuals: `[rows]` lse, and entropy when `gradEntropy` is given. */
  readonly lse: FloatRef;
  readonly entropy?: FloatRef;
  /** `[rows]` upstream gradient of the log-probs. */
  readonly gradLogps: FloatRef;
  /** `[rows]` upstream gradient of the entropy. */
  readonly gradEntropy?: FloatRef;
  /** The softmax the forward wrote (`probs`); may be the `grad` block itself (overwritten in place). */
  readonly probs?: FloatRef;
  /** `[rows, vocab]` output: the gradient of the logits, written in place. */
  readonly grad: FloatRef;
}

interface LinearCommonArgs {
  /** `[rows, hiddenSize]` hidden states. */
  readonly hidden: FloatRef;
  /** `[vocab, hiddenSize]` LM head, row-major. */
  readonly weight: FloatRef;
  /** `[vocab]` bias. */
  readonly bias?: FloatRef;
  readonly labels: Int32Ref;
  readonly hiddenSize: number;
  /** Default: weight length / hiddenSize. */
  readonly vocab?: number;
  readonly ignoreIndex?: number;
  /** s in z = s·(h·Wᵀ + b) (default 1). */
  readonly logitScale?: number;
  /** c in z ← c·tanh(z/c), applied after the scale (default: none). */
  readonly softcap?: number;
  /** Vocabulary entries per chunk (rounded up to the GEMM panel width); default from `scratchBytes`. */
  readonly chunkSize?: number;
  /** Scratch budget for the chunk buffers of all threads (default 64 MiB). */
  readonly scratchBytes?: number;
}
export interface LinearForwardArgs extends LinearCommonArgs {
  readonly logps?: FloatRef;
  readonly lse?: FloatRef;
  readonly entropy?: FloatRef | boolean;
}
export interface LinearBackwardArgs extends LinearCommonArgs {
  readonly lse: FloatRef;
  readonly entropy?: FloatRef;
  readonly gradLogps: FloatRef;
  readonly gradEntropy?: FloatRef;
  /** `[rows, hiddenSize]`, `[vocab, hiddenSize]`, `[vocab]` outputs; omitted ones are not computed. */
  readonly gradHidden?: FloatRef;
  readonly gradWeight?: FloatRef;
  readonly gradBias?: FloatRef;
  /** Add into the gradient outputs instead of overwriting them (gradient accumulation). */
  readonly accumulate?: boolean;
}
export type LinearForwardResult = TokenForwardResult;

export interface MatmulArgs {
  readonly a: FloatBlock;
  readonly b: FloatBlock;
  readonly c: FloatBlock;
  readonly m: number;
  readonly n: number;
  readonly k: number;
  readonly aRowStride: number;
  readonly aColStride: number;
  readonly bRowStride?: number;
  readonly cRowStride?: number;
  readonly accumulate?: boolean;
}

export interface CpuKernels {
  readonly precision: 32 | 64;
  /** Threads the work is split over (1 = the calling thread only). */
  readonly threads: number;
  /** Where tensors live: allocate inputs and outputs here to pass them without copies. */
  readonly arena: Arena;
  tokenForward(args: TokenForwardArgs): TokenForwardResult;
  tokenBackward(args: TokenBackwardArgs): void;
  linearForward(args: LinearForwardArgs): LinearForwardResult;
  linearBackward(args: LinearBackwardArgs): void;
  /** The vocabulary chunk `linearForward` / `linearBackward` would use for `rows` active rows. */
  linearChunkSize(
    pass: 'forward' | 'backward',
    rows: number,
    hiddenSize: number,
    vocab: number,
    options?: { chunkSize?: number; scratchBytes?: number },
  ): number;
  /**
   * A plain GEMM on arena blocks (the comparison the benchmark makes; not on the loss path):
   * C[m × n] (+)= A[m × k]·B[k × n] with A(i, j) at `a[i·aRowStride + j·aColStride]` (so a
   * transposed A is a stride swap), B and C row-major with row strides `bRowStride`, `cRowStride`
   * (default n). Rows of C are split over the threads; k in blocks that keep B's block in L2.
   */
  matmul(args: MatmulArgs): void;
  /**
   * Benchmark helper: streams over arena blocks on `threads` threads (default all) — `read` (Σ a),
   * `copy` (b ← a), `triad` (c ← a + s·b), `write` (a ← const) — over the first `bytes` bytes
   * (rounded down to 64·threads), and returns the bytes moved (counted as read + written).
   */
  memoryProbe(
    mode: 'read' | 'copy' | 'triad' | 'write',
    bytes: number,
    a: ArenaBlock,
    b?: ArenaBlock,
    c?: ArenaBlock,
    threads?: number,
  ): number;
  /**
   * The largest `|x|` of each of `rows` rows of `width` values (NaN for a row holding a NaN), in
   * float64: the host check's scan for non-finite values, SIMD over the threads. A `data` outside
   * the arena is copied in first.
   */
  rowMaxAbs(data: FloatRef, rows: number, width: number): Float64Array;
  /** Stops the worker threads (the arena's memory stays readable). */
  dispose(): void;
}

/** Below this many logits, a token kernel stays on the calling thread. */
const TOKEN_PARALLEL = 1 << 16;
/** Below this many multiply-adds, a linear kernel stays on the calling thread. */
const LINEAR_PARALLEL = 1 << 20;
const DEFAULT_SCRATCH = 64 << 20;
/** The packed W chunk of one thread is kept under this (it is re-read for every row block). */
const CHUNK_CACHE_BYTES = 1 << 20;
/** The row block of the dW GEMM keeps its hidden rows and dpre rows under this. */
const DW_BLOCK_BYTES = 1 << 20;
/** The parameter block of a call (64 slots of 8 bytes) and the token backward's per-thread 16-byte tiles, in the arena's header. */
const JOB = 256;
const JOB_SLOTS = 64;
const TOKEN_TMP = 1024;
const align64 = (n: number) => Math.ceil(n / 64) * 64;

function isBlock(ref: unknown): ref is ArenaBlock {
  return typeof ref === 'object' && ref !== null && !ArrayBuffer.isView(ref) && 'offset' in ref && 'kind' in ref && 'view' in ref;
}

/** The arguments of one call: resolves refs to offsets, stages non-arena arrays, frees temporaries. */
class CallScope {
  private readonly temps: ArenaBlock[] = [];
  private readonly copyOuts: { block: ArenaBlock; target: FloatArray | Int32Array }[] = [];
  constructor(
    private readonly arena: Arena,
    private readonly where: string,
  ) {}

  temp(kind: BlockKind, length: number): ArenaBlock {
    const block = this.arena.allocate(kind, length);
    this.temps.push(block);
    return block;
  }
  /** Raw bytes (64-aligned). */
  bytes(n: number): ArenaBlock {
    return this.temp('int32', Math.ceil(n / 4));
  }

  private check(ref: unknown, kind: BlockKind, length: number, name: string): number | null {
    const precision = this.arena.precision;
    if (isBlock(ref)) {
      if (!this.arena.isLiveBlock(ref)) throw new Error(`${this.where}: ${name} is not a live block of these kernels' arena`);
      if (ref.kind !== kind) throw new TypeError(`${this.where}: ${name} must be a ${kind} block, got ${ref.kind}`);
      if (ref.length < length) throw new RangeError(`${this.where}: ${name} has ${ref.length} elements, needs ${length}`);
      return ref.offset;
    }
    if (!ArrayBuffer.isView(ref)) throw new TypeError(`${this.where}: ${name} must be an arena block or a typed array`);
    const ok = kind === 'int32' ? ref instanceof Int32Array : precision === 32 ? ref instanceof Float32Array : ref instanceof Float64Array;
    if (!ok)
      throw new TypeError(
        `${this.where}: ${name} must be ${kind === 'int32' ? 'an Int32Array' : precision === 32 ? 'a Float32Array' : 'a Float64Array'} (or an arena block)`,
      );
    const array = ref as FloatArray | Int32Array;
    if (array.buffer.byteLength === 0 && length > 0)
      throw new Error(`${this.where}: ${name} is a detached view (the arena's memory grew): read block.view again`);
    if (array.length !== length) throw new RangeError(`${this.where}: ${name} has ${array.length} elements, expected ${length}`);
    const location = this.arena.ownsView(array);
    return location && location.block ? location.offset : null;
  }

  /** The offset of an input (a non-arena array is copied in). */
  input(ref: unknown, kind: BlockKind, length: number, name: string): number {
    const offset = this.check(ref, kind, length, name);
    if (offset !== null) return offset;
    const block = this.temp(kind, length);
    (block.view as FloatArray).set(ref as FloatArray);
    this.arena.noteStaged(block.byteLength);
    return block.offset;
  }

  /** The offset of an output (a non-arena array gets a temporary, copied out by `finish`; `copyIn` also copies its contents in). */
  output(ref: unknown, kind: BlockKind, length: number, name: string, copyIn = false): number {
    const offset = this.check(ref, kind, length, name);
    if (offset !== null) return offset;
    const block = this.temp(kind, length);
    if (copyIn) {
      (block.view as FloatArray).set(ref as FloatArray);
      this.arena.noteStaged(block.byteLength);
    }
    this.copyOuts.push({ block, target: ref as FloatArray });
    return block.offset;
  }

  finish(): void {
    for (const { block, target } of this.copyOuts) {
      (target as FloatArray).set(block.view as FloatArray);
      this.arena.noteStaged(block.byteLength);
    }
  }

  release(): void {
    for (const block of this.temps) block.free();
    this.temps.length = 0;
  }
}

class WasmCpuKernels implements CpuKernels {
  readonly arena: Arena;
  private readonly pool: KernelPool;
  private readonly suffix: 'f32' | 'f64';
  private readonly size: 4 | 8;
  private readonly panel: number;
  private readonly variant: 'two-pass' | 'online';
  private jobViews: { generation: number; i32: Int32Array; f64: Float64Array } | null = null;

  constructor(
    readonly precision: 32 | 64,
    options: CpuKernelsOptions,
  ) {
    const os = nodeBuiltin<typeof import('node:os')>('node:os');
    const wanted = Math.max(1, Math.floor(options.threads ?? os?.availableParallelism?.() ?? 1));
    const variant = options.tokenForwardVariant ?? 'two-pass';
    if (variant !== 'two-pass' && variant !== 'online')
      throw new Error(`cpu kernels: tokenForwardVariant must be two-pass or online, got ${String(variant)}`);
    this.variant = variant;
    const threaded = wanted > 1 && wasmThreadsSupported();
    if (options.sharedMemory && !wasmSharedMemorySupported())
      throw new Error('cpu kernels: sharedMemory needs SharedArrayBuffer and shared WebAssembly memories, which this platform lacks');
    const shared = threaded || options.sharedMemory === true;
    this.arena = new Arena({ precision, shared, initialBytes: options.initialBytes, maximumBytes: options.maximumBytes });
    this.pool = new KernelPool(this.arena.memory, shared, threaded ? wanted : 1);
    this.suffix = precision === 32 ? 'f32' : 'f64';
    this.size = precision === 32 ? 4 : 8;
    this.panel = precision === 32 ? 8 : 4;
  }

  get threads(): number {
    return this.pool.threads;
  }

  /** Threads for a job of `limit` parts (1 unless `parallel`); waits for the workers the first time. */
  private split(parallel: boolean, limit: number): number {
    if (!parallel || this.pool.threads === 1) return 1;
    this.pool.whenReady();
    return Math.max(1, Math.min(this.pool.threads, limit));
  }

  /** Writes a parameter block (numbers as i32 slots, { f64 } as f64 slots) and returns its address. */
  private job(values: (number | { f64: number })[]): number {
    const generation = this.arena.generation;
    if (!this.jobViews || this.jobViews.generation !== generation) {
      const buffer = this.arena.buffer;
      this.jobViews = { generation, i32: new Int32Array(buffer, JOB, JOB_SLOTS * 2), f64: new Float64Array(buffer, JOB, JOB_SLOTS) };
    }
    const { i32, f64 } = this.jobViews;
    i32.fill(0);
    values.forEach((value, slot) => {
      if (typeof value === 'number') i32[slot * 2] = value | 0;
      else f64[slot] = value.f64;
    });
    return JOB;
  }

  private run(name: string, job: number, nt: number): void {
    this.pool.run(`${name}_${this.suffix}` as KernelName, job, nt);
  }

  private floats(offset: number, length: number): FloatArray {
    return this.arena.typedView('float', offset, length) as FloatArray;
  }
  private ints(offset: number, length: number): Int32Array {
    return this.arena.typedView('int32', offset, length) as Int32Array;
  }

  private rowsOf(where: string, labels: Int32Ref, vocab: number): number {
    if (!labels || (!isBlock(labels) && !(labels instanceof Int32Array)))
      throw new TypeError(`${where}: labels must be an Int32Array or an int32 arena block`);
    if (!Number.isInteger(vocab) || vocab < 1) throw new RangeError(`${where}: vocab must be a positive integer, got ${vocab}`);
    const rows = labels.length;
    if (rows * vocab * this.size > 2 ** 32) throw new RangeError(`${where}: ${rows}×${vocab} does not fit a 4 GiB WebAssembly memory`);
    return rows;
  }

  private checkLabels(where: string, labels: Int32Array, vocab: number, ignore: number): void {
    for (let r = 0; r < labels.length; r++) {
      const y = labels[r];
      if (y !== ignore && (y < 0 || y >= vocab))
        throw new RangeError(`${where}: labels[${r}] = ${y} is outside [0, ${vocab}) and not the ignore index ${ignore}`);
    }
  }

  private outputsOf(scope: CallScope, rows: number, args: { logps?: FloatRef; lse?: FloatRef; entropy?: FloatRef | boolean }) {
    const Float = this.precision === 32 ? Float32Array : Float64Array;
    const logps = args.logps ?? new Float(rows);
    const lse = args.lse ?? new Float(rows);
    const entropy = args.entropy === true ? new Float(rows) : args.entropy ? args.entropy : undefined;
    return {
      refs: { logps, lse, ...(entropy ? { entropy } : {}) } as TokenForwardResult,
      lp: scope.output(logps, 'float', rows, 'logps'),
      ls: scope.output(lse, 'float', rows, 'lse'),
      en: entropy ? scope.output(entropy, 'float', rows, 'entropy') : 0,
    };
  }

  tokenForward(args: TokenForwardArgs): TokenForwardResult {
    const where = 'tokenForward';
    const rows = this.rowsOf(where, args.labels, args.vocab);
    const vocab = args.vocab;
    const ignore = args.ignoreIndex ?? -100;
    const scope = new CallScope(this.arena, where);
    try {
      const z = scope.input(args.logits, 'float', rows * vocab, 'logits');
      const lab = scope.input(args.labels, 'int32', rows, 'labels');
      const out = this.outputsOf(scope, rows, args);
      const pr = args.probs ? scope.output(args.probs, 'float', rows * vocab, 'probs') : 0;
      this.checkLabels(where, this.ints(lab, rows), vocab, ignore);
      const variant = args.variant ?? this.variant;
      const job = this.job([z, lab, out.lp, out.ls, out.en, pr, rows, vocab, ignore]);
      const nt = this.split(rows * vocab >= TOKEN_PARALLEL, rows);
      if (rows > 0) this.run(variant === 'online' ? 'token.token_fwd_online' : 'token.token_fwd', job, nt);
      scope.finish();
      return out.refs;
    } finally {
      scope.release();
    }
  }

  rowMaxAbs(data: FloatRef, rows: number, width: number): Float64Array {
    const where = 'rowMaxAbs';
    if (!Number.isInteger(rows) || rows < 0 || !Number.isInteger(width) || width < 1)
      throw new RangeError(`${where}: rows and width must be integers (rows ≥ 0, width ≥ 1), got ${rows} × ${width}`);
    const scope = new CallScope(this.arena, where);
    try {
      const z = scope.input(data, 'float', rows * width, 'data');
      const out = scope.bytes(rows * 8);
      const nt = this.split(rows * width >= TOKEN_PARALLEL, rows);
      if (rows > 0) this.pool.run(`token.row_max_abs_${this.suffix}`, this.job([z, out.offset, rows, width]), nt);
      return new Float64Array(this.arena.buffer, out.offset, rows).slice();
    } finally {
      scope.release();
    }
  }

  tokenBackward(args: TokenBackwardArgs): void {
    const where = 'tokenBackward';
    const rows = this.rowsOf(where, args.labels, args.vocab);
    const vocab = args.vocab;
    const ignore = args.ignoreIndex ?? -100;
    if (args.gradEntropy && !args.entropy) throw new Error(`${where}: gradEntropy needs the forward's entropy`);
    if (!args.logits && (!args.probs || args.gradEntropy))
      throw new Error(`${where}: logits are needed unless probs are given and there is no gradEntropy`);
    const scope = new CallScope(this.arena, where);
    try {
      const z = args.logits ? scope.input(args.logits, 'float', rows * vocab, 'logits') : 0;
      const lab = scope.input(args.labels, 'int32', rows, 'labels');
      const ls = scope.input(args.lse, 'float', rows, 'lse');
      const ge = args.gradEntropy ? scope.input(args.gradEntropy, 'float', rows, 'gradEntropy') : 0;
      const en = args.gradEntropy ? scope.input(args.entropy, 'float', rows, 'entropy') : 0;
      const gu = scope.input(args.gradLogps, 'float', rows, 'gradLogps');
      const pr = args.probs ? scope.input(args.probs, 'float', rows * vocab, 'probs') : 0;
      const g = scope.output(args.grad, 'float', rows * vocab, 'grad');
      this.checkLabels(where, this.ints(lab, rows), vocab, ignore);
      const job = this.job([z, lab, ls, en, gu, ge, pr, g, rows, vocab, ignore, TOKEN_TMP]);
      const nt = this.split(rows * vocab >= TOKEN_PARALLEL, rows);
      if (rows > 0) this.run('token.token_bwd', job, nt);
      scope.finish();
    } finally {
      scope.release();
    }
  }

  linearChunkSize(
    pass: 'forward' | 'backward',
    rows: number,
    hiddenSize: number,
    vocab: number,
    options: { chunkSize?: number; scratchBytes?: number } = {},
  ): number {
    const pw = this.panel;
    const full = Math.ceil(vocab / pw) * pw;
    if (options.chunkSize !== undefined) {
      if (!(options.chunkSize >= 1)) throw new RangeError(`chunkSize must be ≥ 1, got ${options.chunkSize}`);
      return Math.min(full, Math.ceil(options.chunkSize / pw) * pw);
    }
    const budget = options.scratchBytes ?? DEFAULT_SCRATCH;
    const nt = this.threads;
    // Scratch per chunk column and thread: the backward keeps dpre [rows × chunk] and the packed
    // chunk [hidden × chunk]; the forward the packed chunk and a 4-row tile.
    const perColumn = (pass === 'backward' ? rows + hiddenSize + 2 : hiddenSize + 6) * this.size;
    let chunk = Math.min(Math.floor(budget / nt / perColumn), Math.floor(CHUNK_CACHE_BYTES / (hiddenSize * this.size)));
    // The backward splits chunks over the threads: give every thread one.
    if (pass === 'backward') chunk = Math.min(chunk, Math.ceil(vocab / nt));
    return Math.min(full, Math.max(pw, Math.floor(chunk / pw) * pw));
  }

  private linearDims(where: string, args: LinearCommonArgs) {
    const H = args.hiddenSize;
    if (!Number.isInteger(H) || H < 1) throw new RangeError(`${where}: hiddenSize must be a positive integer, got ${H}`);
    const V = args.vocab ?? args.weight.length / H;
    const rows = this.rowsOf(where, args.labels, V);
    const scale = args.logitScale ?? 1;
    const cap = args.softcap ?? 0;
    if (!Number.isFinite(scale)) throw new RangeError(`${where}: logitScale must be finite, got ${scale}`);
    if (!(cap === 0 || (cap > 0 && Number.isFinite(cap)))) throw new RangeError(`${where}: softcap must be a positive number, got ${cap}`);
    if (rows * H * this.size > 2 ** 32 || V * H * this.size > 2 ** 32)
      throw new RangeError(`${where}: the tensors do not fit a 4 GiB WebAssembly memory`);
    return { rows, H, V, scale, cap, ignore: args.ignoreIndex ?? -100 };
  }

  /** The active rows of hidden in a compact temporary (or hidden itself when every row is active). */
  private compactHidden(scope: CallScope, hid: number, rows: number, H: number, active: Int32Array): number {
    const Ra = active.length;
    if (Ra === rows) return hid;
    const hc = scope.temp('float', Ra * H);
    const src = this.floats(hid, rows * H);
    const dst = this.floats(hc.offset, Ra * H);
    for (let i = 0; i < Ra; i++) dst.set(src.subarray(active[i] * H, active[i] * H + H), i * H);
    return hc.offset;
  }

  /** A compact copy of the active entries of a `[rows]` array. */
  private gather(scope: CallScope, from: number, rows: number, active: Int32Array, kind: BlockKind): number {
    const block = scope.temp(kind, active.length);
    const src = kind === 'int32' ? this.ints(from, rows) : this.floats(from, rows);
    const dst = kind === 'int32' ? this.ints(block.offset, active.length) : this.floats(block.offset, active.length);
    for (let i = 0; i < active.length; i++) dst[i] = src[active[i]];
    return block.offset;
  }

  /** out[r] = compact[i] for active rows r = active[i], 0 elsewhere. */
  private scatter(rows: number, active: Int32Array, pairs: [number, number][]): void {
    for (const [from, to] of pairs) {
      const src = this.floats(from, active.length);
      const dst = this.floats(to, rows);
      dst.fill(0);
      for (let i = 0; i < active.length; i++) dst[active[i]] = src[i];
    }
  }

  linearForward(args: LinearForwardArgs): LinearForwardResult {
    const where = 'linearForward';
    const { rows, H, V, scale, cap, ignore } = this.linearDims(where, args);
    const scope = new CallScope(this.arena, where);
    try {
      const hid = scope.input(args.hidden, 'float', rows * H, 'hidden');
      const w = scope.input(args.weight, 'float', V * H, 'weight');
      const b = args.bias ? scope.input(args.bias, 'float', V, 'bias') : 0;
      const lab = scope.input(args.labels, 'int32', rows, 'labels');
      const out = this.outputsOf(scope, rows, args);
      const labels = this.ints(lab, rows);
      this.checkLabels(where, labels, V, ignore);
      const activeList: number[] = [];
      for (let r = 0; r < rows; r++) if (labels[r] !== ignore) activeList.push(r);
      const active = Int32Array.from(activeList);
      const Ra = active.length;
      if (Ra > 0) {
        const pw = this.panel;
        const chunk = this.linearChunkSize('forward', Ra, H, V, args);
        const vcp = Math.ceil(chunk / pw) * pw;
        const nt = this.split(Ra * V * H >= LINEAR_PARALLEL, Math.ceil(Ra / 4));
        const wpBytes = align64(vcp * H * this.size);
        const tileBytes = align64(4 * vcp * this.size);
        const stride = wpBytes + tileBytes + 256;
        const scratch = scope.bytes(stride * nt).offset;
        const zeros = scope.temp('float', vcp + pw);
        if (!b) this.floats(zeros.offset, vcp + pw).fill(0);
        const state = scope.bytes(Ra * 32).offset;
        const compact = Ra < rows;
        const hc = this.compactHidden(scope, hid, rows, H, active);
        const labc = compact ? this.gather(scope, lab, rows, active, 'int32') : lab;
        const cls = compact ? scope.temp('float', Ra).offset : out.ls;
        const clp = compact ? scope.temp('float', Ra).offset : out.lp;
        const cen = out.en ? (compact ? scope.temp('float', Ra).offset : out.en) : 0;
        const job = this.job([
          hc,
          w,
          b,
          Ra,
          H,
          V,
          chunk,
          labc,
          cls,
          clp,
          cen,
          scratch,
          scratch + wpBytes,
          scratch + wpBytes + tileBytes,
          stride,
          state,
          { f64: scale },
          { f64: cap },
          zeros.offset,
        ]);
        this.run('linear.lin_fwd', job, nt);
        if (compact) this.scatter(rows, active, [[cls, out.ls], [clp, out.lp], ...(out.en ? [[cen, out.en] as [number, number]] : [])]);
      } else {
        for (const o of [out.ls, out.lp, out.en]) if (o) this.floats(o, rows).fill(0);
      }
      scope.finish();
      return out.refs;
    } finally {
      scope.release();
    }
  }

  linearBackward(args: LinearBackwardArgs): void {
    const where = 'linearBackward';
    const { rows, H, V, scale, cap, ignore } = this.linearDims(where, args);
    if (args.gradEntropy && !args.entropy) throw new Error(`${where}: gradEntropy needs the forward's entropy`);
    const accumulate = args.accumulate === true;
    const scope = new CallScope(this.arena, where);
    try {
      const hid = scope.input(args.hidden, 'float', rows * H, 'hidden');
      const w = scope.input(args.weight, 'float', V * H, 'weight');
      const b = args.bias ? scope.input(args.bias, 'float', V, 'bias') : 0;
      const lab = scope.input(args.labels, 'int32', rows, 'labels');
      const ls = scope.input(args.lse, 'float', rows, 'lse');
      const gu = scope.input(args.gradLogps, 'float', rows, 'gradLogps');
      const ge = args.gradEntropy ? scope.input(args.gradEntropy, 'float', rows, 'gradEntropy') : 0;
      const en = args.gradEntropy ? scope.input(args.entropy, 'float', rows, 'entropy') : 0;
      const gH = args.gradHidden ? scope.output(args.gradHidden, 'float', rows * H, 'gradHidden', accumulate) : 0;
      const gW = args.gradWeight ? scope.output(args.gradWeight, 'float', V * H, 'gradWeight', accumulate) : 0;
      const gB = args.gradBias ? scope.output(args.gradBias, 'float', V, 'gradBias', accumulate) : 0;
      const labels = this.ints(lab, rows);
      this.checkLabels(where, labels, V, ignore);
      const u = this.floats(gu, rows);
      const e = ge ? this.floats(ge, rows) : null;
      const activeList: number[] = [];
      for (let r = 0; r < rows; r++) if (labels[r] !== ignore && (u[r] !== 0 || (e !== null && e[r] !== 0))) activeList.push(r);
      const active = Int32Array.from(activeList);
      const Ra = active.length;
      if (!accumulate) {
        if (gH) {
          const view = this.floats(gH, rows * H);
          let next = 0;
          for (let r = 0; r < rows; r++) {
            if (next < Ra && active[next] === r) next++;
            else view.fill(0, r * H, r * H + H);
          }
        }
        if (Ra === 0) {
          if (gW) this.floats(gW, V * H).fill(0);
          if (gB) this.floats(gB, V).fill(0);
        }
      }
      if (Ra > 0 && (gH || gW || gB)) {
        const pw = this.panel;
        const chunk = this.linearChunkSize('backward', Ra, H, V, args);
        const vcp = Math.ceil(chunk / pw) * pw;
        const chunks = Math.ceil(V / chunk);
        const nt = this.split(Ra * V * H >= LINEAR_PARALLEL, chunks);
        const wpBytes = align64(vcp * H * this.size);
        const dpBytes = align64(Ra * vcp * this.size);
        const dbBytes = align64(vcp * this.size);
        const stride = wpBytes + dpBytes + dbBytes + 256;
        const scratch = scope.bytes(stride * nt).offset;
        const partStride = align64(Ra * H * this.size);
        const parts = gH ? scope.bytes(partStride * nt).offset : 0;
        const zeros = scope.temp('float', vcp + pw);
        if (!b) this.floats(zeros.offset, vcp + pw).fill(0);
        const compact = Ra < rows;
        const hc = this.compactHidden(scope, hid, rows, H, active);
        const labc = compact ? this.gather(scope, lab, rows, active, 'int32') : lab;
        const lsc = compact ? this.gather(scope, ls, rows, active, 'float') : ls;
        const uc = compact ? this.gather(scope, gu, rows, active, 'float') : gu;
        const ec = ge ? (compact ? this.gather(scope, ge, rows, active, 'float') : ge) : 0;
        const enc = ge ? (compact ? this.gather(scope, en, rows, active, 'float') : en) : 0;
        const rb = Math.max(4, Math.min(Ra, Math.floor(DW_BLOCK_BYTES / ((H + vcp) * this.size))));
        const job = this.job([
          hc,
          w,
          b,
          Ra,
          H,
          V,
          chunk,
          labc,
          lsc,
          enc,
          uc,
          ec,
          gW,
          gB,
          parts,
          partStride,
          scratch,
          scratch + wpBytes,
          zeros.offset,
          scratch + wpBytes + dpBytes,
          scratch + wpBytes + dpBytes + dbBytes,
          stride,
          { f64: scale },
          { f64: cap },
          accumulate ? 1 : 0,
          rb,
        ]);
        this.run('linear.lin_bwd', job, nt);
        if (gH) {
          let act = 0;
          if (compact) {
            const block = scope.temp('int32', Ra);
            this.ints(block.offset, Ra).set(active);
            act = block.offset;
          }
          const reduce = this.job([parts, partStride, nt, Ra, H, gH, act, accumulate ? 1 : 0]);
          this.run('linear.lin_reduce', reduce, this.split(Ra * H >= TOKEN_PARALLEL, Ra));
        }
      }
      scope.finish();
    } finally {
      scope.release();
    }
  }

  matmul(args: MatmulArgs): void {
    const { a, b, c, m, n, k } = args;
    const bRow = args.bRowStride ?? n;
    const cRow = args.cRowStride ?? n;
    for (const [x, name] of [
      [a, 'a'],
      [b, 'b'],
      [c, 'c'],
    ] as const)
      if (!this.arena.isLiveBlock(x) || x.kind !== 'float')
        throw new Error(`matmul: ${name} must be a live float block of these kernels' arena`);
    const span = (rows: number, cols: number, rs: number, cs: number) => (rows - 1) * rs + (cols - 1) * cs + 1;
    if (span(m, k, args.aRowStride, args.aColStride) > a.length || span(k, n, bRow, 1) > b.length || span(m, n, cRow, 1) > c.length)
      throw new RangeError('matmul: a block is smaller than its strides reach');
    const sz = this.size;
    const kb = Math.max(16, Math.min(k, Math.floor((1 << 20) / (n * sz))));
    const nt = this.split(m * n * k >= LINEAR_PARALLEL, Math.ceil(m / 4));
    const scratch = this.arena.allocate('int32', 32 * nt);
    try {
      const job = this.job([
        a.offset,
        args.aRowStride * sz,
        args.aColStride * sz,
        b.offset,
        bRow * sz,
        c.offset,
        cRow * sz,
        m,
        n,
        k,
        args.accumulate ? 1 : 0,
        kb,
        scratch.offset,
      ]);
      this.run('linear.lin_gemm', job, nt);
    } finally {
      scratch.free();
    }
  }

  memoryProbe(
    mode: 'read' | 'copy' | 'triad' | 'write',
    bytes: number,
    a: ArenaBlock,
    b?: ArenaBlock,
    c?: ArenaBlock,
    threads = this.threads,
  ): number {
    const nt = this.split(threads > 1, Math.floor(threads));
    const n = Math.floor(bytes / (64 * nt)) * 64 * nt;
    const code = { read: 0, copy: 1, triad: 2, write: 3 }[mode];
    const need = [a, mode === 'copy' || mode === 'triad' ? b : a, mode === 'triad' || mode === 'read' ? c : a];
    for (const block of need) {
      if (!block || !this.arena.isLiveBlock(block))
        throw new Error(
          `memoryProbe: ${mode} needs live arena blocks (a${mode === 'copy' ? ', b' : mode === 'triad' ? ', b, c' : mode === 'read' ? ', c (16·threads bytes)' : ''})`,
        );
    }
    for (const [block, size] of [
      [a, n],
      [b, mode === 'copy' || mode === 'triad' ? n : 0],
      [c, mode === 'triad' ? n : mode === 'read' ? 16 * nt : 0],
    ] as const) {
      if (block && block.byteLength < size)
        throw new RangeError(`memoryProbe: a block of ${block.byteLength} bytes is smaller than ${size}`);
    }
    this.pool.run('token.probe', this.job([code, a.offset, b?.offset ?? 0, c?.offset ?? 0, n]), nt);
    return mode === 'read' || mode === 'write' ? n : mode === 'copy' ? 2 * n : 3 * n;
  }

  dispose(): void {
    this.pool.dispose();
  }
}

/** The WebAssembly SIMD kernels in one precision, with their arena and (in Node) worker threads. */
export function createCpuKernels(options: CpuKernelsOptions): CpuKernels {
  if (!options || (options.precision !== 32 && options.precision !== 64))
    throw new Error(`cpu kernels: precision must be 32 or 64, got ${String(options?.precision)}`);
  return new WasmCpuKernels(options.precision, options);
}
