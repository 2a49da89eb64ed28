import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { extractParamTable, installedObjectives, renderParamTable, replaceParamTable } from '../src';

const docs = join(import.meta.dirname, '../../../docs/objectives');
/** `node scripts/render-param-tables.mjs` sets this to rewrite the tables instead of checking them. */
const update = process.env.PREF_UPDATE_PARAM_TABLES === '1';
const { objectives } = await installedObjectives();

describe('docs/objectives/<id>.md parameter tables are rendered from the schemas', () => {
  it('every installed objective has a docs page', () => {
    expect(Object.keys(objectives).filter((id) => !existsSync(join(docs, `${id}.md`)))).toEqual([]);
  });
  for (const [id, objective] of Object.entries(objectives).sort(([a], [b]) => a.localeCompare(b))) {
    it(id, () => {
      const file = join(docs, `${id}.md`);
      const page = readFileSync(file, 'utf8');
      const rendered = renderParamTable(objective.params);
      if (update) writeFileSync(file, replaceParamTable(page, rendered));
      else expect(extractParamTable(page), `${file}: run node scripts/render-param-tables.mjs`).toBe(rendered);
    });
  }
});

describe('renderParamTable', () => {
  it('renders each kind of parameter', () => {
    const table = renderParamTable({
      beta: { kind: 'number', default: 0.1, min: 0, minExclusive: true, symbol: 'β', description: 'Scale | of the reward.' },
      alpha: { kind: 'number', default: null, description: 'Derived.' },
      loss: { kind: 'enumList', values: ['a', 'b'], default: 'a', description: 'Loss.' },
      on: { kind: 'boolean', default: false, description: 'Switch.' },
    });
    expect(table.split('\n')).toEqual([
      '| name | symbol | default | valid range | meaning |',
      '| --- | --- | --- | --- | --- |',
      '| `beta` | β | 0.1 | (0, ∞) | Scale \\| of the reward. |',
      '| `alpha` |  | `null` | (−∞, ∞), or `null` | Derived. |',
      '| `loss` |  | `a` | `a`, `b`, or a non-empty list of them | Loss. |',
      '| `on` |  | `false` | `true`, `false` | Switch. |',
    ]);
  });
  it('replaces only the table under "## Parameters"', () => {
    const page = '# X\n\n| other | table |\n\n## Parameters\n\nText.\n\n| old |\n| --- |\n\n## Next\n';
    expect(replaceParamTable(page, '| new |')).toBe('# X\n\n| other | table |\n\n## Parameters\n\nText.\n\n| new |\n\n## Next\n');
    expect(() => replaceParamTable('# X\n', '| new |')).toThrow(/Parameters/);
  });
});
