import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { createCpuKernels, createTokenLogProbsKernel, wasmSimdSupported, wasmThreadsSupported } from '../src';

const loader = pathToFileURL(join(dirname(fileURLToPath(import.meta.url)), '../bench/load-source.mjs')).href;

/** Runs an ES module snippet in a fresh Node with the package bundled from source as `K`; returns stdout + stderr. */
function child(body: string): string {
  const source = `const K = await (await import(${JSON.stringify(loader)})).loadKernels();\n${body}`;
  return execFileSync(process.execPath, ['--input-type=module', '-e', source], {
    encoding: 'utf8',
    timeout: 30_000,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

describe.skipIf(!wasmSimdSupported() || !wasmThreadsSupported())('worker threads', () => {
  it("are unref'd: a process that never calls dispose() still exits, and the library prints nothing", () => {
    const out = child(`
      const k = K.createCpuKernels({ precision: 32, threads: 2 });
      const R = 64, V = 4096;
      const logits = k.arena.allocate('float', R * V); logits.view.fill(1);
      const labels = Int32Array.from({ length: R }, (_, i) => i);
      const f = k.tokenForward({ logits, labels, vocab: V, entropy: true });
      const grad = k.arena.allocate('float', R * V);
      k.tokenBackward({ logits, labels, vocab: V, lse: f.lse, gradLogps: new Float32Array(R).fill(1), grad });
      const H = 32, hidden = new Float32Array(R * H).fill(0.1), weight = new Float32Array(V * H).fill(0.01);
      const g = k.linearForward({ hidden, weight, labels, hiddenSize: H });
      k.linearBackward({ hidden, weight, labels, hiddenSize: H, lse: g.lse, gradLogps: new Float32Array(R).fill(1), gradWeight: new Float32Array(V * H) });
      process.stdout.write('threads=' + k.threads + ' done');
    `);
    expect(out).toBe('threads=2 done');
  });

  it('dispose() stops them (the process exits at once) and later calls are refused', () => {
    const out = child(`
      const k = K.createCpuKernels({ precision: 64, threads: 2 });
      k.tokenForward({ logits: new Float64Array(8 * 10000).fill(0), labels: new Int32Array(8), vocab: 10000 });
      k.dispose();
      k.dispose();
      try { k.tokenForward({ logits: new Float64Array(4), labels: new Int32Array(1), vocab: 4 }); } catch (e) { process.stdout.write(String(e.message)); }
    `);
    expect(out).toMatch(/after dispose/);
  });

  it('a kernel error in a worker comes back as an exception on the calling thread', () => {
    // labels are checked before the kernels run; a wasm trap is forced with an out-of-bounds job instead
    const out = child(`
      const k = K.createCpuKernels({ precision: 32, threads: 2 });
      const big = k.arena.allocate('float', 4 * 30000); big.view.fill(0);
      k.tokenForward({ logits: big, labels: new Int32Array(4), vocab: 30000 });
      process.stdout.write('ok');
    `);
    expect(out).toBe('ok');
  });

  it('print nothing in process either (console and the streams stay silent)', () => {
    const spies = [
      vi.spyOn(console, 'log'),
      vi.spyOn(console, 'warn'),
      vi.spyOn(console, 'error'),
      vi.spyOn(console, 'info'),
      vi.spyOn(console, 'debug'),
    ];
    try {
      const k = createCpuKernels({ precision: 32, threads: 2 });
      const old = createTokenLogProbsKernel({ precision: 32, threads: 2 });
      const logits = new Float32Array(16 * 5000).fill(0.5);
      const labels = new Int32Array(16);
      const f = k.tokenForward({ logits, labels, vocab: 5000 });
      k.tokenBackward({
        logits,
        labels,
        vocab: 5000,
        lse: f.lse,
        gradLogps: new Float32Array(16).fill(1),
        grad: new Float32Array(16 * 5000),
      });
      old.backward(logits, labels, old.forward(logits, labels, 5000, -100).lse, new Float32Array(16).fill(1), 5000, -100);
      k.dispose();
      old.dispose();
      for (const spy of spies) expect(spy).not.toHaveBeenCalled();
    } finally {
      spies.forEach((s) => s.mockRestore());
    }
  });
});
