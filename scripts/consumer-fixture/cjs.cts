// CommonJS consumer (Node >= 20.19 requires ESM): one core identity for require and import.
const core = require('@pref/core') as typeof import('@pref/core');
const { createReferenceBackend } = require('@pref/adapter-reference') as typeof import('@pref/adapter-reference');
const { simpo } = require('@pref/simpo') as typeof import('@pref/simpo');

async function main(): Promise<void> {
  const imported = await import('@pref/core');
  if (imported.PrefError !== core.PrefError) throw new Error('cjs: two copies of @pref/core (require vs import)');
  try {
    await core.valueAndGrad(simpo, { chosenLogps: [[-1]], chosenMask: [[1]] } as never, {}, { backend: createReferenceBackend() });
    throw new Error('cjs: a missing input was accepted');
  } catch (error) {
    if (!(error instanceof core.PrefError)) throw new Error(`cjs: expected a PrefError from require('@pref/core'), got ${String(error)}`);
  }
  console.log('cjs ok: one @pref/core, typed errors');
}
void main();
