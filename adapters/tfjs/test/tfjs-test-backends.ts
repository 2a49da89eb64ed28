import { readdirSync } from 'node:fs';
import type { BackendUnderTest } from '@pref/testing';
import { conformanceCaseDir } from '@pref/testing';
import { createPrefBackend, type TfjsBackend, type TfjsBackendName } from '../src';

/** A tfjs backend through the config factory, or why it cannot start here (reported as skipped). */
export async function startTfjs(name: TfjsBackendName): Promise<TfjsBackend | { unavailable: string }> {
  try {
    return await createPrefBackend({ backend: 'tfjs', tfjsBackend: name });
  } catch (error) {
    return { unavailable: (error as Error).message };
  }
}

export function tfjsUnderTest(name: TfjsBackendName): BackendUnderTest {
  return { name: `tfjs:${name} (core autodiff)`, create: () => startTfjs(name) };
}

/** Every case file of the conformance folder. */
export function allCaseFiles(): string[] {
  return readdirSync(conformanceCaseDir().dir)
    .filter((f) => f.endsWith('.json'))
    .sort();
}
