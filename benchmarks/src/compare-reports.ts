import type { BenchCell, BenchMachine, BenchReport, WorkloadKind } from './bench-report';
import { formatBytes, formatMilliseconds } from './format-units';
import { markdownTable } from './markdown-report';

/** The default `--threshold`: a cell counts as changed when its median moved by more than 10%. */
export const DEFAULT_THRESHOLD = 0.1;

/**
 * What one cell did between the two runs.
 * - `regression`: the median is slower by more than the threshold **and** the interquartile
 *   ranges do not overlap (the current run's q1 is above the baseline's q3).
 * - `improvement`: the mirror image (faster by more than the threshold, current q3 below the baseline q1).
 * - `noisy`: the median moved by more than the threshold but the ranges overlap: within the noise.
 * - `unchanged`: the median moved by at most the threshold.
 * - `not compared`: not `ok` with a timing in both runs, or the shape changed.
 */
export type CellVerdict = 'regression' | 'improvement' | 'noisy' | 'unchanged' | 'not compared';

export interface CellKey {
  readonly workload: WorkloadKind;
  readonly case: string;
  readonly backend: string;
}

export interface TimingSpread {
  readonly median: number;
  readonly q1: number;
  readonly q3: number;
  readonly count: number;
}

export interface CellComparison extends CellKey {
  readonly baselineStatus: BenchCell['status'];
  readonly currentStatus: BenchCell['status'];
  readonly baseline: TimingSpread | null;
  readonly current: TimingSpread | null;
  /** Current median over the baseline median (> 1: slower); null when not compared. */
  readonly ratio: number | null;
  readonly verdict: CellVerdict;
  /** Why a cell was not compared. */
  readonly reason?: string;
}

export interface ReportComparison {
  /** Relative threshold, e.g. 0.1 for 10%. */
  readonly threshold: number;
  /** Cells present in both runs, in the current run's order. */
  readonly cells: readonly CellComparison[];
  readonly onlyInBaseline: readonly CellKey[];
  readonly onlyInCurrent: readonly CellKey[];
  readonly counts: Readonly<Record<CellVerdict, number>>;
  /** How the machines differ (CPU model, count, platform), or null when they match. */
  readonly machineDifference: string | null;
  /**
   * When both runs probed the memory bandwidth and the all-core bound moved by more than the
   * threshold: the machine was busier (or otherwise different) in one run, so a change of every
   * cell may be the machine's. Null otherwise. It does not change any verdict.
   */
  readonly machineStateDifference: string | null;
  readonly baseline: { readonly createdAt: string; readonly command: string; readonly machine: BenchMachine };
}

const keyOf = (c: CellKey) => `${c.workload}\u0000${c.case}\u0000${c.backend}`;
const spreadOf = (cell: BenchCell): TimingSpread | null =>
  cell.status === 'ok' && cell.timing
    ? { median: cell.timing.median, q1: cell.timing.q1, q3: cell.timing.q3, count: cell.timing.count }
    : null;

/**
 * The verdict for one timed cell: `ratio = current.median / baseline.median`; a change beyond
 * the threshold is `ratio > 1 + threshold` (slower) or `ratio < 1 / (1 + threshold)` (faster,
 * the same distance on a log scale), and it counts only when the two runs' interquartile
 * ranges `[q1, q3]` are disjoint. A run of one sample has a zero-width range, so only the
 * threshold applies to it.
 */
export function verdictOf(baseline: TimingSpread, current: TimingSpread, threshold: number): { ratio: number; verdict: CellVerdict } {
  const ratio = current.median / baseline.median;
  const slower = ratio > 1 + threshold;
  const faster = ratio < 1 / (1 + threshold);
  if (slower) return { ratio, verdict: current.q1 > baseline.q3 ? 'regression' : 'noisy' };
  if (faster) return { ratio, verdict: current.q3 < baseline.q1 ? 'improvement' : 'noisy' };
  return { ratio, verdict: 'unchanged' };
}

function describeMachine(m: BenchMachine): string {
  return `${m.cpuModel}, ${m.cpus} CPUs, ${m.platform}/${m.arch}`;
}

function whyNotCompared(baseline: BenchCell, current: BenchCell): string | null {
  const side = (name: string, cell: BenchCell) =>
    cell.status !== 'ok' ? `${name} ${cell.status}${cell.reason ? `: ${cell.reason}` : ''}` : !cell.timing ? `${name} has no timing` : null;
  const reason = side('baseline', baseline) ?? side('current', current);
  if (reason) return reason;
  if (baseline.shape.join(',') !== current.shape.join(','))
    return `shape changed from [${baseline.shape.join(',')}] to [${current.shape.join(',')}]`;
  return null;
}

/**
 * Matches the cells of two reports by workload × case × backend and judges each timed pair
 * (see `CellVerdict`). Cells present in only one report are listed, never counted as
 * regressions; neither are cells that are not `ok` in one of them (a failure is the run's own
 * exit code).
 */
export function compareReports(baseline: BenchReport, current: BenchReport, threshold = DEFAULT_THRESHOLD): ReportComparison {
  if (!(threshold > 0) || !Number.isFinite(threshold)) throw new RangeError(`threshold must be a positive number, got ${threshold}`);
  const before = new Map<string, BenchCell>();
  for (const cell of baseline.results) if (!before.has(keyOf(cell))) before.set(keyOf(cell), cell);
  const seen = new Set<string>();
  const cells: CellComparison[] = [];
  const onlyInCurrent: CellKey[] = [];
  for (const cell of current.results) {
    const key = keyOf(cell);
    if (seen.has(key)) continue;
    seen.add(key);
    const old = before.get(key);
    const key2: CellKey = { workload: cell.workload, case: cell.case, backend: cell.backend };
    if (!old) {
      onlyInCurrent.push(key2);
      continue;
    }
    const id = { ...key2, baselineStatus: old.status, currentStatus: cell.status };
    const reason = whyNotCompared(old, cell);
    const a = spreadOf(old);
    const b = spreadOf(cell);
    if (reason || !a || !b) {
      cells.push({ ...id, baseline: a, current: b, ratio: null, verdict: 'not compared', reason: reason ?? 'no timing' });
      continue;
    }
    cells.push({ ...id, baseline: a, current: b, ...verdictOf(a, b, threshold) });
  }
  const onlyInBaseline = [...before.entries()]
    .filter(([key]) => !seen.has(key))
    .map(([, c]) => ({ workload: c.workload, case: c.case, backend: c.backend }));
  const counts: Record<CellVerdict, number> = { regression: 0, improvement: 0, noisy: 0, unchanged: 0, 'not compared': 0 };
  for (const cell of cells) counts[cell.verdict]++;
  const a = baseline.machine;
  const b = current.machine;
  const machineDifference =
    a.cpuModel !== b.cpuModel || a.cpus !== b.cpus || a.platform !== b.platform || a.arch !== b.arch
      ? `the baseline ran on ${describeMachine(a)}, this run on ${describeMachine(b)}`
      : null;
  let machineStateDifference: string | null = null;
  if (baseline.bandwidth && current.bandwidth) {
    const ratio = current.bandwidth.boundBytesPerSecond / baseline.bandwidth.boundBytesPerSecond;
    if (ratio > 1 + threshold || ratio < 1 / (1 + threshold)) {
      const load = (m: BenchMachine) => (m.loadAverage ? `, load average ${m.loadAverage[0].toFixed(1)} at the start` : '');
      machineStateDifference =
        `the memory bandwidth probe's all-core bound was ${(current.bandwidth.boundBytesPerSecond / 1e9).toFixed(1)} GB/s in this run${load(b)} ` +
        `against ${(baseline.bandwidth.boundBytesPerSecond / 1e9).toFixed(1)} GB/s in the baseline${load(a)} (${percent(ratio)})`;
    }
  }
  return {
    threshold,
    cells,
    onlyInBaseline,
    onlyInCurrent,
    counts,
    machineDifference,
    machineStateDifference,
    baseline: { createdAt: baseline.createdAt, command: baseline.command, machine: baseline.machine },
  };
}

/** `10%` → 0.1, `2.5%` → 0.025; a bare number is a percentage too (`10` → 0.1). Throws on anything else. */
export function parseThreshold(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*%?\s*$/.exec(text);
  const value = match ? Number(match[1]) / 100 : Number.NaN;
  if (!(value > 0) || !Number.isFinite(value)) throw new RangeError(`--threshold must be a positive percentage such as 10%, got "${text}"`);
  return value;
}

const percent = (ratio: number) => {
  const change = (ratio - 1) * 100;
  return `${change >= 0 ? '+' : '−'}${Math.abs(change).toFixed(1)}%`;
};
const spreadText = (s: TimingSpread | null) =>
  s ? `${formatMilliseconds(s.median)} (${formatMilliseconds(s.q1)}–${formatMilliseconds(s.q3)})` : '';
const keyText = (k: CellKey) => `${k.workload} ${k.case} ${k.backend}`;
const thresholdText = (t: number) => `${+(t * 100).toFixed(2)}%`;

/** One sentence: regressions, improvements, and the rest, against the threshold. */
export function comparisonHeadline(c: ReportComparison): string {
  const n = c.counts;
  const parts = [
    `${n.regression} regression${n.regression === 1 ? '' : 's'} beyond ${thresholdText(c.threshold)}`,
    `${n.improvement} improvement${n.improvement === 1 ? '' : 's'}`,
    `${n.noisy} beyond the threshold but within the noise`,
    `${n.unchanged} unchanged`,
  ];
  if (n['not compared']) parts.push(`${n['not compared']} not compared`);
  if (c.onlyInBaseline.length) parts.push(`${c.onlyInBaseline.length} only in the baseline`);
  if (c.onlyInCurrent.length) parts.push(`${c.onlyInCurrent.length} only in this run`);
  return `${parts.join(', ')}.`;
}

/**
 * The comparison as markdown: a headline, the rule, a per-cell table (baseline and current
 * median with their interquartile range, change of the median, verdict), the cells present in
 * only one run, and a warning when the machines differ.
 */
export function renderComparisonMarkdown(c: ReportComparison, baselineLabel: string): string {
  const out: string[] = [];
  out.push(`### Comparison with ${baselineLabel}`, '');
  out.push(`Baseline: \`${c.baseline.command}\` — ${c.baseline.createdAt}.`, '');
  if (c.machineDifference) out.push(`**Different machine:** ${c.machineDifference}; differences may be the machine's, not the code's.`, '');
  if (c.machineStateDifference)
    out.push(
      `**Machine state changed:** ${c.machineStateDifference}; a change of every cell may be the machine's (other work running), not the code's.`,
      '',
    );
  out.push(`**${comparisonHeadline(c)}**`, '');
  out.push(
    `Change = current median / baseline median − 1. A cell regresses when it is more than ${thresholdText(c.threshold)} slower ` +
      'and the interquartile ranges (q1–q3) of the two runs do not overlap; more than the threshold with overlapping ranges is noise.',
    '',
  );
  // Cells that ran in neither report (skipped or failed twice) are counted, not tabled.
  const neither = c.cells.filter((cell) => cell.baselineStatus !== 'ok' && cell.currentStatus !== 'ok');
  const shown = c.cells.filter((cell) => !neither.includes(cell));
  if (shown.length) {
    out.push(
      markdownTable(
        ['workload', 'case', 'backend', 'baseline ms (q1–q3)', 'current ms (q1–q3)', 'change', 'verdict'],
        shown.map((cell) => [
          cell.workload,
          cell.case,
          cell.backend,
          spreadText(cell.baseline),
          spreadText(cell.current),
          cell.ratio === null ? '' : percent(cell.ratio),
          cell.verdict === 'not compared'
            ? `not compared: ${cell.reason ?? ''}`
            : cell.verdict === 'regression'
              ? '**regression**'
              : cell.verdict,
        ]),
      ),
    );
  }
  if (neither.length)
    out.push('', `${neither.length} cell${neither.length === 1 ? '' : 's'} skipped or failed in both runs (not compared, not tabled).`);
  if (c.onlyInBaseline.length) out.push('', `Only in the baseline (not failures): ${c.onlyInBaseline.map(keyText).join('; ')}.`);
  if (c.onlyInCurrent.length) out.push('', `Only in this run (not failures): ${c.onlyInCurrent.map(keyText).join('; ')}.`);
  return `${out.join('\n')}\n`;
}

function machineFacts(m: BenchMachine): string {
  return (
    `${m.cpuModel}, ${m.cpus} CPUs, ${formatBytes(m.totalMemoryBytes)} RAM, ${m.platform}/${m.arch}, Node ${m.node}` +
    (m.loadAverage ? `, load average ${m.loadAverage.map((l) => l.toFixed(1)).join(' / ')} at the start` : '')
  );
}

/**
 * Markdown for a CI job summary (`$GITHUB_STEP_SUMMARY`): a result line (failed cells and
 * regressions), the comparison when there is one, the machine facts of both runs, then the
 * run's own report (tables, bandwidth probe, skips).
 */
export function renderSummaryMarkdown(
  report: BenchReport,
  reportMarkdown: string,
  comparison: { readonly result: ReportComparison; readonly label: string } | null,
): string {
  const failed = report.results.filter((c) => c.status === 'failed');
  const regressions = comparison?.result.counts.regression ?? 0;
  const verdict = failed.length || regressions ? 'FAIL' : 'PASS';
  const out: string[] = [];
  out.push(`## pref bench: ${verdict}`, '');
  const lines: string[] = [];
  lines.push(
    failed.length
      ? `${failed.length} cell${failed.length === 1 ? '' : 's'} failed the check against the float64 reference: ${failed.map(keyText).join('; ')}.`
      : 'Every cell that ran matched the float64 reference.',
  );
  if (comparison) {
    lines.push(`Against ${comparison.label}: ${comparisonHeadline(comparison.result)}`);
    if (comparison.result.machineDifference) lines.push(`Different machine: ${comparison.result.machineDifference}.`);
    if (comparison.result.machineStateDifference) lines.push(`Machine state changed: ${comparison.result.machineStateDifference}.`);
  } else lines.push('No baseline to compare with.');
  out.push(...lines.map((l) => `- ${l}`), '');
  if (comparison) out.push(renderComparisonMarkdown(comparison.result, comparison.label));
  out.push('### Machine', '');
  out.push(`- this run: ${machineFacts(report.machine)}`);
  if (comparison) out.push(`- baseline: ${machineFacts(comparison.result.baseline.machine)}`);
  out.push('');
  // The report's own headings one level down, under this summary's.
  out.push(reportMarkdown.replace(/^(#{2,5}) /gm, (_, hashes: string) => `#${hashes} `));
  return `${out.join('\n')}\n`;
}
