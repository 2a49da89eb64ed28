/** One group of bars (e.g. a shape or an objective), one bar per series (backend). */
export interface BarGroup {
  readonly label: string;
  readonly bars: readonly { readonly series: string; readonly value: number }[];
}

export interface BarPanel {
  readonly title: string;
  /** Axis label, e.g. `median ms (log scale)`. */
  readonly unit: string;
  readonly groups: readonly BarGroup[];
}

/** Colour-blind-safe palette (Okabe–Ito), assigned to series in order of first appearance. */
export const SERIES_COLORS = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000', '#F0E442'] as const;

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

const BAR = 12;
const GROUP_GAP = 10;
const LEFT = 150;
const PLOT_WIDTH = 560;
const RIGHT = 90;

/**
 * Horizontal grouped bar charts on a log scale, stacked as panels in one standalone SVG
 * document (no browser, no dependencies). Non-positive or non-finite values are left out.
 */
export function renderBarChartSvg(panels: readonly BarPanel[], title = 'pref bench'): string {
  const series: string[] = [];
  for (const panel of panels)
    for (const group of panel.groups) for (const bar of group.bars) if (!series.includes(bar.series)) series.push(bar.series);
  const color = (name: string) => SERIES_COLORS[series.indexOf(name) % SERIES_COLORS.length];
  const parts: string[] = [];
  let y = 40;
  parts.push(`<text x="12" y="24" font-size="16" font-weight="bold">${escapeXml(title)}</text>`);
  series.forEach((name, i) => {
    const x = LEFT + i * 110;
    parts.push(`<rect x="${x}" y="${y - 10}" width="10" height="10" fill="${color(name)}"/>`);
    parts.push(`<text x="${x + 14}" y="${y}" font-size="11">${escapeXml(name)}</text>`);
  });
  y += 20;
  for (const panel of panels) {
    const values = panel.groups.flatMap((g) => g.bars.map((b) => b.value)).filter((v) => v > 0 && Number.isFinite(v));
    parts.push(`<text x="12" y="${y + 14}" font-size="13" font-weight="bold">${escapeXml(panel.title)}</text>`);
    y += 24;
    if (values.length === 0) {
      parts.push(`<text x="${LEFT}" y="${y + 12}" font-size="11">no results</text>`);
      y += 30;
      continue;
    }
    const low = Math.floor(Math.log10(Math.min(...values)));
    const high = Math.max(low + 1, Math.ceil(Math.log10(Math.max(...values))));
    const scale = (v: number) => ((Math.log10(v) - low) / (high - low)) * PLOT_WIDTH;
    const top = y;
    for (const group of panel.groups) {
      const bars = group.bars.filter((b) => b.value > 0 && Number.isFinite(b.value));
      const height = Math.max(1, bars.length) * BAR;
      parts.push(`<text x="${LEFT - 6}" y="${y + height / 2 + 4}" font-size="11" text-anchor="end">${escapeXml(group.label)}</text>`);
      bars.forEach((bar, i) => {
        const width = Math.max(1, scale(bar.value));
        const by = y + i * BAR;
        parts.push(
          `<rect x="${LEFT}" y="${by + 1}" width="${width.toFixed(1)}" height="${BAR - 2}" fill="${color(bar.series)}">` +
            `<title>${escapeXml(`${group.label} · ${bar.series}: ${bar.value}`)}</title></rect>`,
        );
        parts.push(
          `<text x="${(LEFT + width + 4).toFixed(1)}" y="${by + BAR - 2}" font-size="9">${escapeXml(formatValue(bar.value))}</text>`,
        );
      });
      y += height + GROUP_GAP;
    }
    for (let decade = low; decade <= high; decade++) {
      const x = LEFT + ((decade - low) / (high - low)) * PLOT_WIDTH;
      parts.push(`<line x1="${x.toFixed(1)}" y1="${top - 4}" x2="${x.toFixed(1)}" y2="${y}" stroke="#bbb" stroke-width="0.5"/>`);
      parts.push(
        `<text x="${x.toFixed(1)}" y="${y + 12}" font-size="9" text-anchor="middle">${escapeXml(formatValue(10 ** decade))}</text>`,
      );
    }
    parts.push(`<text x="${LEFT + PLOT_WIDTH / 2}" y="${y + 26}" font-size="10" text-anchor="middle">${escapeXml(panel.unit)}</text>`);
    y += 44;
  }
  const width = LEFT + PLOT_WIDTH + RIGHT;
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y}" viewBox="0 0 ${width} ${y}" font-family="sans-serif">`,
    `<rect x="0" y="0" width="${width}" height="${y}" fill="#fff"/>`,
    ...parts,
    `</svg>`,
    '',
  ].join('\n');
}

function formatValue(v: number): string {
  if (v >= 1000) return `${(v / 1000).toPrecision(3)}k`;
  if (v >= 1) return v.toPrecision(3);
  return v.toPrecision(2);
}
