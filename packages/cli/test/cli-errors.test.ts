import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, type CliIo } from '../src';

const examplePairs = resolve(__dirname, '../examples/pairs.json');

async function run(argv: string[], files: Record<string, string> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'pref-cli-errors-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { out: (l) => out.push(l), err: (l) => err.push(l), cwd: dir, env: {} };
  const code = await runCli(argv, io);
  return { code, err: err.join('\n'), out: out.join('\n') };
}

/** The error is one line (after any "does not use …; ignored" notes), naming `what`, with no stack trace. */
function expectOneLine(text: string, ...what: RegExp[]) {
  const lines = text.split('\n').filter((line) => !/does not use .*; ignored$/.test(line));
  expect(lines).toHaveLength(1);
  expect(text).not.toMatch(/\n\s+at |at .*\.ts:\d+/);
  for (const w of what) expect(lines[0]).toMatch(w);
}

describe('pref: usage errors are one line naming the option or file and the fix, exit code 2', () => {
  it('a missing batch file', async () => {
    const r = await run(['loss', '--objective', 'simpo', '--batch', 'nope.json']);
    expect(r.code).toBe(2);
    expectOneLine(r.err, /--batch nope\.json: no such file/, /give a JSON file/);
  });

  it('malformed batch JSON', async () => {
    const r = await run(['loss', '--objective', 'simpo', '--batch', 'bad.json'], { 'bad.json': '{ "inputs": { "chosenLogps": [[-1], }' });
    expect(r.code).toBe(2);
    expectOneLine(r.err, /--batch bad\.json: invalid JSON/, /"inputs"/);
  });

  it('an empty batch file, and one with no inputs', async () => {
    const empty = await run(['loss', '--objective', 'simpo', '--batch', 'empty.json'], { 'empty.json': '\n' });
    expect(empty.code).toBe(2);
    expectOneLine(empty.err, /--batch empty\.json: the file is empty/);
    const none = await run(['loss', '--objective', 'simpo', '--batch', 'none.json'], { 'none.json': '{ "inputs": {} }' });
    expect(none.code).toBe(2);
    expectOneLine(none.err, /--batch none\.json: holds no inputs/);
    const list = await run(['loss', '--objective', 'simpo', '--batch', 'list.json'], { 'list.json': '[1, 2]' });
    expect(list.code).toBe(2);
    expectOneLine(list.err, /--batch list\.json: expected/, /got a list/);
  });

  it('--params beta without a value', async () => {
    const r = await run(['loss', '--objective', 'simpo', '--batch', examplePairs, '--params', 'beta']);
    expect(r.code).toBe(2);
    expectOneLine(r.err, /--params: expected name=value, got "beta"; e\.g\. --params beta=0\.1/);
    const dangling = await run(['loss', '--objective', 'simpo', '--batch', examplePairs, '--params']);
    expect(dangling.code).toBe(2);
    expectOneLine(dangling.err, /--params/);
  });

  it('malformed --state, and --state for a stateless objective', async () => {
    const bad = await run(['loss', '--objective', 'lmpo', '--batch', examplePairs, '--state', 'state.json'], {
      'state.json': '{ mean: 1 }',
    });
    expect(bad.code).toBe(2);
    expectOneLine(bad.err, /--state state\.json: invalid JSON/, /save-state/);
    const stateless = await run(['loss', '--objective', 'simpo', '--batch', examplePairs, '--state', 'state.json'], {
      'state.json': '{ "mean": 1, "std": 1, "steps": 1 }',
    });
    expect(stateless.code).toBe(2);
    expectOneLine(stateless.err, /--state state\.json: simpo is stateless/);
    const extra = await run(['loss', '--objective', 'lmpo', '--batch', examplePairs, '--state', 'state.json'], {
      'state.json': '{ "mean": 1, "std": 1, "steps": 1, "extra": 2 }',
    });
    expect(extra.code).toBe(1);
    expectOneLine(extra.err, /unknown state field extra/);
  });

  it('--backend garbage lists the known backends', async () => {
    const r = await run(['loss', '--objective', 'simpo', '--batch', examplePairs, '--backend', 'garbage']);
    expect(r.code).toBe(2);
    expectOneLine(r.err, /--backend: unknown backend "garbage"; known backends: reference, tfjs, onnxruntime, webgpu/);
    const variant = await run(['loss', '--objective', 'simpo', '--batch', examplePairs, '--backend', 'webgpu:nope']);
    expect(variant.code).toBe(2);
    expectOneLine(variant.err, /unknown backend "webgpu:nope"/);
  });

  it('a missing conformance case file', async () => {
    const r = await run(['conformance', 'missing.json', '--backend', 'reference']);
    expect(r.code).toBe(2);
    expectOneLine(r.err, /case file missing\.json: no such file/);
  });

  it('input errors stay exit code 1, on one line', async () => {
    const r = await run(['loss', '--objective', 'simpo', '--batch', 'b.json'], {
      'b.json': JSON.stringify({ inputs: { chosenLogps: [[-1]], chosenMask: [[2]], rejectedLogps: [[-1]], rejectedMask: [[1]] } }),
    });
    expect(r.code).toBe(1);
    expectOneLine(r.err, /chosenMask row 0 position 0 is 2/);
  });
});
