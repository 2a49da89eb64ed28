/** One line of a chart. */
export interface ChartSeries {
  readonly name: string;
  readonly points: readonly (readonly [number, number])[];
  readonly color: string;
  readonly dashed?: boolean;
}

export interface LineChart {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly ChartSeries[];
}

/** Colours for series, distinguishable in print and for common colour-vision deficiencies (Okabe-Ito). */
export const SERIES_COLORS = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000', '#F0E442'] as const;

const WIDTH = 720;
const HEIGHT = 420;
const MARGIN = { left: 70, right: 200, top: 40, bottom: 50 };

/**
 * A standalone SVG line chart (axes with ticks, one polyline per series, a legend). Each
 * series is a `<g class="series" data-series="name">` so tools can find it.
 */
export function renderLineChart(chart: LineChart): string {
  const all = chart.series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  const [xMin, xMax] = extent(all.map(([x]) => x));
  const [yMin, yMax] = extent(all.map(([, y]) => y));
  const xTicks = niceTicks(xMin, xMax);
  const yTicks = niceTicks(yMin, yMax);
  const x0 = xTicks[0], x1 = xTicks.at(-1)!, y0 = yTicks[0], y1 = yTicks.at(-1)!;
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const sx = (x: number) => MARGIN.left + ((x - x0) / (x1 - x0 || 1)) * plotW;
  const sy = (y: number) => MARGIN.top + plotH - ((y - y0) / (y1 - y0 || 1)) * plotH;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`);
  parts.push(`<title>${escapeXml(chart.title)}</title>`);
  parts.push(`<rect x="0" y="0" width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`);
  parts.push(`<text x="${MARGIN.left}" y="24" font-size="15" font-weight="bold">${escapeXml(chart.title)}</text>`);
  parts.push('<g class="axes" stroke="#cccccc">');
  for (const t of yTicks) parts.push(`<line x1="${MARGIN.left}" y1="${fmt(sy(t))}" x2="${MARGIN.left + plotW}" y2="${fmt(sy(t))}"/>`);
  for (const t of xTicks) parts.push(`<line x1="${fmt(sx(t))}" y1="${MARGIN.top}" x2="${fmt(sx(t))}" y2="${MARGIN.top + plotH}"/>`);
  parts.push('</g>');
  parts.push('<g class="tick-labels" fill="#333333">');
  for (const t of yTicks) parts.push(`<text x="${MARGIN.left - 6}" y="${fmt(sy(t) + 4)}" text-anchor="end">${formatTick(t)}</text>`);
  for (const t of xTicks) parts.push(`<text x="${fmt(sx(t))}" y="${MARGIN.top + plotH + 18}" text-anchor="middle">${formatTick(t)}</text>`);
  parts.push('</g>');
  parts.push(`<text x="${MARGIN.left + plotW / 2}" y="${HEIGHT - 10}" text-anchor="middle">${escapeXml(chart.xLabel)}</text>`);
  parts.push(`<text transform="translate(16 ${MARGIN.top + plotH / 2}) rotate(-90)" text-anchor="middle">${escapeXml(chart.yLabel)}</text>`);
  chart.series.forEach((series, i) => {
    const points = series.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y)).map(([x, y]) => `${fmt(sx(x))},${fmt(sy(y))}`).join(' ');
    const dash = series.dashed ? ' stroke-dasharray="6 4"' : '';
    parts.push(`<g class="series" data-series="${escapeXml(series.name)}">`);
    parts.push(`<polyline fill="none" stroke="${series.color}" stroke-width="1.6"${dash} points="${points}"/>`);
    const ly = MARGIN.top + 10 + i * 18;
    const lx = WIDTH - MARGIN.right + 14;
    parts.push(`<line x1="${lx}" y1="${ly}" x2="${lx + 24}" y2="${ly}" stroke="${series.color}" stroke-width="2"${dash}/>`);
    parts.push(`<text x="${lx + 30}" y="${ly + 4}">${escapeXml(series.name)}</text>`);
    parts.push('</g>');
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

function extent(values: readonly number[]): [number, number] {
  if (values.length === 0) return [0, 1];
  let lo = Math.min(...values);
  let hi = Math.max(...values);
  if (lo === hi) {
    lo -= 0.5;
    hi += 0.5;
  }
  return [lo, hi];
}

/** About five round tick values covering [lo, hi]. */
function niceTicks(lo: number, hi: number): number[] {
  const rough = (hi - lo) / 5;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= rough) ?? 10 * power;
  const ticks: number[] = [];
  for (let t = Math.floor(lo / step) * step; t <= hi + step * 0.999; t += step) ticks.push(Number(t.toPrecision(12)));
  return ticks.length >= 2 ? ticks : [lo, hi];
}

function fmt(value: number): string {
  return value.toFixed(1);
}

function formatTick(value: number): string {
  return Math.abs(value) >= 1e4 || (value !== 0 && Math.abs(value) < 1e-3) ? value.toExponential(1) : String(Number(value.toPrecision(6)));
}
