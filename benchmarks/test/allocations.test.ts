import { describe, expect, it } from 'vitest';
import { valueAndGrad, type ValueAndGradOptions } from '@pref/core';
import { ReferenceBackend, createReferenceBackend } from '@pref/adapter-reference';
import { simpo } from '@pref/simpo';
import {
  allocationsFrom,
  backendStatsReader,
  benchReportProblems,
  createLogitsWorkload,
  logitsCall,
  placeLogitsBatch,
  renderMarkdownReport,
  runBenchmarks,
  type BenchBackendSpec,
  type ValueAndGradFn,
} from '@pref/benchmarks';

const MiB = 2 ** 20;
const importModule = (name: string) => import(/* @vite-ignore */ name);
const spec = (id: string, create: BenchBackendSpec['create']): BenchBackendSpec => ({ id, config: { backend: id }, create });

/** A float32 reference backend whose `stats()` claims three new 1 MiB buffers per `read` (one `read` per valueAndGrad). */
function countingBackend() {
  const backend = new ReferenceBackend({ precision: 32 });
  const base = Object.getPrototypeOf(backend) as ReferenceBackend;
  let count = 0;
  return Object.assign(backend, {
    name: 'counting',
    read(xs: Parameters<ReferenceBackend['read']>[0]) {
      count += 3;
      return base.read.call(backend, xs);
    },
    stats: () => ({ largeBufferAllocations: count, largeBufferBytes: count * MiB }),
  });
}

/** Core's valueAndGrad, plus the coming `gradients` option: copies each gradient into the caller's buffer and returns that buffer. */
const inPlaceValueAndGrad: ValueAndGradFn = async (objective, batch, params, options) => {
  const result = await valueAndGrad(objective, batch, params, options);
  const buffers = (options as ValueAndGradOptions & { gradients?: Record<string, Float32Array | Float64Array> }).gradients;
  if (!buffers) return result;
  const grads = Object.fromEntries(
    Object.entries(result.grads).map(([name, g]) => {
      const target = buffers[name];
      if (!target) return [name, g];
      target.set(g.data);
      return [name, { data: target, shape: g.shape }];
    }),
  );
  return { ...result, grads };
};

async function logitsReport(backend: () => Promise<ReturnType<typeof createReferenceBackend>>, vag?: ValueAndGradFn) {
  return runBenchmarks({
    backends: [spec('b', backend)],
    workloads: ['logits'],
    logitsShapes: [{ name: 'tiny', shape: [2, 8, 64] }],
    repeats: 4,
    bandwidth: {
      copyBytesPerSecond: 1e10,
      readBytesPerSecond: 1e10,
      writeBytesPerSecond: 1e10,
      boundBytesPerSecond: 1e10,
      bufferBytes: MiB,
      repeats: 1,
    },
    importModule,
    ...(vag && { valueAndGrad: vag }),
  });
}

describe('allocations per call (logits workload)', () => {
  it('takes the median growth of array buffers / external memory and differences the backend counters', () => {
    const reading = (ab0: number, ab1: number, ex0: number, ex1: number) => ({
      before: { arrayBuffers: ab0, external: ex0 },
      after: { arrayBuffers: ab1, external: ex1 },
    });
    const a = allocationsFrom([reading(0, 10, 0, 12), reading(5, 0, 5, 0), reading(0, 20, 0, 20), reading(0, 8, 0, 30)], {
      before: { largeBufferAllocations: 4, largeBufferBytes: 4 * MiB },
      after: { largeBufferAllocations: 12, largeBufferBytes: 12 * MiB },
    });
    expect(a).toEqual({
      calls: 4,
      bytesPerCall: 16,
      arrayBuffersBytesPerCall: 9,
      externalBytesPerCall: 16,
      backend: { largeBufferAllocationsPerCall: 2, largeBufferBytesPerCall: 2 * MiB },
    });
    expect(allocationsFrom([reading(0, 1, 0, 1)], { before: {}, after: { largeBufferAllocations: 3 } }).backend).toEqual({
      largeBufferAllocationsPerCall: null,
      largeBufferBytesPerCall: null,
    });
    expect(allocationsFrom([], null)).toEqual({
      calls: 0,
      bytesPerCall: 0,
      arrayBuffersBytesPerCall: 0,
      externalBytesPerCall: 0,
      backend: null,
    });
  });

  it('reads stats() only where the backend has one', () => {
    expect(backendStatsReader({})).toBeNull();
    expect(backendStatsReader(createReferenceBackend())!()).toMatchObject({ largeBufferAllocations: expect.any(Number) });
    expect(backendStatsReader(countingBackend())!()).toEqual({ largeBufferAllocations: 0, largeBufferBytes: 0 });
    expect(backendStatsReader({ stats: () => 7 })!()).toEqual({});
  });

  it("reports the backend's own count per steady-state call (warm-up and the check excluded)", async () => {
    const report = await logitsReport(async () => countingBackend());
    expect(benchReportProblems(JSON.parse(JSON.stringify(report)))).toEqual([]);
    const cell = report.results[0];
    expect(cell.status).toBe('ok');
    expect(cell.allocations).toMatchObject({ calls: 4, backend: { largeBufferAllocationsPerCall: 3, largeBufferBytesPerCall: 3 * MiB } });
    const row = renderMarkdownReport(report)
      .split('\n')
      .find((l) => l.startsWith('| tiny [2,8,64] | b |'))!;
    expect(row).toContain('| 3 (3.00 MiB) |');
    expect(renderMarkdownReport(report)).toContain('| new large buffers / call | new bytes / call |');
  });

  it('says n/a for the count without stats(), and still measures the process growth', async () => {
    const withoutStats = new Proxy(createReferenceBackend({ precision: 32 }), {
      get: (target, prop, receiver) => (prop === 'stats' ? undefined : Reflect.get(target, prop, receiver)),
    });
    const report = await logitsReport(async () => withoutStats);
    const cell = report.results[0];
    expect(cell.allocations).toMatchObject({ calls: 4, backend: null });
    expect(cell.allocations!.bytesPerCall).toBeGreaterThanOrEqual(0);
    expect(
      renderMarkdownReport(report)
        .split('\n')
        .find((l) => l.startsWith('| tiny [2,8,64] | b |')),
    ).toContain('| in place | n/a |');
  });

  it('counts a 4 MiB buffer that each call leaves behind', async () => {
    const leaky: ValueAndGradFn = async (objective, batch, params, options) => {
      const result = await valueAndGrad(objective, batch, params, options);
      return { ...result, metrics: { ...result.metrics }, perExample: new Float64Array(MiB / 2) };
    };
    const cell = (await logitsReport(async () => createReferenceBackend({ precision: 32 }), leaky)).results[0];
    expect(cell.status).toBe('ok');
    expect(cell.allocations!.bytesPerCall).toBeGreaterThanOrEqual(4 * MiB);
  });
});

describe('caller-owned gradient buffers', () => {
  it('writes the gradients into the caller-owned buffers with this core', async () => {
    const report = await logitsReport(async () => createReferenceBackend({ precision: 32 }));
    expect(report.results[0]).toMatchObject({ status: 'ok', gradientOutput: 'in-place' });
  });

  it('reports "in place" when the result\'s gradients are the buffers passed, and reuses them on every call', async () => {
    const report = await logitsReport(async () => createReferenceBackend({ precision: 32 }), inPlaceValueAndGrad);
    expect(report.results[0]).toMatchObject({ status: 'ok', gradientOutput: 'in-place' });
    expect(report.results[0].notes).toBeUndefined();
    expect(renderMarkdownReport(report)).toContain('| in place |');

    const backend = createReferenceBackend({ precision: 64 });
    const placed = placeLogitsBatch(createLogitsWorkload([2, 4, 8]), backend);
    const call = logitsCall(inPlaceValueAndGrad, simpo, placed.batch, backend, [2, 4, 8], 64);
    expect(call.gradientOutput()).toBeNull();
    const first = await call.run();
    const second = await call.run();
    expect(call.gradientOutput()).toBe('in-place');
    expect(first.grads.chosenLogits.data).toBeInstanceOf(Float64Array);
    expect(second.grads.chosenLogits.data).toBe(first.grads.chosenLogits.data);
    expect(second.grads.rejectedLogits.data).toBe(first.grads.rejectedLogits.data);
  });

  it('runs without the option when core rejects it', async () => {
    const strict: ValueAndGradFn = async (objective, batch, params, options) => {
      if ('gradients' in options) throw new TypeError('unknown option gradients');
      return valueAndGrad(objective, batch, params, options);
    };
    const report = await logitsReport(async () => createReferenceBackend({ precision: 32 }), strict);
    expect(report.results[0]).toMatchObject({ status: 'ok', gradientOutput: 'returned' });
    expect(report.results[0].notes![0]).toMatch(/^valueAndGrad rejected the gradients option \(unknown option gradients\)/);
  });
});
