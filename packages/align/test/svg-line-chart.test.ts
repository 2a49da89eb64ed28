import { describe, expect, it } from 'vitest';
import { renderLineChart, SERIES_COLORS, type LineChart } from '../src/svg-line-chart';
import { wrapText } from '../src/text-metrics';
import { alignCharts, exponentialMovingAverage, smoothingSpan } from '../src/align-charts';
import type { AlignReport } from '../src/report-types';
import { expandAblations } from '../src/ablations';

/**
 * The test's own conservative width of a text: 0.7 em a character, 0.85 em for capitals,
 * 1 em for m, w, M, W, @, %, & and anything outside ASCII, bold 10% wider. (DejaVu Sans, the
 * widest common sans-serif, has digits at 0.64 em and m at 0.97 em.)
 */
function conservativeWidth(text: string, size: number, bold: boolean): number {
  let ems = 0;
  for (const c of text) ems += /[mwMW@%&]|[^\x00-\x7f]/.test(c) ? 1 : /[A-Z]/.test(c) ? 0.85 : 0.7;
  return ems * size * (bold ? 1.1 : 1);
}

const unescape = (s: string) =>
  s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');

/** Every `<text>` of an SVG with its box (ascent 1 em above the baseline, descent 0.3 em below), checked against the viewBox. */
function textsOutsideViewBox(svg: string): string[] {
  const [, vw, vh] = /viewBox="0 0 ([\d.]+) ([\d.]+)"/.exec(svg)!.map(Number) as [unknown, number, number];
  const rootSize = Number(/<svg[^>]*font-size="([\d.]+)"/.exec(svg)?.[1] ?? 16);
  const problems: string[] = [];
  const texts = [...svg.matchAll(/<text([^>]*)>([^<]*)<\/text>/g)];
  expect(texts.length).toBeGreaterThan(0);
  for (const [, attrs, raw] of texts) {
    const attr = (name: string) => new RegExp(`\\s${name}="([^"]*)"`).exec(attrs)?.[1];
    const content = unescape(raw);
    const size = Number(attr('font-size') ?? rootSize);
    const width = conservativeWidth(content, size, attr('font-weight') === 'bold');
    const anchor = attr('text-anchor') ?? 'start';
    const along = (origin: number) =>
      anchor === 'middle'
        ? [origin - width / 2, origin + width / 2]
        : anchor === 'end'
          ? [origin - width, origin]
          : [origin, origin + width];
    let box: [number, number, number, number]; // left, right, top, bottom
    const transform = attr('transform');
    if (transform) {
      const m = /^translate\(([-\d.]+) ([-\d.]+)\) rotate\(-90\)$/.exec(transform);
      expect(m, `unexpected transform ${transform}`).not.toBeNull();
      const [x, y] = [Number(m![1]), Number(m![2])];
      // Rotated −90°: the text runs upwards from (x, y); its ascent points to −x.
      const [a, b] = along(0);
      box = [x - size, x + 0.3 * size, y - b, y - a];
    } else {
      const [x, y] = [Number(attr('x')), Number(attr('y'))];
      const [l, r] = along(x);
      box = [l, r, y - size, y + 0.3 * size];
    }
    const [l, r, t, b] = box;
    if (l < 0 || r > vw || t < 0 || b > vh)
      problems.push(
        `${JSON.stringify(content)} [${l.toFixed(1)}, ${r.toFixed(1)}] × [${t.toFixed(1)}, ${b.toFixed(1)}] outside ${vw} × ${vh}`,
      );
  }
  return problems;
}

const steps = Array.from({ length: 100 }, (_, i) => i + 1);
const labels = ['slime', 'simpo', 'dpo:beta=0.1,labelSmoothing=0.2', 'lmpo', ...expandAblations(['slime', 'lmpo']).map((s) => s.label)];
const chart = (seriesCount: number, bands: boolean): LineChart => ({
  title: 'Summed log-prob of chosen (solid) and rejected (dashed) answers, training batches, with a title long enough to wrap',
  subtitle:
    'Lines: mean over 5 seeds of training-batch values smoothed by an EMA over 10 steps (raw values faint); bands: 95% Student t interval over seeds.',
  xLabel: 'preference step (0 = SFT checkpoint), a long axis label that needs wrapping at narrow widths',
  yLabel: 'mean summed log-prob of the answer tokens and <eos> (nats), long enough to wrap',
  series: labels.slice(0, seriesCount).map((name, i) => ({
    name: `${name} chosen`,
    color: SERIES_COLORS[i % SERIES_COLORS.length],
    dashed: i % 2 === 1,
    points: steps.map((s) => [s, -1 - i * 0.1 - Math.sin(s / 9) * 0.3] as const),
    raw: steps.map((s) => [s, -1 - i * 0.1 - Math.sin(s / 3) * 0.6] as const),
    ...(bands ? { band: steps.map((s) => [s, -1.5 - i * 0.1, -0.5 - i * 0.1] as const) } : {}),
    markers: [0, 20, 40, 60, 80, 100].map((x) => ({ x, y: -1 - i * 0.1, low: -1.3, high: -0.7 })),
  })),
  keys: [
    { label: 'EMA of training batches', style: 'line' },
    { label: 'raw training batches', style: 'raw' },
    { label: 'held-out evaluation', style: 'marker' },
  ],
});

describe('renderLineChart', () => {
  it('(the check itself finds text that leaves the picture)', () => {
    const svg = (text: string) => `<svg viewBox="0 0 200 100" font-size="12">${text}</svg>`;
    expect(textsOutsideViewBox(svg('<text x="10" y="20">fits</text>'))).toEqual([]);
    expect(textsOutsideViewBox(svg('<text x="150" y="20">too long here</text>'))).toHaveLength(1);
    expect(textsOutsideViewBox(svg('<text x="100" y="20" text-anchor="middle">a centred text far too long for it</text>'))).toHaveLength(1);
    expect(textsOutsideViewBox(svg('<text x="10" y="5">above</text>'))).toHaveLength(1);
    expect(
      textsOutsideViewBox(svg('<text transform="translate(14 50) rotate(-90)" text-anchor="middle">a long rotated label</text>')),
    ).toHaveLength(1);
    expect(textsOutsideViewBox(svg('<text transform="translate(14 50) rotate(-90)" text-anchor="middle">short</text>'))).toEqual([]);
  });

  for (const width of [240, 320, 480, 640, 720, 1024, 1600]) {
    for (const [count, bands] of [
      [1, false],
      [4, true],
      [labels.length, true],
    ] as const) {
      it(`keeps every text inside the viewBox at width ${width} with ${count} series`, () => {
        const svg = renderLineChart(chart(count, bands), { width });
        expect(textsOutsideViewBox(svg)).toEqual([]);
        expect(svg).toContain(`width="${width}"`);
        expect(svg).not.toMatch(/NaN|Infinity/);
        expect([...svg.matchAll(/data-series="/g)]).toHaveLength(count);
        expect(svg.includes('class="band"')).toBe(bands);
        expect(svg).toContain('class="raw"');
        expect(svg).toContain('class="marker"');
        expect(svg).toContain('class="error-bar"');
      });
    }
  }

  it('keeps a single unbreakable label inside at the narrowest width', () => {
    const svg = renderLineChart(
      {
        title: 'x'.repeat(120),
        xLabel: 'step',
        yLabel: 'y',
        series: [
          {
            name: 'slime:preset=ablation-no-hard-margin,lambdaW=0.123456,lambdaL=0.000500,delta=1.25',
            color: '#000',
            points: [
              [0, 0],
              [1, 1],
            ],
          },
        ],
      },
      { width: 240 },
    );
    expect(textsOutsideViewBox(svg)).toEqual([]);
  });

  it('draws no band, raw line or marker that was not asked for', () => {
    const svg = renderLineChart({
      title: 't',
      xLabel: 'x',
      yLabel: 'y',
      series: [
        {
          name: 'a',
          color: '#000',
          points: [
            [0, 1],
            [1, 2],
          ],
        },
      ],
    });
    expect(svg).not.toMatch(/class="(band|raw|marker)"/);
  });
});

describe('wrapText', () => {
  it('breaks at spaces, then after punctuation, never past the width', () => {
    expect(wrapText('aaa bbb ccc', 60, 10)).toEqual(['aaa bbb', 'ccc']);
    const lines = wrapText('slime:preset=ablation-no-hard-margin', 100, 10);
    expect(lines.join('')).toBe('slime:preset=ablation-no-hard-margin');
    for (const line of lines) expect(conservativeWidth(line, 10, false)).toBeLessThanOrEqual(100);
    expect(lines[0]).toBe('slime:preset=');
  });
});

describe('EMA smoothing', () => {
  it('is bias-corrected: a constant stays constant, the first value is kept', () => {
    for (const v of exponentialMovingAverage([3, 3, 3], 5)) expect(v).toBeCloseTo(3, 12);
    const s = exponentialMovingAverage([0, 1], 3); // α = 0.5: (0.5·0.5·0 + 0.5·1) / (0.5·0.5 + 0.5)
    expect(s[0]).toBe(0);
    expect(s[1]).toBeCloseTo(0.5 / 0.75, 12);
    expect(exponentialMovingAverage([1, 5, 2], 1)).toEqual([1, 5, 2]);
    expect([smoothingSpan(100), smoothingSpan(4), smoothingSpan(300)]).toEqual([10, 1, 30]);
  });
});

describe('the align charts as SVG', () => {
  // A synthetic one-seed report: 60 noisy steps, held-out evaluations at 0, 30 and 60.
  const stepCount = 60;
  const margins = Array.from({ length: stepCount }, (_, i) => 2 + i / 30 + (i % 2 === 0 ? 0.4 : -0.4) + Math.sin(i) * 0.2);
  const evaluation = (step: number, margin: number) => ({
    step,
    accuracy: 0.5 + step / 200,
    meanGeneratedLength: 2,
    chosenLogp: -1,
    rejectedLogp: -1 - margin,
    preferenceAccuracy: 0.9,
  });
  const run = {
    label: 'slime',
    id: 'slime',
    title: 'SLIME',
    params: {},
    millisecondsPerStep: 1,
    steps: margins.map((margin, i) => ({
      step: i + 1,
      loss: 1 / (i + 1),
      chosenLogp: -1,
      rejectedLogp: -1 - margin,
      margin,
      accuracy: 0.8,
      milliseconds: 1,
      metrics: {},
    })),
    evaluations: [evaluation(0, 2.1), evaluation(30, 3.3), evaluation(60, 4.2)],
  };
  const report = { settings: { steps: stepCount }, objectives: [run], seeds: [{ seed: 1, objectives: [run] }] } as unknown as AlignReport;
  const files = { logps: 'logps.svg', margin: 'margin.svg', accuracy: 'accuracy.svg', loss: 'loss.svg' };
  const points = (svg: string, cls: string) => {
    const m = new RegExp(`<polyline class="${cls}"[^>]*points="([^"]*)"`).exec(svg);
    expect(m, `no ${cls} polyline`).not.toBeNull();
    return m![1].split(' ').map((p) => p.split(',').map(Number) as [number, number]);
  };

  it('draws the per-step curve smoothed by the EMA, the raw values faint under it, held-out evaluations as markers', () => {
    const svg = renderLineChart(alignCharts(report, files)[files.margin], { width: 720 });
    const raw = points(svg, 'raw');
    const line = points(svg, 'line');
    expect(raw).toHaveLength(stepCount);
    expect(line).toHaveLength(stepCount);
    // The y scale is affine and the EMA's weights sum to 1, so in pixels the line is the EMA of the raw line (up to 0.1 px rounding).
    const smoothed = exponentialMovingAverage(
      raw.map(([, y]) => y),
      smoothingSpan(stepCount),
    );
    line.forEach(([x, y], k) => {
      expect(x).toBe(raw[k][0]);
      expect(Math.abs(y - smoothed[k])).toBeLessThanOrEqual(0.11);
    });
    // Smoothing removes most of the step-to-step zigzag.
    const zigzag = (ys: number[]) => ys.slice(1).reduce((s, y, k) => s + Math.abs(y - ys[k]), 0);
    expect(zigzag(line.map(([, y]) => y))).toBeLessThan(zigzag(raw.map(([, y]) => y)) / 3);
    expect(/<polyline class="raw"[^>]*stroke-opacity="([\d.]+)"/.exec(svg)![1]).toBe('0.25');
    expect(/<polyline class="line"[^>]*>/.exec(svg)![0]).not.toContain('opacity');
    // Markers at the evaluation steps, on the same scale as the raw line.
    const markers = [...svg.matchAll(/<circle class="marker" cx="([\d.]+)" cy="([\d.]+)"/g)].map((m) => [Number(m[1]), Number(m[2])]);
    expect(markers).toHaveLength(3);
    const [[x1, y1], [x2, y2]] = [raw[0], raw[stepCount - 1]];
    const toPixelY = (v: number) => y1 + ((v - margins[0]) * (y2 - y1)) / (margins[stepCount - 1] - margins[0]);
    const toPixelX = (s: number) => x1 + ((s - 1) * (x2 - x1)) / (stepCount - 1);
    run.evaluations.forEach((e, k) => {
      expect(Math.abs(markers[k][0] - toPixelX(e.step))).toBeLessThanOrEqual(0.2);
      expect(Math.abs(markers[k][1] - toPixelY(e.chosenLogp - e.rejectedLogp))).toBeLessThanOrEqual(0.3);
    });
    expect(svg).not.toContain('class="band"');
  });

  it('keeps every title and label inside the picture at every width', () => {
    for (const width of [240, 360, 520, 900, 1400]) {
      for (const chart of Object.values(alignCharts(report, files))) {
        expect(textsOutsideViewBox(renderLineChart(chart, { width })), `${chart.title} at ${width}`).toEqual([]);
      }
    }
  });
});
