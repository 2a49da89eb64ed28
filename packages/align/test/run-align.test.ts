import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { alignCommand, REPORT_FILES, runAlign, type AlignOptions, type AlignReport } from '../src';

const OBJECTIVES = 'slime:preset=trl-slime-config,simpo,dpo:beta=0.2,lmpo';
const LABELS = ['slime:preset=trl-slime-config', 'simpo', 'dpo:beta=0.2', 'lmpo'];
const tiny: AlignOptions = {
  objectives: OBJECTIVES, model: 'tiny', steps: 4, sftSteps: 6, batchSize: 8, sftBatchSize: 16,
  maxOperand: 12, heldOutSize: 24, evaluations: 2, seed: 5, progress: null,
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
      if (c === '"' && text[i + 1] === '"') { field += '"'; i++; }
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { row.push(field); field = ''; }
    else if (c === '\n') { row.push(field); rows.push(row); row = []; field = ''; }
    else field += c;
  }
  if (field || row.length) { row.push(field); rows.push(row); }
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

/** The run's numbers without wall times. */
function numbersOf(report: AlignReport) {
  return {
    sft: { losses: report.sft.losses, evaluation: report.sft.evaluation },
    objectives: report.objectives.map((run) => ({
      label: run.label, params: run.params, evaluations: run.evaluations,
      steps: run.steps.map(({ milliseconds, ...rest }) => rest),
    })),
  };
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
      [REPORT_FILES.logpsChart]: 2, [REPORT_FILES.marginChart]: 1, [REPORT_FILES.accuracyChart]: 1, [REPORT_FILES.lossChart]: 1,
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
    const tableRows = markdown.split('\n').filter((line) => line.startsWith('| ') && !line.startsWith('| Objective') && !line.startsWith('| ---'));
    expect(tableRows).toHaveLength(LABELS.length);
    tableRows.forEach((line, i) => {
      const cells = line.split(/(?<!\\)\|/).slice(1, -1).map((c) => c.trim());
      expect(cells).toHaveLength(8);
      expect(cells[0]).toBe(LABELS[i]);
      for (const cell of cells.slice(1)) expect(Number.isFinite(Number(cell))).toBe(true);
    });
  });

  it('is reproducible: the same seed gives the same numbers, another seed other numbers', async () => {
    const again = await runAlign({ ...tiny, out: null });
    expect(numbersOf(again)).toEqual(numbersOf(report));
    const other = await runAlign({ ...tiny, seed: 6, out: null });
    expect(numbersOf(other).sft.losses).not.toEqual(numbersOf(report).sft.losses);
  }, 120_000);
});

describe('alignCommand', () => {
  it('prints help and exits 0', async () => {
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      expect(await alignCommand(['--help'])).toBe(0);
      expect(String(write.mock.calls[0][0])).toMatch(/--objectives/);
    } finally {
      write.mockRestore();
    }
  });

  it('rejects bad option values and unknown objectives, naming them', async () => {
    await expect(alignCommand(['--steps', 'many'])).rejects.toThrow(/--steps/);
    await expect(alignCommand(['--objectives', 'nosuch', '--out', join(tmpdir(), 'unused')])).rejects.toThrow(/unknown objective nosuch/);
    await expect(alignCommand(['--backend', 'abacus', '--steps', '1'])).rejects.toThrow(/backend/);
  });
});
