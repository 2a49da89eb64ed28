import { LINEAR_LOG_PROBS_WASM, LINEAR_LOG_PROBS_WASM_SHARED, TOKEN_LOG_PROBS_WASM, TOKEN_LOG_PROBS_WASM_SHARED } from './kernels-wasm';

/** The part of the WebAssembly API used here (typed locally: no DOM lib needed). */
export interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
  Memory: new (descriptor: { initial: number; maximum: number; shared?: boolean }) => WasmMemory;
}
export const wasmApi = (): WasmApi => (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

export const PAGE_BYTES = 65536;
/** wasm32: at most 65536 pages (4 GiB). */
export const MAX_PAGES = 65536;

export function nodeBuiltin<T>(name: string): T | undefined {
  const proc = (globalThis as { process?: { getBuiltinModule?: (name: string) => unknown } }).process;
  try {
    return proc?.getBuiltinModule?.(name) as T | undefined;
  } catch {
    return undefined;
  }
}

function decode(base64: string): Uint8Array {
  const binary = atob(base64);
  const bytes = new Uint8Array(new ArrayBuffer(binary.length));
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** The compiled modules: `token` (logits path) and `linear` (hidden-state path). */
export interface KernelModules {
  readonly token: object;
  readonly linear: object;
}

const compiled: { shared?: KernelModules; plain?: KernelModules } = {};

/** The kernel modules for a shared (threads) or plain memory, compiled once per process. */
export function kernelModules(shared: boolean): KernelModules {
  const Module = wasmApi().Module;
  if (shared) {
    compiled.shared ??= {
      token: new Module(decode(TOKEN_LOG_PROBS_WASM_SHARED)),
      linear: new Module(decode(LINEAR_LOG_PROBS_WASM_SHARED)),
    };
    return compiled.shared;
  }
  compiled.plain ??= { token: new Module(decode(TOKEN_LOG_PROBS_WASM)), linear: new Module(decode(LINEAR_LOG_PROBS_WASM)) };
  return compiled.plain;
}

/** Whether this platform runs the kernels (WebAssembly with SIMD). */
export function wasmSimdSupported(): boolean {
  try {
    kernelModules(false);
    return true;
  } catch {
    return false;
  }
}

/** Whether the kernels can run on a shared memory here (SharedArrayBuffer and shared WebAssembly memories), threads or not. */
export function wasmSharedMemorySupported(): boolean {
  if (typeof SharedArrayBuffer === 'undefined') return false;
  try {
    kernelModules(true);
    new (wasmApi().Memory)({ initial: 1, maximum: 1, shared: true });
    return true;
  } catch {
    return false;
  }
}

/** Whether kernels can share one memory across threads here (SharedArrayBuffer and Node worker threads). */
export function wasmThreadsSupported(): boolean {
  return nodeBuiltin('node:worker_threads') !== undefined && wasmSharedMemorySupported();
}

/** The imports of both modules (identical in the worker source). */
export const kernelImports = (memory: WasmMemory) => ({ env: { memory, log: Math.log, exp: Math.exp } });
