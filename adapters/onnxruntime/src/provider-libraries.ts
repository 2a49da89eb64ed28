import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';

/** Providers onnxruntime-node loads from separate shared libraries (the others are built in or absent). */
const LIBRARIES: Readonly<Record<string, readonly string[]>> = {
  cuda: ['providers_shared', 'providers_cuda'],
  tensorrt: ['providers_shared', 'providers_tensorrt', 'providers_cuda'],
};

function fileName(library: string, platform: NodeJS.Platform): string {
  if (platform === 'win32') return `onnxruntime_${library}.dll`;
  return `libonnxruntime_${library}.${platform === 'darwin' ? 'dylib' : 'so'}`;
}

/**
 * The first shared library that provider `name` needs and `dir` lacks, or null (also for
 * providers without a library of their own). Checked before onnxruntime is asked for the
 * provider, since onnxruntime prints its own error to stderr when a library fails to load.
 */
export function missingProviderLibrary(dir: string, name: string, platform: NodeJS.Platform = process.platform): string | null {
  for (const library of LIBRARIES[name] ?? []) {
    const file = fileName(library, platform);
    if (!existsSync(join(dir, file))) return file;
  }
  return null;
}

/**
 * The folder holding onnxruntime-node's native binding for this platform (where its provider
 * libraries are installed), or null when it cannot be found (then nothing is pre-checked).
 */
export function onnxruntimeNodeLibraryDir(): string | null {
  try {
    const entry = createRequire(import.meta.url).resolve('onnxruntime-node');
    let root = dirname(entry);
    while (!existsSync(join(root, 'package.json')) && dirname(root) !== root) root = dirname(root);
    const bin = join(root, 'bin');
    for (const napi of readdirSync(bin)) {
      const dir = join(bin, napi, process.platform, process.arch);
      if (existsSync(join(dir, 'onnxruntime_binding.node'))) return dir;
    }
  } catch {
    // Not installed where this module can resolve it: onnxruntime reports the provider itself.
  }
  return null;
}
