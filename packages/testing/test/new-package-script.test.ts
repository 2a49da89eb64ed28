import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createReferenceBackend } from '@pref/adapter-reference';
import { valueAndGrad, type AnyObjective } from '@pref/core';

const repo = join(__dirname, '../../..');
const root = mkdtempSync(join(tmpdir(), 'pref-scaffold-'));
cpSync(join(repo, 'packages/core/src/objective-packages.ts'), join(root, 'packages/core/src/objective-packages.ts'));
cpSync(join(repo, 'tsconfig.base.json'), join(root, 'tsconfig.base.json'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const scaffold = (...args: string[]) =>
  execFileSync(process.execPath, [join(repo, 'scripts/new-package.mjs'), ...args, '--root', root], { encoding: 'utf8' });

describe('scripts/new-package.mjs objective', () => {
  scaffold('objective', 'demo-po', 'Demo PO', 'A demonstration objective.');
  const dir = join(root, 'packages/losses/demo-po');

  it('makes @pref/core a peer dependency and ships ESM only', () => {
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    expect(manifest.peerDependencies).toEqual({ '@pref/core': '^0.1.0' });
    expect(manifest.dependencies).toEqual({});
    expect(manifest.exports['.']).toEqual({ types: './dist/index.d.ts', default: './dist/index.js' });
    expect(manifest.engines.node).toBe('>=20.19');
    expect(manifest.scripts.test).toBe('vitest run --root ../../.. --project @pref/demo-po');
  });

  it('writes the tests, the docs page and a changeset, and registers the package in the one list', () => {
    for (const file of ['src/demo-po.ts', 'src/index.ts', 'test/demo-po.properties.test.ts', 'tsconfig.json']) {
      expect(existsSync(join(dir, file)), file).toBe(true);
    }
    expect(existsSync(join(root, 'docs/objectives/demo-po.md'))).toBe(true);
    expect(existsSync(join(root, '.changeset/demo-po-objective.md'))).toBe(true);
    const list = readFileSync(join(root, 'packages/core/src/objective-packages.ts'), 'utf8');
    expect(list).toMatch(/'@pref\/grpo',\n {2}'@pref\/demo-po',\n\] as const/);
  });

  it('generates an objective that computes a loss and gradients with the current core', async () => {
    const { objectives } = (await import(join(dir, 'src/index.ts'))) as { objectives: readonly AnyObjective[] };
    const batch = { chosenLogps: [[-0.5, -1]], chosenMask: [[1, 1]], rejectedLogps: [[-2, -0.1]], rejectedMask: [[1, 0]] };
    const result = await valueAndGrad(objectives[0], batch, {}, { backend: createReferenceBackend() });
    // ℓ = −logσ(β(A_w − A_l)), β = 1, A_w = −0.75, A_l = −2.
    expect(result.loss).toBeCloseTo(Math.log1p(Math.exp(-1.25)), 12);
    expect(result.grads.chosenLogps.data[0]).toBeCloseTo(-0.5 / (1 + Math.exp(1.25)), 12);
  });

  it('refuses an existing package and a malformed id with exit code 2', () => {
    for (const args of [
      ['objective', 'demo-po', 'X', 'Y'],
      ['objective', 'Bad_Id', 'X', 'Y'],
    ]) {
      expect(() => scaffold(...args)).toThrow(expect.objectContaining({ status: 2 }));
    }
  });
});
