import { MAX_PAGES, PAGE_BYTES, wasmApi, type WasmMemory } from './wasm';

export type FloatArray = Float32Array | Float64Array;
export type BlockKind = 'float' | 'int32';

/**
 * A block of the arena: `length` elements at byte `offset` of the kernels' memory.
 * `view` is a typed array over exactly the block, valid when read: re-read it after anything that
 * may grow the arena (an `allocate`, a kernel call that needs scratch) — with a shared memory the
 * old view stays valid too, with a plain one it is detached by the growth.
 */
export interface ArenaBlock<T extends FloatArray | Int32Array = FloatArray | Int32Array> {
  readonly kind: BlockKind;
  /** Byte offset in the memory (a multiple of 64). */
  readonly offset: number;
  /** Elements. */
  readonly length: number;
  /** `length` × the element size. */
  readonly byteLength: number;
  /** Bytes held (the size class: ≥ byteLength). */
  readonly capacity: number;
  readonly view: T;
  /** False once freed. */
  readonly live: boolean;
  /** Returns the block to its size class's free list (idempotent). */
  free(): void;
}
export type FloatBlock = ArenaBlock<FloatArray>;
export type Int32Block = ArenaBlock<Int32Array>;

export interface ArenaStats {
  /** Bytes of the memory (what the process holds for the arena, header included). */
  readonly reservedBytes: number;
  /** Bytes of live blocks (their size classes). */
  readonly bytesInUse: number;
  /** The largest `bytesInUse` since creation or `resetPeak()`. */
  readonly peakBytesInUse: number;
  /** `memory.grow` calls. */
  readonly grows: number;
  /** Blocks carved from fresh memory (an allocation that reused a freed block does not count). */
  readonly blocksCreated: number;
  /** Of those, the blocks of at least 1 MiB, and their bytes (capacities). */
  readonly largeBlocksCreated: number;
  readonly largeBlockBytes: number;
  /** `allocate` calls. */
  readonly allocations: number;
  /** Allocations served from a free list. */
  readonly reuses: number;
  readonly liveBlocks: number;
  readonly freeBlocks: number;
  /** Bytes the kernels copied in or out for arguments that were not arena memory. */
  readonly stagedBytes: number;
}

/** Where a typed array lies in the arena (`ownsView`). */
export interface ArenaLocation {
  /** Byte offset in the memory. */
  readonly offset: number;
  readonly byteLength: number;
  /** The live block containing it, or null (a view of freed or header memory). */
  readonly block: ArenaBlock | null;
}

export interface ArenaOptions {
  readonly precision: 32 | 64;
  /** A shared memory (for worker threads; needs SharedArrayBuffer). Default false. */
  readonly shared?: boolean;
  /** Bytes reserved up front (default 1 MiB). */
  readonly initialBytes?: number;
  /** Largest memory (default and limit 4 GiB). */
  readonly maximumBytes?: number;
}

/** Bytes at the start of the memory kept for the kernels' parameter blocks; blocks start after. */
export const HEADER_BYTES = 4096;
/** Readable bytes kept after the last block: a kernel may read one vector past a row's end. */
const SLACK = 64;
const ALIGN = 64;
/** Blocks from this size up count as large (`largeBlocksCreated`). */
const LARGE_BLOCK = 1 << 20;

/** The size class of a request: multiples of 64 up to 4 KiB, then 8 classes per power of two (≤ 12.5% waste). */
export function sizeClass(bytes: number): number {
  const b = Math.max(ALIGN, Math.ceil(bytes / ALIGN) * ALIGN);
  if (b <= 4096) return b;
  const step = 2 ** (Math.floor(Math.log2(b - 1)) - 3);
  return Math.ceil(b / step) * step;
}

class Block implements ArenaBlock {
  live = true;
  private cached: FloatArray | Int32Array | null = null;
  private cachedGeneration = -1;
  constructor(
    private readonly arena: Arena,
    readonly kind: BlockKind,
    readonly offset: number,
    readonly capacity: number,
    readonly length: number,
    private readonly elementBytes: number,
  ) {}
  get byteLength(): number {
    return this.length * this.elementBytes;
  }
  get view(): FloatArray | Int32Array {
    if (!this.live) throw new Error('arena block used after free()');
    if (this.cached === null || this.cachedGeneration !== this.arena.generation) {
      this.cached = this.arena.typedView(this.kind, this.offset, this.length);
      this.cachedGeneration = this.arena.generation;
    }
    return this.cached;
  }
  free(): void {
    if (!this.live) return;
    this.live = false;
    this.cached = null;
    this.arena.release(this);
  }
}

/**
 * Float (f32 or f64 by precision) and int32 blocks inside one `WebAssembly.Memory`, so tensors can
 * live where the kernels compute. A size-class free-list allocator: a freed block goes to its
 * class's list and the next request of that class takes it back (most recent first), so a steady
 * state with the same shapes never grows the memory nor carves new blocks. A request whose class
 * list is empty carves at the top; when that would grow the memory, a free block of a class up to
 * twice as large is taken instead if there is one. Memory is never returned (WebAssembly memories
 * cannot shrink); blocks are 64-byte aligned.
 */
export class Arena {
  readonly precision: 32 | 64;
  readonly shared: boolean;
  readonly memory: WasmMemory;
  /** Bytes of one float element (4 or 8). */
  readonly floatBytes: 4 | 8;
  /** Increments on every grow: views made before are stale (detached for a plain memory). */
  generation = 0;
  private readonly maximumPages: number;
  private top = HEADER_BYTES;
  private readonly freeLists = new Map<number, Block[]>();
  private readonly liveBlocks = new Set<Block>();
  private readonly knownBuffers = new WeakSet<object>();
  private currentBuffer: ArrayBuffer | SharedArrayBuffer;
  private counters = {
    grows: 0,
    blocksCreated: 0,
    largeBlocksCreated: 0,
    largeBlockBytes: 0,
    allocations: 0,
    reuses: 0,
    bytesInUse: 0,
    peakBytesInUse: 0,
    stagedBytes: 0,
  };

  constructor(options: ArenaOptions) {
    if (options.precision !== 32 && options.precision !== 64)
      throw new Error(`arena: precision must be 32 or 64, got ${String(options.precision)}`);
    this.precision = options.precision;
    this.floatBytes = options.precision === 32 ? 4 : 8;
    this.shared = options.shared === true;
    this.maximumPages = Math.max(1, Math.min(MAX_PAGES, Math.floor((options.maximumBytes ?? MAX_PAGES * PAGE_BYTES) / PAGE_BYTES)));
    const initial = Math.min(
      this.maximumPages,
      Math.max(1, Math.ceil(Math.max(options.initialBytes ?? 1 << 20, HEADER_BYTES + SLACK) / PAGE_BYTES)),
    );
    this.memory = new (wasmApi().Memory)(
      this.shared ? { initial, maximum: this.maximumPages, shared: true } : { initial, maximum: this.maximumPages },
    );
    this.currentBuffer = this.memory.buffer;
    this.knownBuffers.add(this.currentBuffer);
  }

  /** The memory's buffer now (a new object after each grow). */
  get buffer(): ArrayBuffer | SharedArrayBuffer {
    return this.currentBuffer;
  }

  /** @internal A typed array over `length` elements of `kind` at `offset`, on the current buffer. */
  typedView(kind: BlockKind, offset: number, length: number): FloatArray | Int32Array {
    if (kind === 'int32') return new Int32Array(this.currentBuffer, offset, length);
    return this.precision === 32
      ? new Float32Array(this.currentBuffer, offset, length)
      : new Float64Array(this.currentBuffer, offset, length);
  }

  allocate(kind: 'float', length: number): FloatBlock;
  allocate(kind: 'int32', length: number): Int32Block;
  allocate(kind: BlockKind, length: number): ArenaBlock;
  allocate(kind: BlockKind, length: number): ArenaBlock {
    if (kind !== 'float' && kind !== 'int32') throw new Error(`arena: kind must be "float" or "int32", got ${String(kind)}`);
    if (!Number.isInteger(length) || length < 0) throw new Error(`arena: length must be a non-negative integer, got ${length}`);
    const elementBytes = kind === 'int32' ? 4 : this.floatBytes;
    const capacity = sizeClass(length * elementBytes);
    this.counters.allocations++;
    let block = this.takeFree(capacity);
    if (block) {
      this.counters.reuses++;
      block = new Block(this, kind, block.offset, block.capacity, length, elementBytes);
    } else {
      if (this.top + capacity + SLACK > this.currentBuffer.byteLength) {
        const larger = this.takeLargerFree(capacity);
        if (larger) {
          this.counters.reuses++;
          block = new Block(this, kind, larger.offset, larger.capacity, length, elementBytes);
        } else {
          this.ensure(this.top + capacity + SLACK);
        }
      }
      if (!block) {
        block = new Block(this, kind, this.top, capacity, length, elementBytes);
        this.top += capacity;
        this.counters.blocksCreated++;
        if (capacity >= LARGE_BLOCK) {
          this.counters.largeBlocksCreated++;
          this.counters.largeBlockBytes += capacity;
        }
      }
    }
    this.liveBlocks.add(block);
    this.counters.bytesInUse += block.capacity;
    if (this.counters.bytesInUse > this.counters.peakBytesInUse) this.counters.peakBytesInUse = this.counters.bytesInUse;
    return block;
  }

  /** Whether `block` is a live block of this arena. */
  isLiveBlock(block: unknown): block is ArenaBlock {
    return this.liveBlocks.has(block as Block);
  }

  /** Whether `array` is a view of this arena's memory, and where (null if it is not, or is detached). */
  ownsView(array: ArrayBufferView): ArenaLocation | null {
    if (!ArrayBuffer.isView(array)) return null;
    const buffer = array.buffer;
    if (buffer !== this.currentBuffer && !this.knownBuffers.has(buffer)) return null;
    if (buffer.byteLength === 0) return null; // a plain memory's buffer detached by a grow
    const offset = array.byteOffset;
    const byteLength = array.byteLength;
    let block: Block | null = null;
    for (const b of this.liveBlocks) {
      if (offset >= b.offset && offset + byteLength <= b.offset + b.byteLength) {
        block = b;
        break;
      }
    }
    return { offset, byteLength, block };
  }

  stats(): ArenaStats {
    let freeBlocks = 0;
    for (const list of this.freeLists.values()) freeBlocks += list.length;
    return {
      reservedBytes: this.currentBuffer.byteLength,
      bytesInUse: this.counters.bytesInUse,
      peakBytesInUse: this.counters.peakBytesInUse,
      grows: this.counters.grows,
      blocksCreated: this.counters.blocksCreated,
      largeBlocksCreated: this.counters.largeBlocksCreated,
      largeBlockBytes: this.counters.largeBlockBytes,
      allocations: this.counters.allocations,
      reuses: this.counters.reuses,
      liveBlocks: this.liveBlocks.size,
      freeBlocks,
      stagedBytes: this.counters.stagedBytes,
    };
  }

  /** Starts a new peak measurement from the bytes in use now. */
  resetPeak(): void {
    this.counters.peakBytesInUse = this.counters.bytesInUse;
  }

  /** @internal Counts bytes copied for a non-arena argument. */
  noteStaged(bytes: number): void {
    this.counters.stagedBytes += bytes;
  }

  /** @internal Called by Block.free. */
  release(block: Block): void {
    if (!this.liveBlocks.delete(block)) return;
    this.counters.bytesInUse -= block.capacity;
    let list = this.freeLists.get(block.capacity);
    if (!list) this.freeLists.set(block.capacity, (list = []));
    list.push(block);
  }

  /** Makes the memory at least `bytes` long (grows by at least 1/8 of its size, to limit grows). */
  ensure(bytes: number): void {
    const have = this.currentBuffer.byteLength;
    if (bytes <= have) return;
    const pagesNow = have / PAGE_BYTES;
    const need = Math.ceil((bytes - have) / PAGE_BYTES);
    const pages = Math.min(this.maximumPages - pagesNow, Math.max(need, Math.ceil(pagesNow / 8)));
    if (pages < need) throw new RangeError(`arena: needs ${bytes} bytes, more than its maximum of ${this.maximumPages * PAGE_BYTES}`);
    try {
      this.memory.grow(pages);
    } catch (error) {
      throw new RangeError(`arena: could not grow the memory to ${(pagesNow + pages) * PAGE_BYTES} bytes (${(error as Error).message})`);
    }
    this.currentBuffer = this.memory.buffer;
    this.knownBuffers.add(this.currentBuffer);
    this.generation++;
    this.counters.grows++;
  }

  private takeFree(capacity: number): Block | null {
    const list = this.freeLists.get(capacity);
    return list && list.length > 0 ? list.pop()! : null;
  }

  private takeLargerFree(capacity: number): Block | null {
    let best: number | null = null;
    for (const [size, list] of this.freeLists) {
      if (list.length > 0 && size > capacity && size <= 2 * capacity && (best === null || size < best)) best = size;
    }
    return best === null ? null : this.freeLists.get(best)!.pop()!;
  }
}
