import { UsageError } from './cli-io';

/**
 * Parses objective parameters from the command line: a JSON object (`{"beta":0.1}`) or
 * comma-separated `name=value` pairs (`beta=0.1,lossType=hinge,preset=paper`). Values are
 * read as JSON where they parse (numbers, booleans, lists), else as strings.
 */
export function parseParamList(text: string | undefined): Record<string, unknown> {
  if (!text) return {};
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch (error) {
      throw new UsageError(`--params: invalid JSON (${(error as Error).message}); give {"beta":0.1} or beta=0.1,lossType=hinge`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      throw new UsageError('--params JSON must be an object like {"beta":0.1}');
    return parsed as Record<string, unknown>;
  }
  const params: Record<string, unknown> = {};
  for (const pair of splitTopLevel(trimmed)) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`--params: expected name=value, got "${pair}"; e.g. --params ${pair.trim() || 'beta'}=0.1`);
    const name = pair.slice(0, eq).trim();
    const raw = pair.slice(eq + 1).trim();
    try {
      params[name] = JSON.parse(raw);
    } catch {
      params[name] = raw;
    }
  }
  return params;
}

/** Splits on commas outside brackets, so `lossType=["sigmoid","sft"],beta=0.1` works. */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '[' || c === '{') depth++;
    else if (c === ']' || c === '}') depth--;
    else if (c === ',' && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts.map((p) => p.trim()).filter(Boolean);
}
