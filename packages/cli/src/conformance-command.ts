import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parseConformanceFile, runConformanceCase, type ConformanceComputed } from '@pref/core';
import { backendFromOptions } from './backend-from-options';
import { loadObjectives } from './objective-registry';
import { readJsonFile } from './read-json-file';
import { UsageError, type CliIo } from './cli-io';

export const CONFORMANCE_HELP = `pref conformance <files...> [--backend <name>] [--precision 32|64] [--out <file>]

Checks every case of the conformance files on a backend (format: pref-conformance/1).
Prints one line per failing case and a final "N passed, M failed" line; exits 1 on any
failure. Cases of objectives that are not installed are counted as skipped.

  --backend <name>     reference | tfjs | onnxruntime | webgpu (default: PREF_BACKEND,
                       pref.config.json, else reference)
  --precision 32|64    float precision where the backend offers a choice
  --out <file>         also write what was computed (pref-conformance-results/1)
  --verbose            print a line for passing and skipped cases too`;

export async function conformanceCommand(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      backend: { type: 'string' },
      precision: { type: 'string' },
      out: { type: 'string' },
      verbose: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    io.out(CONFORMANCE_HELP);
    return 0;
  }
  if (positionals.length === 0) throw new UsageError('name at least one case file');
  const backend = await backendFromOptions(io, values.backend, values.precision);
  const objectives = await loadObjectives();
  const results: Record<string, ConformanceComputed> = {};
  const counts = { passed: 0, failed: 0, skipped: 0 };
  for (const file of positionals) {
    const parsed = await readJsonFile(io.cwd, 'case file', file, 'a pref-conformance/1 file');
    let cases;
    try {
      cases = parseConformanceFile(JSON.stringify(parsed), file).cases;
    } catch (error) {
      throw new UsageError(`case file ${(error as Error).message}`);
    }
    for (const testCase of cases) {
      const outcome = await runConformanceCase(testCase, { backend, objectives });
      counts[outcome.status]++;
      if (outcome.computed) results[testCase.id] = outcome.computed;
      if (outcome.status === 'failed') io.out(`FAIL ${testCase.id}: ${outcome.reason}`);
      else if (values.verbose)
        io.out(`${outcome.status === 'passed' ? 'ok  ' : 'skip'} ${testCase.id}${outcome.reason ? `: ${outcome.reason}` : ''}`);
    }
  }
  if (values.out) {
    const document = { format: 'pref-conformance-results/1', backend: backend.name, precision: backend.capabilities.precision, results };
    await writeFile(resolve(io.cwd, values.out), `${JSON.stringify(document, null, 2)}\n`);
  }
  io.out(`backend ${backend.name}, float${backend.capabilities.precision}, ${positionals.length} file(s)`);
  io.out(`${counts.passed} passed, ${counts.failed} failed${counts.skipped ? `, ${counts.skipped} skipped` : ''}`);
  return counts.failed > 0 ? 1 : 0;
}
