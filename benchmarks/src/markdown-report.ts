import type { BenchCell, BenchReport } from './bench-report';
import type { KernelRates, MemoryBandwidth } from './memory-bandwidth';
import { formatBytes, formatMilliseconds } from './format-units';

/** A markdown table; `|` and newlines in cells are escaped so every row has the header's cell count. */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const escape = (text: string) => text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
  const line = (cells: readonly string[]) => `| ${cells.map(escape).join(' | ')} |`;
  for (const row of rows) {
    if (row.length !== header.length) throw new RangeError(`markdown row has ${row.length} cells, the header ${header.length}`);
  }
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

const gbps = (bytesPerSecond: number) => `${(bytesPerSecond / 1e9).toFixed(1)} GB/s`;

function timingText(cell: BenchCell): string {
  if (cell.status !== 'ok' || !cell.timing) return cell.status;
  const t = cell.timing;
  return `${formatMilliseconds(t.median)} (${formatMilliseconds(t.min)}–${formatMilliseconds(t.max)})`;
}

function statusText(cell: BenchCell): string {
  if (cell.status === 'ok') return cell.check ? `ok (${cell.check.worstRatio.toExponential(0)} of tol)` : 'ok (unchecked)';
  return `${cell.status}: ${cell.reason ?? ''}`;
}

/** One line on the bandwidth probe: the threaded probe's single- and all-thread kernels, or an older report's single-thread one. */
export function bandwidthLine(b: MemoryBandwidth): string {
  if (b.allThreads && b.singleThread && b.threads !== undefined) {
    const rates = (r: KernelRates) => `copy ${gbps(r.copy)}, read ${gbps(r.read)}, write ${gbps(r.write)}, triad ${gbps(r.triad)}`;
    return (
      `Memory bandwidth probe (3 × ${formatBytes(b.bufferBytes)} shared arrays, best of ${b.repeats}${b.largestCacheBytes ? `; largest cache ${formatBytes(b.largestCacheBytes)}` : ''}): ` +
      `1 thread ${rates(b.singleThread)}; ${b.threads} threads ${rates(b.allThreads)}. ` +
      `Bounds: all-core ${gbps(b.boundBytesPerSecond)} (used for × bound), single-thread ${gbps(b.singleThreadBoundBytesPerSecond ?? b.singleThread.copy)}` +
      `${b.firstTouchBytesPerSecond ? `; first touch of fresh memory ${gbps(b.firstTouchBytesPerSecond)}` : ''}.`
    );
  }
  return (
    `Memory bandwidth probe (${formatBytes(b.bufferBytes)} buffers, one thread): copy ${gbps(b.copyBytesPerSecond)}, read ${gbps(b.readBytesPerSecond)}, ` +
    `write ${gbps(b.writeBytesPerSecond)}; bound used: ${gbps(b.boundBytesPerSecond)}.`
  );
}

function logitsTableNote(report: BenchReport): string {
  const b = report.bandwidth;
  const bound = b
    ? b.threads !== undefined
      ? ` × bound = median over the C-style bound: the time to read the logits twice and write the gradient once (3·N·T·V·precision/8 bytes) at the all-core bound ${gbps(b.boundBytesPerSecond)} (${b.threads} threads; single-thread bound ${gbps(b.singleThreadBoundBytesPerSecond ?? 0)}).`
      : ` × bound = median over that traffic at ${gbps(b.boundBytesPerSecond)} (this report's single-thread probe).`
    : '';
  return (
    `Median ms (min–max) over the timed runs; bytes = read logits twice + write the gradient once.${bound} ` +
    'grad out: "in place" when the gradients came back in caller-owned buffers (valueAndGrad\'s gradients option), else "returned". ' +
    'New large buffers / call: the backend\'s own count of buffers ≥ 1 MiB per steady-state call (its stats()), "n/a" without one; ' +
    "new bytes / call: median growth of the process's array-buffer / external memory across a call (a lower bound)."
  );
}

function largeBuffersText(cell: BenchCell): string {
  const a = cell.allocations;
  if (!a) return '';
  const count = a.backend?.largeBufferAllocationsPerCall;
  if (count === null || count === undefined) return 'n/a';
  const bytes = a.backend?.largeBufferBytesPerCall;
  const n = Number.isInteger(count) ? String(count) : count.toFixed(2);
  return bytes === null || bytes === undefined ? n : `${n} (${formatBytes(bytes)})`;
}

const LINEAR_TABLE_NOTE =
  'Median ms (min–max). Peak RSS Δ: the largest over the timed runs, and (after the slash) of the first, cold run. ' +
  'Matmul + logits: logits = hidden·Wᵀ with a matmul, the logits-path loss + gradient, then dHidden = dZ·W and dW = dZᵀ·hidden, on the same backend, checked against the same oracle. ' +
  'Ratio = fused median / matmul + logits median (target ≤ 1.3). Oracle: pure-ts (float64 TypeScript rows) or wasm (the float64 reference backend with its WebAssembly kernels).';

/** Columns of the linear table. */
export const LINEAR_TABLE_HEADER = [
  'shape',
  'backend',
  'median ms (min–max)',
  'peak RSS Δ (runs / first)',
  'chunk fwd / bwd',
  'matmul + logits ms (min–max)',
  'its peak RSS Δ (runs / first)',
  'fused / (matmul + logits)',
  'oracle',
  'check',
] as const;

const rssText = (runs: number | undefined, first: number | undefined) =>
  runs === undefined ? '' : `${formatBytes(runs)}${first !== undefined ? ` / ${formatBytes(first)}` : ''}`;

/** One row of the linear table. */
export function linearRow(c: BenchCell): string[] {
  const [b, t, h, v] = c.shape;
  const l = c.linear;
  const base = l?.baseline;
  const baseTiming =
    base?.status === 'ok' && base.timing
      ? `${formatMilliseconds(base.timing.median)} (${formatMilliseconds(base.timing.min)}–${formatMilliseconds(base.timing.max)})`
      : base
        ? `${base.status}${base.reason ? `: ${base.reason}` : ''}`
        : '';
  return [
    `${c.case} [${b},${t}] H ${h} V ${v}`,
    c.backend,
    timingText(c),
    rssText(c.memory?.peakRssDeltaBytes, l?.firstRunPeakRssDeltaBytes),
    l?.chunkSize ? `${l.chunkSize.forward} / ${l.chunkSize.backward}` : '',
    baseTiming,
    base?.status === 'ok' ? rssText(base.peakRssDeltaBytes, base.firstRunPeakRssDeltaBytes) : '',
    l?.ratio !== undefined ? l.ratio.toFixed(2) : 'n/a',
    l?.oracle ?? '',
    statusText(c),
  ];
}

/**
 * The report as markdown: machine and bandwidth, the backends, the logits table (median ms
 * with min–max, achieved bandwidth, fraction of the machine's bandwidth, peak memory), the
 * objective table (median ms per objective and backend), the align step, and every skip and
 * failure with its reason.
 */
export function renderMarkdownReport(report: BenchReport): string {
  const m = report.machine;
  const out: string[] = [];
  out.push(`## pref bench (${report.mode})`, '');
  out.push(`\`${report.command}\` — ${report.createdAt}, ${report.totalSeconds.toFixed(0)} s`, '');
  out.push(
    `Machine: ${m.cpuModel}, ${m.cpus} CPUs, ${formatBytes(m.totalMemoryBytes)} RAM, ${m.platform}/${m.arch}, Node ${m.node}${m.loadAverage ? `; load average ${m.loadAverage.map((l) => l.toFixed(1)).join(' / ')} at the start` : ''}.`,
  );
  if (report.bandwidth) out.push(bandwidthLine(report.bandwidth));
  out.push('');
  out.push('### Backends', '');
  out.push(
    markdownTable(
      ['backend', 'status', 'name', 'precision', 'reason'],
      report.backends.map((b) => [b.id, b.status, b.name ?? '', b.precision ? `float${b.precision}` : '', b.reason ?? '']),
    ),
  );
  const started = report.backends.filter((b) => b.status === 'started').map((b) => b.id);

  const logits = report.results.filter((c) => c.workload === 'logits' && started.includes(c.backend));
  if (logits.length) {
    out.push('', '### Loss + gradient on logits (SimPO, chosen/rejected halves)', '');
    out.push(logitsTableNote(report), '');
    out.push(
      markdownTable(
        [
          'shape',
          'backend',
          'median ms (min–max)',
          'IQR ms',
          'GB/s',
          '% of all-core bound',
          'C-style bound ms',
          '× bound',
          'peak RSS Δ',
          'gradient',
          'grad out',
          'new large buffers / call',
          'new bytes / call',
          'device peak',
          'input',
          'check',
        ],
        logits.map((c) => [
          `${c.case} [${c.shape.join(',')}]`,
          c.backend,
          timingText(c),
          c.timing ? formatMilliseconds(c.timing.iqr) : '',
          c.bandwidth ? (c.bandwidth.bytesPerSecond / 1e9).toFixed(2) : '',
          c.bandwidth ? `${(100 * c.bandwidth.fraction).toFixed(1)}%` : '',
          c.bandwidth?.cStyleBoundMs !== undefined ? formatMilliseconds(c.bandwidth.cStyleBoundMs) : '',
          c.bandwidth ? c.bandwidth.boundRatio.toFixed(1) : '',
          c.memory ? formatBytes(c.memory.peakRssDeltaBytes) : '',
          c.memory?.gradientBytes !== undefined ? formatBytes(c.memory.gradientBytes) : '',
          c.gradientOutput === 'in-place' ? 'in place' : (c.gradientOutput ?? ''),
          largeBuffersText(c),
          c.allocations ? formatBytes(c.allocations.bytesPerCall) : '',
          c.memory?.devicePeakBytes != null ? formatBytes(c.memory.devicePeakBytes) : '',
          c.inputPath ?? '',
          statusText(c),
        ]),
      ),
    );
  }

  const objectiveCells = report.results.filter((c) => c.workload === 'objective' && started.includes(c.backend));
  if (objectiveCells.length) {
    const [rows, steps] = report.settings.objectiveShape;
    const objectives = [...new Set(objectiveCells.map((c) => c.case))];
    out.push('', `### Loss + gradient on token log-probs [${rows},${steps}] per objective`, '');
    out.push('Median ms (min–max); each cell checked against the float64 reference first.', '');
    out.push(
      markdownTable(
        ['objective', ...started],
        objectives.map((id) => [
          id,
          ...started.map((backend) => {
            const cell = objectiveCells.find((c) => c.case === id && c.backend === backend);
            return cell ? timingText(cell) : '';
          }),
        ]),
      ),
    );
  }

  const align = report.results.filter((c) => c.workload === 'align' && c.status === 'ok');
  if (align.length) {
    out.push('', '### One pref align training step', '');
    out.push(
      markdownTable(
        ['step', 'backend', 'median ms (min–max)', 'rows'],
        align.map((c) => [c.case, c.backend, timingText(c), String(c.shape[0] ?? '')]),
      ),
    );
  }

  const linear = report.results.filter((c) => c.workload === 'linear' && c.status === 'ok');
  if (linear.length) {
    out.push('', '### Loss + gradient from hidden states (linear), fused beside matmul + logits', '');
    out.push(LINEAR_TABLE_NOTE, '');
    out.push(markdownTable([...LINEAR_TABLE_HEADER], linear.map(linearRow)));
  }

  const problems = report.results.filter((c) => c.status !== 'ok' && started.includes(c.backend));
  const alignSkips = report.results.filter((c) => c.workload === 'align' && c.status !== 'ok');
  const listed = [...problems, ...alignSkips.filter((c) => !problems.includes(c))];
  if (listed.length) {
    out.push('', '### Skipped and failed', '');
    out.push(
      markdownTable(
        ['workload', 'case', 'backend', 'status', 'reason'],
        listed.map((c) => [c.workload, c.case, c.backend, c.status, c.reason ?? '']),
      ),
    );
  }
  return `${out.join('\n')}\n`;
}
