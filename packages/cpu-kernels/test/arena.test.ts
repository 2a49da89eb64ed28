import { afterAll, describe, expect, it } from 'vitest';
import { Arena, createCpuKernels, HEADER_BYTES, sizeClass, wasmSimdSupported, wasmThreadsSupported, type CpuKernels } from '../src';
import { rng } from './helpers';

describe('size classes', () => {
  it('round up to 64 bytes, then to 8 classes per power of two (at most 12.5% over)', () => {
    expect(sizeClass(0)).toBe(64);
    expect(sizeClass(1)).toBe(64);
    expect(sizeClass(65)).toBe(128);
    expect(sizeClass(4096)).toBe(4096);
    for (const bytes of [4097, 10_000, 1 << 20, 262_144_000, 3_000_000_001]) {
      const c = sizeClass(bytes);
      expect(c).toBeGreaterThanOrEqual(bytes);
      expect(c % 64).toBe(0);
      expect(c / bytes).toBeLessThanOrEqual(1.125 + 1e-9);
      expect(sizeClass(c)).toBe(c);
    }
  });
});

describe('arena allocator', () => {
  it('allocates aligned, disjoint blocks after the header, with views of the right type and length', () => {
    const arena = new Arena({ precision: 32 });
    const a = arena.allocate('float', 10);
    const b = arena.allocate('int32', 3);
    const c = arena.allocate('float', 0);
    expect(a.offset).toBeGreaterThanOrEqual(HEADER_BYTES);
    for (const block of [a, b, c]) expect(block.offset % 64).toBe(0);
    expect(b.offset).toBeGreaterThanOrEqual(a.offset + a.capacity);
    expect(a.view).toBeInstanceOf(Float32Array);
    expect(a.view.length).toBe(10);
    expect(b.view).toBeInstanceOf(Int32Array);
    expect(new Arena({ precision: 64 }).allocate('float', 2).view).toBeInstanceOf(Float64Array);
    expect(c.view.length).toBe(0);
  });

  it('reuses freed blocks of the same class (most recent first) and never grows in a steady state', () => {
    const arena = new Arena({ precision: 32, initialBytes: 1 << 16 });
    const shapes = [1000, 2_000_000, 37, 2_000_000, 1000];
    const round = () => {
      const blocks = shapes.map((n) => arena.allocate('float', n));
      blocks.forEach((b, i) => b.view.fill(i));
      blocks.forEach((b) => b.free());
    };
    round();
    const after = arena.stats();
    for (let i = 0; i < 50; i++) round();
    const s = arena.stats();
    expect(s.grows).toBe(after.grows);
    expect(s.blocksCreated).toBe(after.blocksCreated);
    expect(s.reservedBytes).toBe(after.reservedBytes);
    expect(s.reuses).toBe(50 * shapes.length);
    expect(s.bytesInUse).toBe(0);
    expect(s.liveBlocks).toBe(0);
    expect(s.peakBytesInUse).toBe(after.peakBytesInUse);
  });

  it('counts bytes in use and the peak, and free is idempotent; a freed block refuses its view', () => {
    const arena = new Arena({ precision: 64 });
    const a = arena.allocate('float', 100);
    const b = arena.allocate('float', 1000);
    expect(arena.stats().bytesInUse).toBe(a.capacity + b.capacity);
    b.free();
    b.free();
    expect(arena.stats().bytesInUse).toBe(a.capacity);
    expect(arena.stats().peakBytesInUse).toBe(a.capacity + b.capacity);
    arena.resetPeak();
    expect(arena.stats().peakBytesInUse).toBe(a.capacity);
    expect(b.live).toBe(false);
    expect(() => b.view).toThrow(/after free/);
  });

  it('takes a free block up to twice as large rather than growing the memory', () => {
    const arena = new Arena({ precision: 32, initialBytes: 1 << 20 });
    const big = arena.allocate('float', 150_000); // 600 KB
    big.free();
    const before = arena.stats();
    const smaller = arena.allocate('float', 100_000); // another class; carving would need a grow
    expect(smaller.offset).toBe(big.offset);
    expect(arena.stats().grows).toBe(before.grows);
  });

  it('reports which typed arrays are its views (and where)', () => {
    const arena = new Arena({ precision: 32 });
    const a = arena.allocate('float', 64);
    const sub = a.view.subarray(8, 16);
    const where = arena.ownsView(sub)!;
    expect(where.offset).toBe(a.offset + 32);
    expect(where.byteLength).toBe(32);
    expect(where.block).toBe(a);
    expect(arena.ownsView(new Float32Array(8))).toBeNull();
    expect(new Arena({ precision: 32 }).ownsView(sub)).toBeNull();
    a.free();
    expect(arena.ownsView(sub)!.block).toBeNull();
  });

  it('plain memory: a grow detaches old views, and block.view is re-derived with the same contents', () => {
    const arena = new Arena({ precision: 32, initialBytes: 1 << 16 });
    const a = arena.allocate('float', 1000);
    const old = a.view;
    old.set(Array.from({ length: 1000 }, (_, i) => i));
    const generation = arena.generation;
    arena.allocate('float', 4_000_000); // grows
    expect(arena.generation).toBeGreaterThan(generation);
    expect(old.length).toBe(0); // detached
    expect(arena.ownsView(old)).toBeNull();
    expect(a.view.length).toBe(1000);
    expect(a.view[999]).toBe(999);
  });

  it.skipIf(typeof SharedArrayBuffer === 'undefined')('shared memory: old views stay valid after a grow and alias the new ones', () => {
    const arena = new Arena({ precision: 64, shared: true, initialBytes: 1 << 16 });
    const a = arena.allocate('float', 1000);
    const old = a.view;
    old[5] = 42;
    arena.allocate('float', 2_000_000);
    expect(arena.stats().grows).toBeGreaterThan(0);
    expect(old.length).toBe(1000);
    const now = a.view;
    expect(now).not.toBe(old);
    now[6] = 7;
    expect(old[6]).toBe(7);
    expect(now[5]).toBe(42);
    expect(arena.ownsView(old)!.block).toBe(a);
  });

  it('refuses bad requests', () => {
    const arena = new Arena({ precision: 32, maximumBytes: 1 << 20 });
    expect(() => arena.allocate('float', -1)).toThrow(/non-negative integer/);
    expect(() => arena.allocate('float', 1.5)).toThrow(/non-negative integer/);
    expect(() => arena.allocate('bytes' as 'float', 1)).toThrow(/kind/);
    expect(() => arena.allocate('float', 1 << 20)).toThrow(RangeError);
  });
});

describe.skipIf(!wasmSimdSupported())('kernels on arena memory', () => {
  const made: CpuKernels[] = [];
  const make = (precision: 32 | 64, threads: number) => {
    const k = createCpuKernels({ precision, threads });
    made.push(k);
    return k;
  };
  afterAll(() => made.forEach((k) => k.dispose()));

  for (const threads of [1, 2]) {
    it(`${threads} thread(s): 50 calls with the same shapes make no new blocks and no grows after the first, and copy nothing`, () => {
      const k = make(32, threads);
      const R = 64,
        V = 3000,
        H = 24,
        VL = 500;
      const A = k.arena;
      const logits = A.allocate('float', R * V),
        grad = A.allocate('float', R * V),
        labels = A.allocate('int32', R);
      const lse = A.allocate('float', R),
        logps = A.allocate('float', R),
        u = A.allocate('float', R);
      const hidden = A.allocate('float', R * H),
        weight = A.allocate('float', VL * H),
        gH = A.allocate('float', R * H),
        gW = A.allocate('float', VL * H);
      const next = rng(3);
      logits.view.forEach((_, i, a) => (a[i] = 4 * next() - 2));
      hidden.view.forEach((_, i, a) => (a[i] = next() - 0.5));
      weight.view.forEach((_, i, a) => (a[i] = next() - 0.5));
      labels.view.forEach((_, i, a) => (a[i] = i % 7 === 0 ? -100 : (i * 13) % VL));
      u.view.fill(-1 / R);
      const step = () => {
        k.tokenForward({ logits, labels, vocab: V, lse, logps, probs: grad });
        k.tokenBackward({ labels, vocab: V, lse, gradLogps: u, probs: grad, grad });
        k.linearForward({ hidden, weight, labels, hiddenSize: H, lse, logps, chunkSize: 128 });
        k.linearBackward({ hidden, weight, labels, hiddenSize: H, lse, gradLogps: u, gradHidden: gH, gradWeight: gW, chunkSize: 128 });
      };
      step();
      const first = A.stats();
      for (let i = 0; i < 50; i++) step();
      const s = A.stats();
      expect(s.grows).toBe(first.grows);
      expect(s.blocksCreated).toBe(first.blocksCreated);
      expect(s.reservedBytes).toBe(first.reservedBytes);
      expect(s.stagedBytes).toBe(0);
      expect(s.liveBlocks).toBe(10);
    });
  }

  it('rewriting an input in place between calls gives the new numbers', () => {
    const k = make(64, 1);
    const logits = k.arena.allocate('float', 8);
    const labels = k.arena.allocate('int32', 2);
    labels.view.set([1, 3]);
    logits.view.set([1, 2, 3, 4, 0, 0, 0, 0]);
    const first = Array.from(k.tokenForward({ logits, labels, vocab: 4 }).logps as Float64Array);
    logits.view.set([4, 3, 2, 1, 0, 0, 0, 5]);
    const second = Array.from(k.tokenForward({ logits, labels, vocab: 4 }).logps as Float64Array);
    expect(second).not.toEqual(first);
    const lse1 = Math.log(Math.exp(4) + Math.exp(3) + Math.exp(2) + Math.exp(1));
    expect(second[0]).toBeCloseTo(3 - lse1, 14);
    expect(second[1]).toBeCloseTo(5 - Math.log(3 + Math.exp(5)), 14);
  });

  it('an arena view (not the whole block) is used in place; an outside array is staged and counted', () => {
    const k = make(32, 1);
    const block = k.arena.allocate('float', 16);
    block.view.set([0, 0, 0, 0, 1, 2, 3, 4, 9, 9, 9, 9, 9, 9, 9, 9]);
    const labels = Int32Array.of(2);
    const before = k.arena.stats().stagedBytes;
    const { logps } = k.tokenForward({ logits: block.view.subarray(4, 8), labels, vocab: 4 });
    const staged = k.arena.stats().stagedBytes - before;
    // labels in, logps and lse out: 3 × 4 bytes; the logits were not copied.
    expect(staged).toBe(12);
    expect((logps as Float32Array)[0]).toBeCloseTo(3 - Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3) + Math.exp(4)), 5);
  });

  it('refuses a block of another arena, a freed block, a wrong type or length, and a detached view', () => {
    const k = make(32, 1);
    const other = new Arena({ precision: 32 }).allocate('float', 4);
    const labels = Int32Array.of(0);
    expect(() => k.tokenForward({ logits: other, labels, vocab: 4 })).toThrow(/not a live block/);
    const freed = k.arena.allocate('float', 4);
    freed.free();
    expect(() => k.tokenForward({ logits: freed, labels, vocab: 4 })).toThrow(/not a live block/);
    expect(() => k.tokenForward({ logits: new Float64Array(4), labels, vocab: 4 })).toThrow(/Float32Array/);
    expect(() => k.tokenForward({ logits: new Float32Array(5), labels, vocab: 4 })).toThrow(/expected 4/);
    expect(() => k.tokenForward({ logits: new Float32Array(4), labels: Int32Array.of(4), vocab: 4 })).toThrow(/labels\[0\] = 4/);
    if (!k.arena.shared) {
      const block = k.arena.allocate('float', 4);
      const view = block.view;
      k.arena.allocate('float', 50_000_000);
      expect(() => k.tokenForward({ logits: view, labels, vocab: 4 })).toThrow(/detached/);
    }
  });

  it.skipIf(!wasmThreadsSupported())('two threads share one growing memory (workers see the grown memory)', () => {
    const k = make(32, 2);
    expect(k.arena.shared).toBe(true);
    const R = 8,
      V = 40_000;
    const small = k.arena.allocate('float', R * V);
    small.view.fill(0);
    const labels = Int32Array.from({ length: R }, (_, i) => i);
    const a = k.tokenForward({ logits: small, labels, vocab: V });
    // grow well past what the workers saw at their start, then use memory only the grow made
    const big = k.arena.allocate('float', 40_000_000);
    const far = k.arena.allocate('float', R * V);
    expect(far.offset).toBeGreaterThan(big.offset);
    far.view.fill(0);
    const b = k.tokenForward({ logits: far, labels, vocab: V });
    expect(Array.from(b.logps as Float32Array)).toEqual(Array.from(a.logps as Float32Array));
    expect((b.logps as Float32Array)[R - 1]).toBeCloseTo(-Math.log(V), 4);
  });
});
