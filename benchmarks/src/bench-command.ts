import { parseArgs } from 'node:util';
import { BENCH_BACKEND_CONFIGS, DEFAULT_BENCH_BACKENDS, type ImportModule } from './bench-backends';
import type { WorkloadKind } from './bench-report';
import { renderMarkdownReport } from './markdown-report';
import { runBenchmarks } from './run-benchmarks';
import { writeBenchReport } from './write-bench-report';

export const BENCH_HELP = `pref bench [options]

Cross-backend benchmarks: loss+gradient on logits (SimPO, shapes small [8,128,4096],
medium [8,256,32000], large [16,512,32000]), loss+gradient on token log-probs [8,128] for
every installed objective, and one pref align training step. Every result is checked against
the float64 reference backend before it is timed. Writes bench.json (schema pref-bench/1),
bench.md and bench.svg, and prints the markdown table.

Options:
  --mode small|full      small: the small shape, few repeats (CI); full: every shape (default small)
  --backends <list>      comma-separated, from: ${Object.keys(BENCH_BACKEND_CONFIGS).join(', ')}
                         (default: ${DEFAULT_BENCH_BACKENDS.join(',')}; those that cannot start are skipped)
  --workloads <list>     logits,objective,align (default all)
  --objectives <list>    objective ids for the objective workload (default every installed one)
  --repeats <n>          timed runs per cell (default small 3 / full 5; objectives 10 / 30)
  --budget <seconds>     wall-clock budget per cell (default small 20 / full 60)
  --out <dir>            output folder (default report/bench)
  --help                 this help`;

const WORKLOADS: readonly WorkloadKind[] = ['logits', 'objective', 'align'];

function list(text: string | undefined): string[] | undefined {
  return text === undefined ? undefined : text.split(',').map((s) => s.trim()).filter(Boolean);
}

function positive(name: string, text: string | undefined, integer: boolean): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!(value > 0) || (integer && !Number.isInteger(value))) throw new UsageError(`--${name} must be a positive ${integer ? 'integer' : 'number'}, got "${text}"`);
  return value;
}

class UsageError extends Error {
  override name = 'UsageError';
}

export interface BenchCommandIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly importModule?: ImportModule;
}

const processIo: BenchCommandIo = {
  out: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
  err: (text) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
};

/**
 * `pref bench`: runs the suite, writes the report files and prints the markdown table. Returns
 * the exit code: 0 when every cell that ran matched the reference, 1 when one failed, 2 on a
 * usage error.
 */
export async function benchCommand(argv: string[], io: BenchCommandIo = processIo): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        mode: { type: 'string' }, backends: { type: 'string' }, workloads: { type: 'string' }, objectives: { type: 'string' },
        repeats: { type: 'string' }, budget: { type: 'string' }, out: { type: 'string' }, help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    io.err(`pref bench: ${(error as Error).message}\n\n${BENCH_HELP}`);
    return 2;
  }
  if (values.help) {
    io.out(BENCH_HELP);
    return 0;
  }
  let options;
  try {
    const mode = values.mode ?? 'small';
    if (mode !== 'small' && mode !== 'full') throw new UsageError(`--mode must be small or full, got "${mode}"`);
    const backends = list(values.backends);
    const unknown = backends?.filter((b) => !(b in BENCH_BACKEND_CONFIGS));
    if (unknown?.length) throw new UsageError(`unknown backend ${unknown.join(', ')}; expected some of ${Object.keys(BENCH_BACKEND_CONFIGS).join(', ')}`);
    const workloads = list(values.workloads);
    const badWorkload = workloads?.find((w) => !WORKLOADS.includes(w as WorkloadKind));
    if (badWorkload) throw new UsageError(`unknown workload "${badWorkload}"; expected some of ${WORKLOADS.join(', ')}`);
    const repeats = positive('repeats', values.repeats, true);
    options = {
      mode,
      backends,
      workloads: workloads as WorkloadKind[] | undefined,
      objectives: list(values.objectives),
      repeats,
      objectiveRepeats: repeats,
      cellBudgetSeconds: positive('budget', values.budget, false),
      command: ['pref bench', ...argv].join(' '),
      log: (line: string) => io.err(`pref bench: ${line}`),
      importModule: io.importModule,
    } as const;
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.err(`pref bench: ${error.message}\nRun "pref bench --help" for usage.`);
    return 2;
  }
  const report = await runBenchmarks(options);
  const files = await writeBenchReport(report, values.out ?? 'report/bench');
  io.out(renderMarkdownReport(report));
  io.err(`pref bench: wrote ${files.join(', ')}`);
  return report.results.some((c) => c.status === 'failed') ? 1 : 0;
}
