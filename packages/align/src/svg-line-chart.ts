import { estimateTextWidth, wrapText } from './text-metrics';

export type ChartPoint = readonly [x: number, y: number];
/** A point of an interval band: at `x`, from `low` to `high`. */
export type BandPoint = readonly [x: number, low: number, high: number];

/** A marker (e.g. a held-out evaluation), with an optional error bar from `low` to `high`. */
export interface ChartMarker {
  readonly x: number;
  readonly y: number;
  readonly low?: number;
  readonly high?: number;
}

/** One series of a chart: a line, optionally with its raw values faint behind, an interval band and markers. */
export interface ChartSeries {
  readonly name: string;
  readonly color: string;
  readonly dashed?: boolean;
  /** The line (e.g. smoothed values, or their mean over seeds); may be empty for markers only. */
  readonly points: readonly ChartPoint[];
  /** Raw values, drawn thin and faint behind the line. */
  readonly raw?: readonly ChartPoint[];
  /** Shaded band (e.g. a 95% interval over seeds). */
  readonly band?: readonly BandPoint[];
  /** Markers (circles), e.g. held-out evaluations, with error bars where `low`/`high` are given. */
  readonly markers?: readonly ChartMarker[];
}

/** A legend entry explaining a style rather than a series (drawn in grey). */
export interface LegendKey {
  readonly label: string;
  readonly style: 'line' | 'raw' | 'band' | 'marker' | 'dashed';
}

export interface LineChart {
  readonly title: string;
  /** A smaller line under the title (e.g. how the lines are smoothed). */
  readonly subtitle?: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly ChartSeries[];
  /** Style entries appended to the legend. */
  readonly keys?: readonly LegendKey[];
}

export interface ChartSize {
  /** Width of the SVG in px. Default 720, at least 240. */
  readonly width?: number;
  /** Height in px (default 420); grows where the legend or wrapped labels need more. */
  readonly height?: number;
}

/** Colours for series, distinguishable in print and for common colour-vision deficiencies (Okabe-Ito, then Tol's muted). */
export const SERIES_COLORS = [
  '#0072B2',
  '#D55E00',
  '#009E73',
  '#CC79A7',
  '#E69F00',
  '#56B4E9',
  '#000000',
  '#F0E442',
  '#332288',
  '#882255',
  '#117733',
  '#999933',
  '#AA4499',
  '#44AA99',
] as const;

const FONT = 12;
const TITLE_FONT = 15;
const SUBTITLE_FONT = 11;
const LINE = 1.3; // line height, in font sizes
const PAD = 10;
const SWATCH = 24;
const SWATCH_GAP = 6;
const MIN_PLOT_HEIGHT = 140;
const GREY = '#666666';

interface LegendItem {
  readonly lines: readonly string[];
  readonly draw: (x: number, y: number) => string;
}

/**
 * A standalone SVG line chart: axes with ticks, per series a faint raw line, a shaded band,
 * the line and markers, and a legend. The layout measures every text with a conservative
 * width estimate ({@link estimateTextWidth}) and wraps titles, axis labels and legend entries,
 * so no text leaves the picture at any width. Each series is a `<g class="series"
 * data-series="name">` so tools can find it.
 */
export function renderLineChart(chart: LineChart, size: ChartSize = {}): string {
  const width = Math.max(240, Math.round(size.width ?? 720));
  const requestedHeight = Math.max(200, Math.round(size.height ?? 420));
  const textWidth = width - 2 * PAD;

  // Title block.
  const titleLines = wrapText(chart.title, textWidth, TITLE_FONT, true);
  const subtitleLines = chart.subtitle ? wrapText(chart.subtitle, textWidth, SUBTITLE_FONT) : [];
  const texts: string[] = [];
  let cursor = PAD;
  for (const line of titleLines) {
    cursor += TITLE_FONT;
    texts.push(text(PAD, cursor, line, { size: TITLE_FONT, bold: true }));
    cursor += TITLE_FONT * (LINE - 1);
  }
  for (const line of subtitleLines) {
    cursor += SUBTITLE_FONT;
    texts.push(text(PAD, cursor, line, { size: SUBTITLE_FONT, fill: '#444444' }));
    cursor += SUBTITLE_FONT * (LINE - 1);
  }
  const top = cursor + 14;

  // Data ranges.
  const xs: number[] = [];
  const ys: number[] = [];
  for (const s of chart.series) {
    for (const [x, y] of [...s.points, ...(s.raw ?? [])]) if (finite(x, y)) (xs.push(x), ys.push(y));
    for (const [x, lo, hi] of s.band ?? []) if (finite(x, lo, hi)) (xs.push(x), ys.push(lo, hi));
    for (const m of s.markers ?? []) {
      if (!finite(m.x, m.y)) continue;
      xs.push(m.x);
      ys.push(m.y);
      if (m.low !== undefined && Number.isFinite(m.low)) ys.push(m.low);
      if (m.high !== undefined && Number.isFinite(m.high)) ys.push(m.high);
    }
  }
  const [xMin, xMax] = extent(xs);
  const [yMin, yMax] = extent(ys);

  // Legend: on the right when it leaves the plot most of the width, else below the plot.
  const legendItems = [
    ...chart.series.map((s) => ({ label: s.name, draw: seriesSwatch(s) })),
    ...(chart.keys ?? []).map((k) => ({ label: k.label, draw: keySwatch(k) })),
  ];
  const lineHeight = FONT * LINE;
  const longest = Math.max(0, ...legendItems.map((item) => estimateTextWidth(item.label, FONT)));
  const rightTextWidth = Math.min(longest, width * 0.3);
  const legendRight = width >= 520 && legendItems.length > 0;
  const rightLegendWidth = legendRight ? SWATCH + SWATCH_GAP + rightTextWidth + PAD : 0;
  const wrapLegend = (maxText: number): LegendItem[] =>
    legendItems.map((item) => ({ lines: wrapText(item.label, Math.max(maxText, FONT), FONT), draw: item.draw }));

  // Y axis (ticks depend on the plot height, the left margin on the tick labels).
  const legendBelowItems = legendRight ? [] : wrapLegend(textWidth - SWATCH - SWATCH_GAP);
  const legendBelow = flowLegend(legendBelowItems, textWidth);
  const xTickProbe = niceTicks(xMin, xMax, 5);
  const xLabelLines = wrapText(chart.xLabel, textWidth, FONT);
  const bottomBlock = 6 + lineHeight + xLabelLines.length * lineHeight + (legendBelow.height ? 8 + legendBelow.height : 0) + PAD;
  const rightItems = legendRight ? wrapLegend(rightTextWidth) : [];
  const rightLegendHeight = rightItems.reduce((s, item) => s + item.lines.length * lineHeight + 4, 0);
  const height = Math.ceil(Math.max(requestedHeight, top + MIN_PLOT_HEIGHT + bottomBlock, legendRight ? top + rightLegendHeight + PAD : 0));
  const plotH = height - top - bottomBlock;
  const yTicks = niceTicks(yMin, yMax, Math.max(2, Math.min(6, Math.floor(plotH / 40))));
  const yLabelLines = wrapText(chart.yLabel, plotH, FONT);
  const yTickWidth = Math.max(...yTicks.map((t) => estimateTextWidth(formatTick(t), FONT)));
  const left = PAD + yLabelLines.length * lineHeight + 6 + yTickWidth + 6;
  const lastXTickHalf = estimateTextWidth(formatTick(xTickProbe.at(-1)!), FONT) / 2;
  const right = legendRight ? rightLegendWidth + PAD : PAD + lastXTickHalf;
  const plotW = Math.max(40, width - left - right);
  const xTickWidth = Math.max(...xTickProbe.map((t) => estimateTextWidth(formatTick(t), FONT)));
  const xTicks = niceTicks(xMin, xMax, Math.max(2, Math.min(6, Math.floor(plotW / (xTickWidth + 16)))));

  const x0 = xTicks[0],
    x1 = xTicks.at(-1)!,
    y0 = yTicks[0],
    y1 = yTicks.at(-1)!;
  const sx = (x: number) => left + ((x - x0) / (x1 - x0 || 1)) * plotW;
  const sy = (y: number) => top + plotH - ((y - y0) / (y1 - y0 || 1)) * plotH;

  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="${FONT}">`,
  );
  parts.push(`<title>${escapeXml(chart.title)}</title>`);
  parts.push(`<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`);
  parts.push(...texts);
  parts.push('<g class="axes" stroke="#dddddd">');
  for (const t of yTicks) parts.push(`<line x1="${fmt(left)}" y1="${fmt(sy(t))}" x2="${fmt(left + plotW)}" y2="${fmt(sy(t))}"/>`);
  for (const t of xTicks) parts.push(`<line x1="${fmt(sx(t))}" y1="${fmt(top)}" x2="${fmt(sx(t))}" y2="${fmt(top + plotH)}"/>`);
  parts.push(`<rect x="${fmt(left)}" y="${fmt(top)}" width="${fmt(plotW)}" height="${fmt(plotH)}" fill="none" stroke="#999999"/>`);
  parts.push('</g>');
  parts.push(`<g class="tick-labels" fill="#333333">`);
  for (const t of yTicks) parts.push(text(left - 6, sy(t) + 4, formatTick(t), { anchor: 'end' }));
  for (const t of xTicks) parts.push(text(sx(t), top + plotH + 6 + FONT, formatTick(t), { anchor: 'middle' }));
  parts.push('</g>');
  xLabelLines.forEach((line, i) =>
    parts.push(text(width / 2, top + plotH + 6 + lineHeight + FONT + i * lineHeight, line, { anchor: 'middle' })),
  );
  yLabelLines.forEach((line, i) =>
    parts.push(text(PAD + FONT + i * lineHeight, top + plotH / 2, line, { anchor: 'middle', rotate: true })),
  );

  // Legend positions, by series index (series first, then keys).
  const legendPositions: { x: number; y: number; lines: readonly string[]; draw: LegendItem['draw'] }[] = [];
  if (legendRight) {
    let y = top;
    const x = width - rightLegendWidth;
    for (const item of rightItems) {
      legendPositions.push({ x, y, lines: item.lines, draw: item.draw });
      y += item.lines.length * lineHeight + 4;
    }
  } else {
    const y0Legend = top + plotH + 6 + lineHeight + xLabelLines.length * lineHeight + 8;
    legendBelow.placed.forEach((p) => legendPositions.push({ x: PAD + p.x, y: y0Legend + p.y, lines: p.item.lines, draw: p.item.draw }));
  }
  const legendEntry = (i: number) => {
    const p = legendPositions[i];
    const out = [p.draw(p.x, p.y + FONT * 0.65)];
    p.lines.forEach((line, j) => out.push(text(p.x + SWATCH + SWATCH_GAP, p.y + FONT + j * lineHeight, line)));
    return out.join('\n');
  };

  chart.series.forEach((series, i) => {
    const dash = series.dashed ? ' stroke-dasharray="6 4"' : '';
    parts.push(`<g class="series" data-series="${escapeXml(series.name)}">`);
    const band = (series.band ?? []).filter(([x, lo, hi]) => finite(x, lo, hi));
    if (band.length > 1) {
      const upper = band.map(([x, , hi]) => `${fmt(sx(x))},${fmt(sy(hi))}`);
      const lower = band.map(([x, lo]) => `${fmt(sx(x))},${fmt(sy(lo))}`).reverse();
      parts.push(`<path class="band" d="M${[...upper, ...lower].join(' L')} Z" fill="${series.color}" fill-opacity="0.15" stroke="none"/>`);
    }
    const raw = polyline(series.raw ?? [], sx, sy);
    if (raw)
      parts.push(
        `<polyline class="raw" fill="none" stroke="${series.color}" stroke-opacity="0.25" stroke-width="1"${dash} points="${raw}"/>`,
      );
    const line = polyline(series.points, sx, sy);
    if (line) parts.push(`<polyline class="line" fill="none" stroke="${series.color}" stroke-width="1.8"${dash} points="${line}"/>`);
    for (const m of series.markers ?? []) {
      if (!finite(m.x, m.y)) continue;
      if (m.low !== undefined && m.high !== undefined && finite(m.low, m.high)) {
        parts.push(
          `<line class="error-bar" x1="${fmt(sx(m.x))}" y1="${fmt(sy(m.low))}" x2="${fmt(sx(m.x))}" y2="${fmt(sy(m.high))}" stroke="${series.color}" stroke-width="1.2"/>`,
        );
      }
      parts.push(
        `<circle class="marker" cx="${fmt(sx(m.x))}" cy="${fmt(sy(m.y))}" r="3.5" fill="${series.color}" stroke="#ffffff" stroke-width="1"/>`,
      );
    }
    parts.push(legendEntry(i));
    parts.push('</g>');
  });
  (chart.keys ?? []).forEach((key, i) => {
    parts.push(`<g class="legend-key" data-key="${escapeXml(key.label)}">`);
    parts.push(legendEntry(chart.series.length + i));
    parts.push('</g>');
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

function seriesSwatch(series: ChartSeries): LegendItem['draw'] {
  const dash = series.dashed ? ' stroke-dasharray="6 4"' : '';
  const hasLine = series.points.length > 0;
  return (x, y) =>
    [
      hasLine
        ? `<line x1="${fmt(x)}" y1="${fmt(y)}" x2="${fmt(x + SWATCH)}" y2="${fmt(y)}" stroke="${series.color}" stroke-width="2"${dash}/>`
        : '',
      series.markers?.length ? `<circle cx="${fmt(x + SWATCH / 2)}" cy="${fmt(y)}" r="3.5" fill="${series.color}"/>` : '',
    ]
      .filter(Boolean)
      .join('');
}

function keySwatch(key: LegendKey): LegendItem['draw'] {
  return (x, y) => {
    switch (key.style) {
      case 'raw':
        return `<line x1="${fmt(x)}" y1="${fmt(y)}" x2="${fmt(x + SWATCH)}" y2="${fmt(y)}" stroke="${GREY}" stroke-opacity="0.3" stroke-width="1"/>`;
      case 'band':
        return `<rect x="${fmt(x)}" y="${fmt(y - 5)}" width="${SWATCH}" height="10" fill="${GREY}" fill-opacity="0.2"/>`;
      case 'marker':
        return `<circle cx="${fmt(x + SWATCH / 2)}" cy="${fmt(y)}" r="3.5" fill="${GREY}"/>`;
      case 'dashed':
        return `<line x1="${fmt(x)}" y1="${fmt(y)}" x2="${fmt(x + SWATCH)}" y2="${fmt(y)}" stroke="${GREY}" stroke-width="2" stroke-dasharray="6 4"/>`;
      default:
        return `<line x1="${fmt(x)}" y1="${fmt(y)}" x2="${fmt(x + SWATCH)}" y2="${fmt(y)}" stroke="${GREY}" stroke-width="2"/>`;
    }
  };
}

/** Legend entries flowed into rows of `maxWidth`; positions relative to the legend's top left. */
function flowLegend(items: readonly LegendItem[], maxWidth: number) {
  const lineHeight = FONT * LINE;
  const placed: { x: number; y: number; item: LegendItem }[] = [];
  let x = 0;
  let y = 0;
  let rowHeight = 0;
  for (const item of items) {
    const w = SWATCH + SWATCH_GAP + Math.max(...item.lines.map((l) => estimateTextWidth(l, FONT)));
    const h = item.lines.length * lineHeight + 4;
    if (x > 0 && x + w > maxWidth) {
      x = 0;
      y += rowHeight;
      rowHeight = 0;
    }
    placed.push({ x, y, item });
    x += w + 16;
    rowHeight = Math.max(rowHeight, h);
  }
  return { placed, height: y + rowHeight };
}

function text(
  x: number,
  y: number,
  content: string,
  o: { size?: number; bold?: boolean; anchor?: 'start' | 'middle' | 'end'; rotate?: boolean; fill?: string } = {},
): string {
  const attrs = [
    o.rotate ? `transform="translate(${fmt(x)} ${fmt(y)}) rotate(-90)"` : `x="${fmt(x)}" y="${fmt(y)}"`,
    o.anchor && o.anchor !== 'start' ? `text-anchor="${o.anchor}"` : '',
    o.size && o.size !== FONT ? `font-size="${o.size}"` : '',
    o.bold ? 'font-weight="bold"' : '',
    o.fill ? `fill="${o.fill}"` : '',
  ].filter(Boolean);
  return `<text ${attrs.join(' ')}>${escapeXml(content)}</text>`;
}

function polyline(points: readonly ChartPoint[], sx: (x: number) => number, sy: (y: number) => number): string {
  return points
    .filter(([x, y]) => finite(x, y))
    .map(([x, y]) => `${fmt(sx(x))},${fmt(sy(y))}`)
    .join(' ');
}

function finite(...values: number[]): boolean {
  return values.every(Number.isFinite);
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

/** About `target` round tick values covering [lo, hi]. */
function niceTicks(lo: number, hi: number, target: number): number[] {
  const rough = (hi - lo) / Math.max(1, target);
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= rough) ?? 10 * power;
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
