/** Where progress goes: a stream with `write` (stderr); `isTTY` selects the live bar. */
export interface ProgressStream {
  write(text: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

export interface ProgressBar {
  /** Reports `done` of `total` units with live values (e.g. loss, margin, accuracy). */
  update(done: number, values?: Readonly<Record<string, number>>): void;
  /** Ends the bar with a final line. */
  finish(message?: string): void;
}

const WIDTH = 24;

/**
 * A progress bar for one phase: redrawn in place on a terminal; on other streams (CI logs,
 * pipes) a plain line at every tenth of the way, so logs stay readable.
 */
export function createProgressBar(stream: ProgressStream, label: string, total: number): ProgressBar {
  const started = Date.now();
  let lastDecile = -1;
  const line = (done: number, values: Readonly<Record<string, number>>) => {
    const fraction = total > 0 ? Math.min(1, done / total) : 1;
    const filled = Math.round(fraction * WIDTH);
    const elapsed = (Date.now() - started) / 1000;
    const eta = done > 0 ? (elapsed / done) * (total - done) : 0;
    const fields = Object.entries(values)
      .map(([name, v]) => `${name} ${formatValue(v)}`)
      .join('  ');
    return `${label} [${'#'.repeat(filled)}${'.'.repeat(WIDTH - filled)}] ${done}/${total} ${elapsed.toFixed(0)}s eta ${eta.toFixed(0)}s  ${fields}`;
  };
  return {
    update(done, values = {}) {
      if (stream.isTTY) {
        const text = line(done, values);
        const max = (stream.columns ?? 120) - 1;
        stream.write(`\r${text.length > max ? text.slice(0, max) : text}\x1b[K`);
        return;
      }
      const decile = total > 0 ? Math.floor((10 * done) / total) : 10;
      if (decile > lastDecile) {
        lastDecile = decile;
        stream.write(`${line(done, values)}\n`);
      }
    },
    finish(message) {
      const elapsed = ((Date.now() - started) / 1000).toFixed(1);
      stream.write(`${stream.isTTY ? '\r\x1b[K' : ''}${label} done in ${elapsed}s${message ? `  ${message}` : ''}\n`);
    },
  };
}

function formatValue(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  return abs !== 0 && (abs < 1e-3 || abs >= 1e4) ? value.toExponential(2) : value.toFixed(3);
}
