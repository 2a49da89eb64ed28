import type { Feed } from './graph-plan';
import type { Dim } from './onnx-graph-builder';

/** A batch input as flat values and a shape, or null when it is not numeric data. */
interface FlatInput {
  readonly name: string;
  readonly values: ArrayLike<number>;
  readonly shape: readonly number[];
}

/** Nested arrays, `{ data, shape }`, typed arrays or an `ort.Tensor` (`data`, `dims`) as flat values. */
function flatten(name: string, value: unknown): FlatInput | null {
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    const values = value as unknown as ArrayLike<number>;
    return { name, values, shape: [values.length] };
  }
  if (Array.isArray(value)) {
    const shape: number[] = [];
    for (let level: unknown = value; Array.isArray(level); level = level[0]) shape.push(level.length);
    const values = (value as unknown[]).flat(Infinity as 1) as unknown[];
    return values.every((v) => typeof v === 'number') ? { name, values: values as number[], shape } : null;
  }
  if (typeof value === 'object' && value !== null) {
    const { data, shape, dims } = value as { data?: unknown; shape?: unknown; dims?: unknown };
    const declared = (Array.isArray(shape) ? shape : Array.isArray(dims) ? dims : null) as number[] | null;
    if (declared && (ArrayBuffer.isView(data) || Array.isArray(data))) return { name, values: data as ArrayLike<number>, shape: declared };
  }
  return null;
}

/** Every numeric input of a batch; a nested object's entries as `key.entry` (`lmHead.weight`). */
function flattenBatch(batch: Readonly<Record<string, unknown>>): FlatInput[] {
  const inputs: FlatInput[] = [];
  for (const [name, value] of Object.entries(batch)) {
    const flat = flatten(name, value);
    if (flat) inputs.push(flat);
    else if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      for (const [key, entry] of Object.entries(value)) {
        const nested = flatten(`${name}.${key}`, entry);
        if (nested) inputs.push(nested);
      }
    }
  }
  return inputs;
}

function sameValues(feed: Feed, input: FlatInput): boolean {
  const data = feed.data as ArrayLike<number>;
  if (data.length !== input.values.length) return false;
  const round = feed.type === 'float32' ? Math.fround : (x: number) => x;
  for (let i = 0; i < data.length; i++) if (data[i] !== round(Number(input.values[i]))) return false;
  return true;
}

/** `chosenLogits` → `chosen`: the name without its last capitalized word. */
const prefixOf = (name: string) => name.replace(/[A-Z][a-z0-9]*$/, '') || name;

/** The symbolic dimension names of an input: B (rows), T (steps), V (vocabulary), H (hidden size). */
function dimRoles(name: string, rank: number): string[] {
  if (/weight$/i.test(name) && rank === 2) return ['V', 'H'];
  if (/bias$/i.test(name) && rank === 1) return ['V'];
  const last = /hidden/i.test(name) ? 'H' : /logits/i.test(name) ? 'V' : null;
  return Array.from({ length: rank }, (_, axis) =>
    axis === 0 ? 'B' : axis === rank - 1 && last ? last : axis === 1 ? 'T' : `${name}_d${axis}`,
  );
}

/**
 * Graph input names for the data feeds of an exported plan, taken from the batch: a feed
 * whose values and shape equal a batch input gets its name (`chosenLogps`, `chosenLabels`, ...);
 * a 0/1 feed equal to `labels != ignoreIndex` of a named `<x>Labels` feed is `<x>Mask` (the mask
 * core derives). Dimensions are symbolic: `B`, `T`, `V`, `H`, suffixed with the input's prefix
 * where two inputs disagree (`T_rejected`). Feeds that match nothing are left out (constants).
 */
export function nameExportedInputs(
  feeds: readonly Feed[],
  batch: Readonly<Record<string, unknown>>,
  ignoreIndex = -100,
  /** Feeds that meet `feed` in the graph within a few nodes, nearest first (to disambiguate equal inputs). */
  neighbours?: (feed: string) => readonly string[],
): Map<string, { readonly name: string; readonly dims: readonly Dim[] }> {
  const inputs = flattenBatch(batch);
  const names = new Map<string, string>();
  const taken = new Set<string>();
  const byData = new Map<unknown, string>();
  const candidatesOf = (feed: Feed) =>
    inputs.filter(
      (input) =>
        !taken.has(input.name) &&
        input.shape.length === feed.dims.length &&
        input.shape.every((d, i) => d === feed.dims[i]) &&
        sameValues(feed, input),
    );
  const assign = (feed: Feed, name: string) => {
    names.set(feed.name, name);
    taken.add(name);
    byData.set(feed.data, name);
  };
  const pending: Feed[] = [];
  // Unambiguous matches first; a feed equal to several batch inputs (two all-ones masks) waits.
  for (const feed of feeds) {
    if (feed.type === 'int64') continue;
    const same = byData.get(feed.data);
    if (same) names.set(feed.name, same);
    else {
      const candidates = candidatesOf(feed);
      if (candidates.length === 1) assign(feed, candidates[0].name);
      else if (candidates.length > 1) pending.push(feed);
    }
  }
  // Then each ambiguous feed takes the candidate whose prefix its graph neighbours carry
  // (`chosenMask` meets `chosenLogps` in the same nodes), else the first.
  for (const feed of pending) {
    if (byData.has(feed.data)) {
      names.set(feed.name, byData.get(feed.data)!);
      continue;
    }
    const candidates = candidatesOf(feed);
    if (candidates.length === 0) continue;
    const near = neighbours?.(feed.name) ?? [];
    const score = (candidate: FlatInput) => near.filter((other) => prefixOf(names.get(other) ?? '\0') === prefixOf(candidate.name)).length;
    const best = candidates.reduce((a, b) => (score(b) > score(a) ? b : a));
    assign(feed, best.name);
  }
  for (const feed of feeds) {
    if (feed.type !== 'float32' || names.has(feed.name)) continue;
    const labels = feeds.find(
      (f) =>
        f.type === 'int32' &&
        /Labels$/.test(names.get(f.name) ?? '') &&
        f.data.length === feed.data.length &&
        Array.from(f.data as Int32Array).every((label, i) => (feed.data as Float32Array)[i] === (label === ignoreIndex ? 0 : 1)),
    );
    const mask = labels && `${names.get(labels.name)!.replace(/Labels$/, '')}Mask`;
    if (mask && !taken.has(mask)) {
      names.set(feed.name, mask);
      taken.add(mask);
    }
  }

  const symbolValue = new Map<string, number>();
  const result = new Map<string, { name: string; dims: Dim[] }>();
  const dimsOf = new Map<string, Dim[]>();
  for (const feed of feeds) {
    const name = names.get(feed.name);
    if (!name) continue;
    let dims = dimsOf.get(name);
    if (!dims) {
      dims = dimRoles(name, feed.dims.length).map((role, axis) => {
        const size = feed.dims[axis];
        const seen = symbolValue.get(role);
        if (seen === undefined || seen === size) {
          symbolValue.set(role, size);
          return role;
        }
        return `${role}_${prefixOf(name)}`;
      });
      dimsOf.set(name, dims);
    }
    result.set(feed.name, { name, dims });
  }
  return result;
}
