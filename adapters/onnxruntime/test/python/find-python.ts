import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The script that checks and runs an exported model from Python. */
export const RUN_EXPORTED_MODEL = fileURLToPath(new URL('./run-exported-model.py', import.meta.url));

/**
 * A Python with `onnx`, `onnxruntime` and `numpy`: `PREF_PYTHON`, else `python3`; or why none
 * is usable (tests that need it are then skipped with that reason).
 */
export function findPythonWithOnnx(env: NodeJS.ProcessEnv = process.env): { ok: true; command: string } | { ok: false; reason: string } {
  const command = env.PREF_PYTHON || 'python3';
  const probe = spawnSync(command, ['-c', 'import onnx, onnxruntime, numpy'], { encoding: 'utf8' });
  if (probe.error) return { ok: false, reason: `${command} not found (set PREF_PYTHON to a Python with onnx and onnxruntime)` };
  if (probe.status !== 0) {
    const last = probe.stderr.trim().split('\n').pop() ?? '';
    return { ok: false, reason: `${command} lacks onnx/onnxruntime/numpy (${last}); set PREF_PYTHON to a Python that has them` };
  }
  return { ok: true, command };
}
