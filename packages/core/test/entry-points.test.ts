import { describe, expect, it } from 'vitest';
import * as core from '../src';
import * as backend from '../src/backend';

describe('entry points', () => {
  it('@pref/core holds the user API, without the adapter-author helpers', () => {
    for (const name of ['valueAndGrad', 'createBackend', 'defineObjective', 'PrefError', 'loadObjectives'])
      expect(core).toHaveProperty(name);
    for (const name of ['BACKEND_SPECIFICATION_VERSION', 'UNARY_OPS', 'broadcastShapes', 'normalizeAxis', 'sizeOf'])
      expect(core).not.toHaveProperty(name);
  });

  it('@pref/core/backend holds the adapter-author API and the same error classes', () => {
    for (const name of ['BACKEND_SPECIFICATION_VERSION', 'UNARY_OPS', 'BINARY_OPS', 'broadcastShapes', 'reducedShape', 'formatShape']) {
      expect(backend).toHaveProperty(name);
    }
    expect(backend.PrefError).toBe(core.PrefError);
    expect(backend.PrefBackendError).toBe(core.PrefBackendError);
  });
});
