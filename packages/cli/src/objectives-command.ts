import { parseArgs } from 'node:util';
import { describeRange, type AnyObjective, type ParamSpec } from '@pref/core';
import { loadObjectives } from './objective-registry';
import type { CliIo } from './cli-io';

export const OBJECTIVES_HELP = `pref objectives [<id>] [--json]

Lists the installed objectives with their parameters (default, valid range), presets and
inputs. With an id, shows that objective only.`;

function describeSpec(spec: ParamSpec): string {
  switch (spec.kind) {
    case 'number':
      return `number in ${describeRange(spec)}`;
    case 'boolean':
      return 'true | false';
    case 'enum':
      return spec.values.join(' | ');
    case 'enumList':
      return `${spec.values.join(' | ')} (or a list)`;
    case 'numberList':
      return 'list of numbers';
  }
}

function formatObjective(objective: AnyObjective): string[] {
  const lines = [`${objective.id} — ${objective.title}: ${objective.summary}`, `  paper: ${objective.reference}`, '  parameters:'];
  for (const [name, spec] of Object.entries(objective.params) as [string, ParamSpec][]) {
    const symbol = spec.symbol ? ` (${spec.symbol})` : '';
    lines.push(`    ${name}${symbol} = ${JSON.stringify(spec.default)}  [${describeSpec(spec)}]  ${spec.description}`);
  }
  const presets = Object.entries(objective.presets as Record<string, { description: string; values: unknown }>);
  if (presets.length) {
    lines.push('  presets:');
    for (const [name, preset] of presets) lines.push(`    ${name}: ${JSON.stringify(preset.values)}  ${preset.description}`);
  }
  lines.push(`  metrics: ${objective.metrics.join(', ')}`);
  return lines;
}

export async function objectivesCommand(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { json: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false } },
  });
  if (values.help) {
    io.out(OBJECTIVES_HELP);
    return 0;
  }
  const objectives = await loadObjectives();
  const selected = positionals.length ? positionals : Object.keys(objectives).sort();
  for (const id of selected) {
    if (!objectives[id]) {
      io.err(`unknown objective ${id}; installed: ${Object.keys(objectives).sort().join(', ')}`);
      return 1;
    }
  }
  if (values.json) {
    const listing = selected.map((id) => {
      const o = objectives[id];
      return {
        id,
        title: o.title,
        summary: o.summary,
        reference: o.reference,
        params: o.params,
        presets: o.presets,
        metrics: o.metrics,
        stateful: o.stateful,
      };
    });
    io.out(JSON.stringify(listing, null, 2));
    return 0;
  }
  selected.forEach((id, i) => {
    if (i) io.out('');
    for (const line of formatObjective(objectives[id])) io.out(line);
  });
  return 0;
}
