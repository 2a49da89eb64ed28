import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let collector: (() => void) | null | undefined;

/**
 * Runs a full garbage collection where the runtime allows it (`--expose-gc`, or V8's flag set
 * at run time), so each timed run starts without the previous run's garbage. Returns whether it ran.
 */
export function collectGarbage(): boolean {
  if (collector === undefined) {
    const exposed = (globalThis as { gc?: () => void }).gc;
    if (typeof exposed === 'function') collector = exposed;
    else {
      try {
        setFlagsFromString('--expose-gc');
        collector = runInNewContext('gc') as () => void;
      } catch {
        collector = null;
      }
    }
  }
  collector?.();
  return collector !== null;
}
