import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { join } from 'node:path';
import { objectives as slimeObjectives } from '@pref/slime';
import { objectives as lmpoObjectives } from '@pref/lmpo';
import {
  alignCommand,
  MULTI_SEED_FILES,
  REPORT_FILES,
  SUMMARY_FIGURES,
  expandAblations,
  meanInterval,
  pairedDifference,
  runAlign,
  type AlignOptions,
  type AlignReport,
} from '../src';

const OBJECTIVES = 'slime:preset=trl-slime-config,simpo,dpo:beta=0.2,lmpo';
const LABELS = ['slime:preset=trl-slime-config', 'simpo', 'dpo:beta=0.2', 'lmpo'];
const tiny: AlignOptions = {
  objectives: OBJECTIVES,
  model: 'tiny',
  steps: 4,
  sftSteps: 6,
  batchSize: 8,
  sftBatchSize: 16,
  maxOperand: 12,
  heldOutSize: 24,
  evaluations: 2,
  seed: 5,
  progress: null,
};

/** Splits CSV text into rows of fields (RFC 4180 quoting). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (field || row.length) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

/** Checks that every tag is closed in order (well-formed enough for an SVG we wrote); returns the root tag. */
function checkWellFormed(xml: string): string {
  const stack: string[] = [];
  let root = '';
  for (const match of xml.matchAll(/<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/g)) {
    const [, closing, name, , selfClosing] = match;
    if (!root) root = name;
    if (closing) expect(stack.pop()).toBe(name);
    else if (!selfClosing) stack.push(name);
  }
  expect(stack).toEqual([]);
  expect(xml.replace(/<[^>]*>/g, '')).not.toMatch(/[<>]/);
  return root;
}

/** The run's numbers without wall times (every seed's, and the aggregates but for step times). */
function numbersOf(report: AlignReport) {
  const seedNumbers = (seed: AlignReport['seeds'][number]) => ({
    seed: seed.seed,
    sft: { losses: seed.sft.losses, evaluation: seed.sft.evaluation },
    objectives: seed.objectives.map((run) => ({
      label: run.label,
      params: run.params,
      evaluations: run.evaluations,
      steps: run.steps.map(({ milliseconds, ...rest }) => rest),
    })),
    summary: seed.summary.map(({ millisecondsPerStep, ...rest }) => rest),
  });
  const aggregate = report.aggregate && {
    ...report.aggregate,
    objectives: report.aggregate.objectives.map(({ figures: { millisecondsPerStep, ...figures }, ...rest }) => ({ ...rest, figures })),
  };
  return { ...seedNumbers(report.seeds[0]), seeds: report.seeds.map(seedNumbers), aggregate };
}

describe('pref align (tiny run)', () => {
  let folder: string;
  let report: AlignReport;
  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), 'pref-align-'));
    report = await runAlign({ ...tiny, out: folder });
  }, 120_000);
  afterAll(async () => {
    if (folder) await rm(folder, { recursive: true, force: true });
  });

  it('writes every report file', async () => {
    expect([...report.files].sort()).toEqual(Object.values(REPORT_FILES).sort());
    for (const name of report.files) expect((await stat(join(folder, name))).size).toBeGreaterThan(0);
  });

  it('report.json parses and holds one run per objective with every step', async () => {
    const json = JSON.parse(await readFile(join(folder, REPORT_FILES.json), 'utf8')) as AlignReport;
    expect(json.objectives.map((run) => run.label)).toEqual(LABELS);
    for (const run of json.objectives) {
      expect(run.steps.map((s) => s.step)).toEqual([1, 2, 3, 4]);
      expect(run.evaluations.map((e) => e.step)).toEqual([0, 2, 4]);
      for (const s of run.steps) for (const v of [s.loss, s.chosenLogp, s.rejectedLogp, s.margin]) expect(Number.isFinite(v)).toBe(true);
      expect(Object.keys(run.steps[0].metrics)).toContain('rewards/margins');
    }
    expect(json.objectives.find((run) => run.id === 'dpo')!.params.beta).toBe(0.2);
    expect(json.objectives.find((run) => run.id === 'slime')!.params.lambdaW).toBe(0.8);
    expect(json.summary).toHaveLength(4);
    // One seed: no intervals, the one seed's run also under `seeds`.
    expect(json.aggregate).toBeNull();
    expect(json.seeds.map((seed) => seed.seed)).toEqual([5]);
    expect(json.settings.backend).toBe('wasm');
  });

  it('steps.csv and evaluations.csv parse, with one series per objective', async () => {
    const steps = parseCsv(await readFile(join(folder, REPORT_FILES.stepsCsv), 'utf8'));
    const [header, ...rows] = steps;
    expect(header.slice(0, 7)).toEqual(['objective', 'step', 'loss', 'chosen_logp', 'rejected_logp', 'margin', 'accuracy']);
    for (const row of rows) expect(row).toHaveLength(header.length);
    expect([...new Set(rows.map((r) => r[0]))]).toEqual(LABELS);
    for (const label of LABELS) expect(rows.filter((r) => r[0] === label).map((r) => Number(r[1]))).toEqual([1, 2, 3, 4]);
    for (const row of rows) expect(Number.isFinite(Number(row[2]))).toBe(true);
    const evaluations = parseCsv(await readFile(join(folder, REPORT_FILES.evaluationsCsv), 'utf8'));
    expect([...new Set(evaluations.slice(1).map((r) => r[0]))]).toEqual(LABELS);
  });

  it('the SVG charts are well-formed and hold one series per objective', async () => {
    const perChart: Record<string, number> = {
      [REPORT_FILES.logpsChart]: 2,
      [REPORT_FILES.marginChart]: 1,
      [REPORT_FILES.accuracyChart]: 1,
      [REPORT_FILES.lossChart]: 1,
    };
    for (const [name, seriesPerObjective] of Object.entries(perChart)) {
      const svg = await readFile(join(folder, name), 'utf8');
      expect(checkWellFormed(svg)).toBe('svg');
      const series = [...svg.matchAll(/data-series="([^"]*)"/g)].map((m) => m[1]);
      expect(series).toHaveLength(LABELS.length * seriesPerObjective);
      for (const label of LABELS) expect(series.some((s) => s.startsWith(label))).toBe(true);
      expect(svg).not.toMatch(/NaN|Infinity/);
    }
  });

  it('summary.md has a table row per objective with numbers in every column', async () => {
    const markdown = await readFile(join(folder, REPORT_FILES.summary), 'utf8');
    const tableRows = markdown
      .split('\n')
      .filter((line) => line.startsWith('| ') && !line.startsWith('| Objective') && !line.startsWith('| ---'));
    expect(tableRows).toHaveLength(LABELS.length);
    tableRows.forEach((line, i) => {
      const cells = line
        .split(/(?<!\\)\|/)
        .slice(1, -1)
        .map((c) => c.trim());
      expect(cells).toHaveLength(8);
      expect(cells[0]).toBe(LABELS[i]);
      for (const cell of cells.slice(1)) expect(Number.isFinite(Number(cell))).toBe(true);
    });
  });

  it('is reproducible: the same seed gives the same numbers, another seed other numbers; it leaves no tensors behind', async () => {
    const tensors = tf.memory().numTensors;
    const again = await runAlign({ ...tiny, out: null });
    expect(tf.memory().numTensors).toBe(tensors);
    expect(numbersOf(again)).toEqual(numbersOf(report));
    const other = await runAlign({ ...tiny, seed: 6, out: null });
    expect(numbersOf(other).sft.losses).not.toEqual(numbersOf(report).sft.losses);
  }, 120_000);
});

describe('pref align --seeds (tiny run, two seeds)', () => {
  const twoSeeds: AlignOptions = { ...tiny, seed: undefined, seeds: [1, 2] };
  let folder: string;
  let report: AlignReport;
  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), 'pref-align-seeds-'));
    report = await runAlign({ ...twoSeeds, out: folder });
  }, 120_000);
  afterAll(async () => {
    if (folder) await rm(folder, { recursive: true, force: true });
  });

  it('runs the whole protocol per seed: its own data, weights and batches', () => {
    expect(report.settings.seeds).toEqual([1, 2]);
    expect(report.seeds.map((s) => s.seed)).toEqual([1, 2]);
    for (const seed of report.seeds) {
      expect(seed.objectives.map((run) => run.label)).toEqual(LABELS);
      expect(seed.summary).toHaveLength(LABELS.length);
      expect(seed.timings.objectives.map((t) => t.label)).toEqual(LABELS);
    }
    expect(report.seeds[0].sft.losses).not.toEqual(report.seeds[1].sft.losses);
    // The top-level run is the first seed's.
    expect(report.objectives).toBe(report.seeds[0].objectives);
    expect(report.summary).toBe(report.seeds[0].summary);
  });

  it('aggregates each figure over the seeds with a Student t interval', () => {
    const aggregate = report.aggregate!;
    expect(aggregate.seeds).toEqual([1, 2]);
    expect(aggregate.tQuantile).toBeCloseTo(12.7062, 3);
    expect(aggregate.method).toMatch(/Student t/);
    expect(aggregate.objectives.map((o) => o.objective)).toEqual(LABELS);
    for (const row of aggregate.objectives) {
      for (const { key } of SUMMARY_FIGURES) {
        const values = report.seeds.map((seed) => seed.summary.find((r) => r.objective === row.objective)![key]);
        expect(row.figures[key]).toEqual(meanInterval(values));
        expect(row.figures[key].low).not.toBeNull();
        expect(row.figures[key].low!).toBeLessThanOrEqual(row.figures[key].mean);
      }
    }
    expect(aggregate.sft.accuracy).toEqual(meanInterval(report.seeds.map((s) => s.sft.evaluation.accuracy)));
  });

  it('compares every objective with SimPO seed by seed, counting the seeds that agree', () => {
    const aggregate = report.aggregate!;
    expect(aggregate.baseline).toBe('simpo');
    const others = LABELS.filter((l) => l !== 'simpo');
    expect(aggregate.paired).toHaveLength(others.length * SUMMARY_FIGURES.length);
    for (const p of aggregate.paired) {
      expect(p.baseline).toBe('simpo');
      const pick = (label: string) => report.seeds.map((seed) => seed.summary.find((r) => r.objective === label)![p.figure]);
      const expected = pairedDifference(pick(p.objective), pick('simpo'));
      expect(p.differences).toEqual(expected.differences);
      expect(p.sign).toBe(Math.sign(p.difference.mean));
      expect(p.seedsAgreeing).toBe(p.differences.filter((d) => Math.sign(d) === p.sign).length);
    }
  });

  it('writes the per-seed CSVs with a seed column, the aggregate CSVs and the summary tables', async () => {
    expect([...report.files].sort()).toEqual([...Object.values(REPORT_FILES), ...Object.values(MULTI_SEED_FILES)].sort());
    const steps = parseCsv(await readFile(join(folder, REPORT_FILES.stepsCsv), 'utf8'));
    expect(steps[0].slice(0, 3)).toEqual(['seed', 'objective', 'step']);
    expect(new Set(steps.slice(1).map((r) => r[0]))).toEqual(new Set(['1', '2']));
    expect(steps).toHaveLength(1 + 2 * LABELS.length * 4);
    const aggregate = parseCsv(await readFile(join(folder, MULTI_SEED_FILES.aggregateCsv), 'utf8'));
    expect(aggregate[0]).toEqual(['objective', 'figure', 'seeds', 'mean', 'low', 'high', 'std']);
    for (const row of aggregate.slice(1)) expect(row[2]).toBe('2');
    const paired = parseCsv(await readFile(join(folder, MULTI_SEED_FILES.pairedCsv), 'utf8'));
    expect(paired).toHaveLength(1 + report.aggregate!.paired.length);
    const markdown = await readFile(join(folder, REPORT_FILES.summary), 'utf8');
    expect(markdown).toMatch(/## Across 2 seeds: mean \[95% interval\]/);
    expect(markdown).toMatch(/Student t/);
    expect(markdown).toMatch(/## Paired with simpo/);
    expect(markdown).toMatch(/\| seed 1 \| seed 2 \|/);
    expect(markdown).toMatch(/## Direction of the held-out log-prob changes/);
    for (const row of report.aggregate!.objectives) {
      const e = row.figures.chosenLogpChange;
      const verdict = e.high! < 0 ? 'lowers' : e.low! > 0 ? 'raises' : 'unclear';
      expect(markdown).toContain(`| ${row.objective} | ${verdict} `);
    }
    const json = JSON.parse(await readFile(join(folder, REPORT_FILES.json), 'utf8')) as AlignReport;
    expect(json.seeds).toHaveLength(2);
    expect(json.aggregate!.paired).toHaveLength(report.aggregate!.paired.length);
  });

  it('draws bands over seeds in the charts', async () => {
    for (const name of [REPORT_FILES.logpsChart, REPORT_FILES.marginChart, REPORT_FILES.accuracyChart, REPORT_FILES.lossChart]) {
      const svg = await readFile(join(folder, name), 'utf8');
      expect(checkWellFormed(svg)).toBe('svg');
      expect(svg).toContain('class="band"');
      expect(svg).not.toMatch(/NaN|Infinity/);
    }
    expect(await readFile(join(folder, REPORT_FILES.accuracyChart), 'utf8')).toContain('class="error-bar"');
  });

  it('gives identical numbers when run again with the same seeds', async () => {
    const again = await runAlign({ ...twoSeeds, out: null });
    expect(numbersOf(again)).toEqual(numbersOf(report));
  }, 120_000);
});

describe('pref align --ablations (tiny run)', () => {
  it('the objective packages define every ablation preset', () => {
    for (const a of expandAblations(['slime', 'lmpo'])) {
      const objective = a.id === 'slime' ? slimeObjectives[0] : lmpoObjectives[0];
      expect(objective.presets, `${a.id}:preset=${a.params.preset}`).toHaveProperty([a.params.preset as string]);
    }
  });

  it('runs every ablation preset of SLIME and LMPO on the same protocol, paired with the full objective', async () => {
    const report = await runAlign({
      ...tiny,
      objectives: 'slime,simpo,lmpo',
      ablations: 'slime,lmpo',
      seed: undefined,
      seeds: [1, 2],
      steps: 2,
      evaluations: 1,
      out: null,
    });
    const ablations = expandAblations(['slime', 'lmpo']);
    expect(report.objectives.map((run) => run.label)).toEqual(['slime', 'simpo', 'lmpo', ...ablations.map((a) => a.label)]);
    for (const run of report.objectives.slice(3)) expect(run.ablationOf).toBe(run.id);
    const vsFull = report.aggregate!.paired.filter((p) => p.baseline !== 'simpo');
    expect(new Set(vsFull.map((p) => `${p.objective} vs ${p.baseline}`))).toEqual(new Set(ablations.map((a) => `${a.label} vs ${a.id}`)));
  }, 120_000);
});

describe('alignCommand', () => {
  it('prints help and exits 0', async () => {
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      expect(await alignCommand(['--help'])).toBe(0);
      for (const option of ['--objectives', '--seeds', '--ablations', '--loss-input'])
        expect(String(write.mock.calls[0][0])).toContain(option);
    } finally {
      write.mockRestore();
    }
  });

  it('rejects bad option values and unknown objectives, naming them', async () => {
    await expect(alignCommand(['--steps', 'many'])).rejects.toThrow(/--steps/);
    await expect(alignCommand(['--objectives', 'nosuch', '--out', join(tmpdir(), 'unused')])).rejects.toThrow(/unknown objective nosuch/);
    await expect(alignCommand(['--backend', 'abacus', '--steps', '1'])).rejects.toThrow(/backend/);
    await expect(alignCommand(['--seeds', 'two'])).rejects.toThrow(/--seeds/);
    await expect(alignCommand(['--seeds', '2', '--seed', '1'])).rejects.toThrow(/not both/);
    await expect(alignCommand(['--ablations', 'dpo'])).rejects.toThrow(/--ablations/);
    await expect(alignCommand(['--loss-input', 'embeddings'])).rejects.toThrow(/--loss-input must be one of logits/);
  });
});
