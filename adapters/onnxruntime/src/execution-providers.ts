import { PrefBackendError } from '@pref/core';
import type { OrtRuntime } from './ort-runtime';
import { missingProviderLibrary } from './provider-libraries';

/** An execution provider as onnxruntime takes it: a name (`cpu`, `cuda`, ...) or `{ name, ...options }`. */
export type ExecutionProvider = string | { readonly name: string; readonly [option: string]: unknown };

/** A provider that was asked for but could not start, and why. */
export interface SkippedProvider {
  readonly name: string;
  readonly reason: string;
}

export function providerName(provider: ExecutionProvider): string {
  return typeof provider === 'string' ? provider : provider.name;
}

const CUDA_INSTALL =
  'Its binaries are a separate download when onnxruntime-node is installed: reinstall with ' +
  '`ONNXRUNTIME_NODE_INSTALL=cuda12 npm install onnxruntime-node` (or `npm install onnxruntime-node --onnxruntime-node-install=cuda12`) ' +
  'on a machine with CUDA 12 and cuDNN 9; see https://onnxruntime.ai/docs/get-started/with-javascript/node.html';

/** Why `name` could not start, with what to do about it. */
export function describeProviderFailure(name: string, message: string): string {
  const notInstalled = /failed to load|cannot open shared object|not (found|installed|supported|available)|unsupported/i.test(message);
  if ((name === 'cuda' || name === 'tensorrt') && notInstalled) {
    return `the ${name.toUpperCase()} execution provider of onnxruntime-node is not installed (onnxruntime: ${message.trim()}). ${CUDA_INSTALL}`;
  }
  return `the ${name} execution provider could not start (onnxruntime: ${message.trim()})`;
}

/**
 * Checks each requested provider by opening a one-node session with it alone (`cpu` is always
 * there). A provider that cannot start is skipped when `fallback` is set or the list itself
 * names `cpu` (`["cuda", "cpu"]` means "CUDA, else the CPU"); otherwise it is an error naming
 * it and how to install it. The CPU is used when nothing else is left.
 */
export async function resolveExecutionProviders(
  runtime: OrtRuntime,
  requested: readonly ExecutionProvider[],
  options: {
    readonly fallback: boolean;
    readonly probeModel: Uint8Array;
    readonly sessionOptions: Readonly<Record<string, unknown>>;
    /** Folder of onnxruntime-node's native libraries, to check for a provider's library before asking onnxruntime for it. */
    readonly libraryDir?: string | null;
  },
): Promise<{ active: ExecutionProvider[]; skipped: SkippedProvider[] }> {
  const active: ExecutionProvider[] = [];
  const skipped: SkippedProvider[] = [];
  const fallback = options.fallback || requested.some((p) => providerName(p) === 'cpu');
  for (const provider of requested) {
    const name = providerName(provider);
    if (name === 'cpu') {
      active.push(provider);
      continue;
    }
    const fail = (reason: string) => {
      if (!fallback) {
        const hint = 'Or add "cpu" to executionProviders (or set "fallback": true) to run on the CPU instead.';
        throw new PrefBackendError(`onnxruntime: ${reason}. ${hint}`, [{ backend: `onnxruntime:${name}`, reason }]);
      }
      skipped.push({ name, reason });
    };
    // A missing provider library is found here, before onnxruntime would log its own error.
    const missing = options.libraryDir ? missingProviderLibrary(options.libraryDir, name) : null;
    if (missing) {
      fail(
        `the ${name.toUpperCase()} execution provider of onnxruntime-node is not installed (${missing} is not in ${options.libraryDir}). ${CUDA_INSTALL}`,
      );
      continue;
    }
    try {
      const session = await runtime.InferenceSession.create(options.probeModel, {
        ...options.sessionOptions,
        logSeverityLevel: 4,
        executionProviders: [provider],
      });
      await session.release?.();
      active.push(provider);
    } catch (error) {
      fail(describeProviderFailure(name, (error as Error).message));
    }
  }
  if (active.length === 0) active.push('cpu');
  return { active, skipped };
}
