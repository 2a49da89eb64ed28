import { PrefError } from '@pref/core';
import { conformanceCommand } from './conformance-command';
import { objectivesCommand } from './objectives-command';
import { lossCommand } from './loss-command';
import { exportCommand } from './export-command';
import { fuzzCommand } from './fuzz-command';
import { processIo, UsageError, type CliIo } from './cli-io';

export const MAIN_HELP = `pref — preference-optimization objectives on every backend

Usage: pref <command> [options]

Commands:
  align         train a small model with SFT, then each objective; write a report
  conformance   check conformance case files on a backend
  objectives    list installed objectives, parameters, defaults and presets
  loss          loss, metrics and gradient norms of one batch
  export        compile an objective's loss and gradients into an ONNX model
  fuzz          run an objective on random valid batches; report non-finite results
  bench         cross-backend benchmarks (from @pref/benchmarks)

Run "pref <command> --help" for a command's options.
Backend selection: --backend, else PREF_BACKEND, else pref.config.json, else reference.`;

type Command = (argv: string[], io: CliIo) => Promise<number>;

/** Commands that live in optional packages, imported only when used. */
function optionalCommand(packageName: string, exportName: string, install: string): Command {
  return async (argv) => {
    let module: Record<string, unknown>;
    try {
      module = (await import(/* @vite-ignore */ packageName)) as Record<string, unknown>;
    } catch (error) {
      throw new UsageError(`this command needs ${packageName}: ${install} (${(error as Error).message})`);
    }
    return (module[exportName] as (argv: string[]) => Promise<number>)(argv);
  };
}

const COMMANDS: Record<string, Command> = {
  conformance: conformanceCommand,
  objectives: objectivesCommand,
  loss: lossCommand,
  export: exportCommand,
  fuzz: fuzzCommand,
  align: optionalCommand('@pref/align', 'alignCommand', 'npm i @pref/align'),
  bench: optionalCommand('@pref/benchmarks', 'benchCommand', 'npm i @pref/benchmarks'),
};

/** A message on one line: the attempts of a backend list joined with "; ". */
function oneLine(message: string): string {
  return message
    .replace(/:\n\s*-\s*/g, ': ')
    .replace(/\n\s*-\s*/g, '; ')
    .replace(/\s*\n\s*/g, ' ');
}

/**
 * Runs the `pref` command line; returns the exit code: 0 done, 1 an error in the inputs or the
 * run (one line naming what is wrong), 2 a usage error (one line naming the option or file and
 * the fix).
 */
export async function runCli(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.out(MAIN_HELP);
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    io.err(`pref: unknown command "${name}"\n\n${MAIN_HELP}`);
    return 2;
  }
  try {
    return await command(rest, io);
  } catch (error) {
    const e = error as Error & { code?: string };
    if (error instanceof UsageError || e.code?.startsWith('ERR_PARSE_ARGS')) {
      io.err(`pref ${name}: ${oneLine(e.message)} (see pref ${name} --help)`);
      return 2;
    }
    if (error instanceof PrefError) {
      io.err(`pref ${name}: ${oneLine(e.message)}`);
      return 1;
    }
    // Not pref's own error: one line too; the stack only when asked for.
    io.err(
      `pref ${name}: ${oneLine(e?.message ?? String(error))}${io.env.PREF_DEBUG ? `\n${e?.stack ?? ''}` : ' (set PREF_DEBUG=1 for the stack trace)'}`,
    );
    return 1;
  }
}
