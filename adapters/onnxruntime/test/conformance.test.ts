import { describe, expect, it } from 'vitest';
import { conformanceCaseDir, describeConformance, installedObjectives } from '@pref/testing';
import { readdirSync } from 'node:fs';
import { onnxruntimeCpu } from './onnxruntime-backends';

const { objectives, missing } = await installedObjectives();
const files = readdirSync(conformanceCaseDir().dir)
  .filter((f) => f.endsWith('.json'))
  .sort();

describe('objectives under test', () => {
  it('finds the installed objective packages', () => {
    expect(Object.keys(objectives)).toContain('simpo');
  });
  for (const name of missing) it.skip(`${name} (skipped: package not installed yet)`, () => {});
});

// Every case of every file: cases of objectives not installed are reported as skipped.
describeConformance({ files, objectives, backends: [onnxruntimeCpu] });
