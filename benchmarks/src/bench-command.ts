import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { BENCH_BACKEND_CONFIGS, DEFAULT_BENCH_BACKENDS, type ImportModule } from './bench-backends';
import { WORKLOAD_KINDS, type BenchReport, type WorkloadKind } from './bench-report';
import {
  compareReports,
  DEFAULT_THRESHOLD,
  parseThreshold,
  renderComparisonMarkdown,
  renderSummaryMarkdown,
  type ReportComparison,
} from './compare-reports';
import { LINEAR_SHAPES, type LinearShape } from './linear-workload';
import { LOGITS_SHAPES, type LogitsShape } from './logits-workload';
import { renderMarkdownReport } from './markdown-report';
import { runBenchmarks, type RunBenchmarksOptions } from './run-benchmarks';
import { benchReportProblems } from './validate-bench-report';
import { writeBenchReport } from './write-bench-report';

/** Every shape name `--shapes` accepts: the logits workload's, then the linear workload's. */
export const SHAPE_NAMES: readonly string[] = [...Object.keys(LOGITS_SHAPES), ...Object.keys(LINEAR_SHAPES)];

const shapeList = (table: Readonly<Record<string, readonly number[]>>, format: (s: readonly number[]) => string) =>
  Object.entries(table)
    .map(([name, shape]) => `${name} ${format(shape)}`)
    .join(', ');

export const BENCH_HELP = `pref bench [options]

Cross-backend benchmarks: loss+gradient on logits (SimPO), loss+gradient on token log-probs
[8,128] for every installed objective, one pref align training step, and the hidden-state
(linear) workload where core has one. Every result is checked against the float64 reference
backend before it is timed. Writes bench.json (schema pref-bench/1), bench.md and bench.svg,
and prints the markdown table.

Shapes (--shapes):
  logits: ${shapeList(LOGITS_SHAPES, (s) => `[${s.join(',')}]`)}
  linear: ${shapeList(LINEAR_SHAPES, (s) => `[${s[0]},${s[1]}] H ${s[2]} V ${s[3]}`)}

Options:
  --mode small|full      small: the small shapes, few repeats (CI); full: every shape (default small)
  --shapes <list>        only these shapes (names above; default: small → small,linear-small; full → all)
  --backends <list>      comma-separated, from: ${Object.keys(BENCH_BACKEND_CONFIGS).join(', ')}
                         (default: ${DEFAULT_BENCH_BACKENDS.join(',')}; those that cannot start are skipped)
  --workloads <list>     ${WORKLOAD_KINDS.join(',')} (default all)
  --objectives <list>    objective ids for the objective workload (default every installed one)
  --repeats <n>          timed runs per cell (default small 3 / full 5; objectives 10 / 30)
  --budget <seconds>     wall-clock budget per cell (default small 20 / full 60)
  --out <dir>            output folder (default report/bench)
  --compare <file>       compare with a previous bench.json: per-cell change of the median;
                         exit code 1 on a regression (slower by more than the threshold, with
                         the two runs' interquartile ranges apart)
  --threshold <pct>      with --compare: the change that counts (default ${DEFAULT_THRESHOLD * 100}%)
  --current <file>       use this bench.json as the current run instead of running the suite
  --summary <file>       append markdown for a CI job summary (e.g. $GITHUB_STEP_SUMMARY)
  --help                 this help

Exit code: 0 when every cell that ran matched the reference and nothing regressed, 1 when a
cell failed or regressed, 2 on a usage error or a malformed --compare/--current file.`;

function list(text: string | undefined): string[] | undefined {
  return text === undefined
    ? undefined
    : text
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
}

function positive(name: string, text: string | undefined, integer: boolean): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!(value > 0) || (integer && !Number.isInteger(value)))
    throw new UsageError(`--${name} must be a positive ${integer ? 'integer' : 'number'}, got "${text}"`);
  return value;
}

class UsageError extends Error {
  override name = 'UsageError';
}

/**
 * The logits and linear shapes named by `--shapes` (comma-separated). Throws a one-line error
 * naming every known shape for an unknown or empty list.
 */
export function parseShapes(text: string): {
  logitsShapes: { name: string; shape: LogitsShape }[];
  linearShapes: { name: string; shape: LinearShape }[];
} {
  const names = list(text) ?? [];
  const unknown = names.filter((n) => !SHAPE_NAMES.includes(n));
  if (unknown.length || names.length === 0) {
    const what = unknown.length
      ? `unknown shape${unknown.length > 1 ? 's' : ''} ${unknown.map((n) => `"${n}"`).join(', ')}`
      : 'no shape named';
    throw new RangeError(`--shapes: ${what}; known shapes: ${SHAPE_NAMES.join(', ')}`);
  }
  const unique = [...new Set(names)];
  return {
    logitsShapes: unique
      .filter((n): n is keyof typeof LOGITS_SHAPES => n in LOGITS_SHAPES)
      .map((name) => ({ name, shape: LOGITS_SHAPES[name] })),
    linearShapes: unique
      .filter((n): n is keyof typeof LINEAR_SHAPES => n in LINEAR_SHAPES)
      .map((name) => ({ name, shape: LINEAR_SHAPES[name] })),
  };
}

/** A malformed `--compare` / `--current` file: exit code 2, one line naming the file. */
class ReportFileError extends Error {
  override name = 'ReportFileError';
}

/**
 * Reads and validates a `pref-bench/1` report file. Throws a `ReportFileError` whose message
 * is one line naming the file and what is wrong (unreadable, not JSON, or the first problems
 * the validator found).
 */
export async function loadBenchReport(path: string): Promise<BenchReport> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ReportFileError(`${path}: cannot be read (${String((error as Error).message).split('\n')[0]})`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ReportFileError(`${path}: not valid JSON (${String((error as Error).message).split('\n')[0]})`);
  }
  const problems = benchReportProblems(value);
  if (problems.length) {
    const more = problems.length > 3 ? `; and ${problems.length - 3} more` : '';
    throw new ReportFileError(`${path}: not a pref-bench/1 report: ${problems.slice(0, 3).join('; ')}${more}`);
  }
  return value as BenchReport;
}

export interface BenchCommandIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly importModule?: ImportModule;
  /** Overrides of the run's options (tests: an injected `valueAndGrad`, a fixed bandwidth). */
  readonly runOptions?: Partial<RunBenchmarksOptions>;
}

const processIo: BenchCommandIo = {
  out: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
  err: (text) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
};

/** Options that configure a run, which a stored `--current` report cannot honour. */
const RUN_OPTIONS = ['mode', 'shapes', 'backends', 'workloads', 'objectives', 'repeats', 'budget', 'out'] as const;

/**
 * `pref bench`: runs the suite (or loads `--current`), writes the report files, prints the
 * markdown table, compares with `--compare` and appends `--summary`. Returns the exit code: 0
 * when every cell that ran matched the reference and no cell regressed, 1 when one failed or
 * regressed, 2 on a usage error or a malformed report file.
 */
export async function benchCommand(argv: string[], io: BenchCommandIo = processIo): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        mode: { type: 'string' },
        shapes: { type: 'string' },
        backends: { type: 'string' },
        workloads: { type: 'string' },
        objectives: { type: 'string' },
        repeats: { type: 'string' },
        budget: { type: 'string' },
        out: { type: 'string' },
        compare: { type: 'string' },
        threshold: { type: 'string' },
        current: { type: 'string' },
        summary: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    io.err(`pref bench: ${(error as Error).message} (see pref bench --help)`);
    return 2;
  }
  if (values.help) {
    io.out(BENCH_HELP);
    return 0;
  }
  let options: RunBenchmarksOptions;
  let threshold = DEFAULT_THRESHOLD;
  try {
    const mode = values.mode ?? 'small';
    if (mode !== 'small' && mode !== 'full') throw new UsageError(`--mode must be small or full, got "${mode}"`);
    let shapes: ReturnType<typeof parseShapes> | undefined;
    if (values.shapes !== undefined) {
      try {
        shapes = parseShapes(values.shapes);
      } catch (error) {
        throw new UsageError((error as Error).message);
      }
    }
    const backends = list(values.backends);
    const unknown = backends?.filter((b) => !(b in BENCH_BACKEND_CONFIGS));
    if (unknown?.length)
      throw new UsageError(`unknown backend ${unknown.join(', ')}; expected some of ${Object.keys(BENCH_BACKEND_CONFIGS).join(', ')}`);
    const workloads = list(values.workloads);
    const badWorkload = workloads?.find((w) => !WORKLOAD_KINDS.includes(w as WorkloadKind));
    if (badWorkload) throw new UsageError(`unknown workload "${badWorkload}"; expected some of ${WORKLOAD_KINDS.join(', ')}`);
    const repeats = positive('repeats', values.repeats, true);
    if (values.threshold !== undefined) {
      if (values.compare === undefined) throw new UsageError('--threshold needs --compare <baseline.json>');
      try {
        threshold = parseThreshold(values.threshold);
      } catch (error) {
        throw new UsageError((error as Error).message);
      }
    }
    if (values.current !== undefined) {
      const given = RUN_OPTIONS.filter((name) => values[name] !== undefined);
      if (given.length) throw new UsageError(`--current uses a stored report: ${given.map((n) => `--${n}`).join(', ')} cannot apply to it`);
    }
    options = {
      mode,
      backends,
      workloads: workloads as WorkloadKind[] | undefined,
      objectives: list(values.objectives),
      repeats,
      objectiveRepeats: repeats,
      cellBudgetSeconds: positive('budget', values.budget, false),
      ...(shapes && { logitsShapes: shapes.logitsShapes, linearShapes: shapes.linearShapes }),
      command: ['pref bench', ...argv].join(' '),
      log: (line: string) => io.err(`pref bench: ${line}`),
      importModule: io.importModule,
      ...io.runOptions,
    };
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.err(`pref bench: ${error.message} (see pref bench --help)`);
    return 2;
  }

  let baseline: BenchReport | null = null;
  let report: BenchReport;
  try {
    if (values.compare !== undefined) baseline = await loadBenchReport(values.compare);
    report = values.current !== undefined ? await loadBenchReport(values.current) : await runBenchmarks(options);
  } catch (error) {
    if (!(error instanceof ReportFileError)) throw error;
    io.err(`pref bench: ${error.message}`);
    return 2;
  }
  const markdown = renderMarkdownReport(report);
  if (values.current === undefined) {
    const files = await writeBenchReport(report, values.out ?? 'report/bench');
    io.err(`pref bench: wrote ${files.join(', ')}`);
  }
  io.out(markdown);

  let comparison: ReportComparison | null = null;
  if (baseline) {
    comparison = compareReports(baseline, report, threshold);
    io.out(renderComparisonMarkdown(comparison, `\`${values.compare}\``));
  }
  if (values.summary !== undefined) {
    await mkdir(dirname(values.summary), { recursive: true });
    await appendFile(
      values.summary,
      renderSummaryMarkdown(report, markdown, comparison && { result: comparison, label: `\`${values.compare}\`` }),
    );
    io.err(`pref bench: appended the summary to ${values.summary}`);
  }
  const failed = report.results.filter((c) => c.status === 'failed').length;
  const regressed = comparison?.counts.regression ?? 0;
  if (regressed)
    io.err(
      `pref bench: ${regressed} cell${regressed === 1 ? '' : 's'} regressed beyond ${+(threshold * 100).toFixed(2)}% against ${values.compare}`,
    );
  return failed || regressed ? 1 : 0;
}
