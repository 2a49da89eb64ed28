import { createReferenceBackend } from '@pref/adapter-reference';
import type { BackendUnderTest } from './describe-conformance';

/** The reference backend in float64 (1e-9 tolerance) and float32 (1e-4). */
export const referenceBackends: readonly BackendUnderTest[] = [
  { name: 'reference float64', create: async () => createReferenceBackend({ precision: 64 }) },
  { name: 'reference float32', create: async () => createReferenceBackend({ precision: 32 }) },
];
