import { describe, expect, it } from 'vitest';
import { isPackageNotFound, loadObjectives, OBJECTIVE_PACKAGES, PrefError } from '../src';

const objectiveModule = (id: string) => ({ objectives: [{ id }] });

describe('loadObjectives (the one list of objective packages)', () => {
  it('loads every package of the list and reports the ones that are not installed', async () => {
    const result = await loadObjectives(async (name) => {
      if (name === '@pref/kto')
        throw Object.assign(new Error(`Cannot find package '${name}' imported from /app/x.js`), { code: 'ERR_MODULE_NOT_FOUND' });
      return objectiveModule(name.slice('@pref/'.length));
    });
    expect(result.missing).toEqual(['@pref/kto']);
    expect(Object.keys(result.objectives).sort()).toEqual(
      OBJECTIVE_PACKAGES.filter((n) => n !== '@pref/kto')
        .map((n) => n.slice(6))
        .sort(),
    );
  });

  it('does not hide a package that is installed but broken', async () => {
    const broken = loadObjectives(async (name) => {
      if (name === '@pref/dpo') throw new SyntaxError('Unexpected token');
      return objectiveModule(name);
    });
    await expect(broken).rejects.toThrow(PrefError);
    await expect(broken).rejects.toThrow(/@pref\/dpo is installed but failed to load: Unexpected token/);
  });

  it('does not hide a missing dependency of an installed package', async () => {
    const error = Object.assign(
      new Error("Cannot find package 'some-dependency' imported from /app/node_modules/@pref/lmpo/dist/index.js"),
      {
        code: 'ERR_MODULE_NOT_FOUND',
      },
    );
    expect(isPackageNotFound(error, '@pref/lmpo')).toBe(false);
    await expect(loadObjectives(async () => Promise.reject(error))).rejects.toThrow(/@pref\/simpo is installed but failed to load/);
  });

  it('rejects a package without an objectives list', async () => {
    await expect(loadObjectives(async () => ({}))).rejects.toThrow(/does not export an "objectives" list/);
  });

  it('recognises the not-found messages of Node and of Vite', () => {
    const node = Object.assign(new Error("Cannot find package '@pref/cpo' imported from /x.js"), { code: 'ERR_MODULE_NOT_FOUND' });
    const cjs = Object.assign(new Error("Cannot find module '@pref/cpo'\nRequire stack: ..."), { code: 'MODULE_NOT_FOUND' });
    const vite = new Error('Failed to load url @pref/cpo (resolved id: @pref/cpo). Does the file exist?');
    for (const error of [node, cjs, vite]) expect(isPackageNotFound(error, '@pref/cpo')).toBe(true);
    expect(isPackageNotFound(node, '@pref/cp')).toBe(false);
  });

  it('finds every objective package of this repository', async () => {
    const { objectives, missing } = await loadObjectives();
    expect(missing).toEqual([]);
    expect(Object.keys(objectives)).toEqual(expect.arrayContaining(['slime', 'lmpo', 'dpo', 'simpo', 'grpo', 'rloo']));
  });
});
