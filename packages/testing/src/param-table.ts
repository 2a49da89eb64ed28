import { describeRange, type ParamSpec } from '@pref/core';

const code = (value: unknown) => `\`${typeof value === 'string' ? value : JSON.stringify(value)}\``;
/** Table cells may not hold a bare `|` or a line break. */
const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');

function validRange(spec: ParamSpec): string {
  switch (spec.kind) {
    case 'number':
      return describeRange(spec).replace('-∞', '−∞') + (spec.default === null ? ', or `null`' : '');
    case 'boolean':
      return '`true`, `false`';
    case 'enum':
      return spec.values.map(code).join(', ');
    case 'enumList':
      return `${spec.values.map(code).join(', ')}, or a non-empty list of them`;
    case 'numberList':
      return 'a list of finite numbers, or `null`';
  }
}

function defaultValue(spec: ParamSpec): string {
  if (spec.default === null) return '`null`';
  return spec.kind === 'number' ? String(spec.default) : code(spec.default);
}

/**
 * The parameter table of an objective's docs page, rendered from its schema (one row per
 * parameter, in schema order): name, symbol, default, valid range, meaning.
 */
export function renderParamTable(params: Readonly<Record<string, ParamSpec>>): string {
  const rows = Object.entries(params).map(
    ([name, spec]) => `| \`${name}\` | ${spec.symbol ?? ''} | ${defaultValue(spec)} | ${validRange(spec)} | ${cell(spec.description)} |`,
  );
  return ['| name | symbol | default | valid range | meaning |', '| --- | --- | --- | --- | --- |', ...rows].join('\n');
}

/** Where the parameter table sits in a docs page: the first table after `## Parameters`. */
function tableSpan(markdown: string): { start: number; end: number } | null {
  const heading = markdown.search(/^## Parameters\s*$/m);
  if (heading < 0) return null;
  const lines = markdown.slice(heading).split('\n');
  let offset = heading;
  let start = -1;
  for (const line of lines) {
    if (start < 0 && line.startsWith('|')) start = offset;
    else if (start >= 0 && !line.startsWith('|')) return { start, end: offset - 1 };
    else if (start < 0 && line.startsWith('## ') && offset > heading) return null;
    offset += line.length + 1;
  }
  return start >= 0 ? { start, end: markdown.length } : null;
}

/** The parameter table of a docs page as written, or `null` when the page has none. */
export function extractParamTable(markdown: string): string | null {
  const span = tableSpan(markdown);
  return span ? markdown.slice(span.start, span.end) : null;
}

/** The docs page with its parameter table replaced by `table`; throws when there is none. */
export function replaceParamTable(markdown: string, table: string): string {
  const span = tableSpan(markdown);
  if (!span) throw new Error('the page has no table under "## Parameters"');
  return markdown.slice(0, span.start) + table + markdown.slice(span.end);
}
