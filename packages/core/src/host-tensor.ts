import { PrefInputError } from './pref-error';
import type { Shape } from './pref-backend';
import { formatShape, sizeOf } from './broadcast-shape';

/** Values on the host with an explicit shape (row-major). */
export interface HostTensor {
  readonly data: ArrayLike<number>;
  readonly shape: Shape;
}

export type NestedNumbers = number | readonly NestedNumbers[];

export function isHostTensor(value: unknown): value is HostTensor {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    !ArrayBuffer.isView(value) &&
    'data' in value &&
    'shape' in value
  );
}

/** A JS array or a typed array (`Float64Array`, `Float32Array`, `Int32Array`, ...): one level of a nested batch. */
function isArrayLevel(value: unknown): value is ArrayLike<unknown> {
  return Array.isArray(value) || (ArrayBuffer.isView(value) && !(value instanceof DataView));
}

const at = (input: string, path: readonly number[]) => `${input}${path.map((i) => `[${i}]`).join('')}`;

/**
 * Flattens nested arrays (JSON; rows may be typed arrays such as `Float64Array`) or checks a
 * `{ data, shape }` pair; errors name `input` and the row and position at fault.
 */
export function toHostTensor(input: string, value: unknown): HostTensor {
  if (isHostTensor(value)) return checkDataShape(input, value);
  if (typeof value === 'number') return { data: [value], shape: [] };
  if (!isArrayLevel(value)) {
    const got = value === null ? 'null' : typeof value;
    throw new PrefInputError(input, `${input} must be a nested array of numbers or { data, shape }, got ${got}`);
  }
  if (ArrayBuffer.isView(value)) return { data: value as unknown as ArrayLike<number>, shape: [value.length] };
  const shape: number[] = [];
  for (let level: unknown = value; isArrayLevel(level); level = (level as ArrayLike<unknown>)[0]) {
    shape.push((level as ArrayLike<unknown>).length);
    if ((level as ArrayLike<unknown>).length === 0) break;
  }
  const data: number[] = [];
  const walk = (node: unknown, depth: number, path: number[]): void => {
    if (depth === shape.length) {
      if (typeof node !== 'number') {
        const got = isArrayLevel(node)
          ? `a list, one level deeper than ${at(input, path.slice(0, 1))}'s neighbours`
          : node === null
            ? 'null'
            : typeof node;
        throw new PrefInputError(input, `${at(input, path)} is not a number (got ${got})`, path[0]);
      }
      data.push(node);
      return;
    }
    if (!isArrayLevel(node)) {
      throw new PrefInputError(input, `${at(input, path)} is ${typeof node}, expected a list of ${shape[depth]} entries`, path[0]);
    }
    checkSiblings(input, node, depth, path, shape);
    if (node.length !== shape[depth]) {
      throw new PrefInputError(
        input,
        `${input} is ragged: ${at(input, path)} has ${node.length} entries, expected ${shape[depth]}`,
        path[0],
      );
    }
    for (let i = 0; i < node.length; i++) walk(node[i], depth + 1, [...path, i]);
  };
  walk(value, 0, []);
  return { data, shape };
}

/**
 * Before descending, the children of `node` must agree in length: the expected length is the
 * most common one (ties: the longest), and the error names the child that differs, so a short
 * first row is reported as that row rather than as every later one.
 */
function checkSiblings(input: string, node: ArrayLike<unknown>, depth: number, path: number[], shape: readonly number[]): void {
  if (depth + 1 >= shape.length) return;
  const lengths = Array.from(node, (child) => (isArrayLevel(child) ? child.length : -1));
  const counts = new Map<number, number>();
  for (const length of lengths) counts.set(length, (counts.get(length) ?? 0) + 1);
  if (counts.size <= 1) return;
  const expected = [...counts.entries()].filter(([l]) => l >= 0).sort((a, b) => b[1] - a[1] || b[0] - a[0])[0]?.[0] ?? 0;
  const bad = lengths.findIndex((l) => l !== expected);
  const where = [...path, bad];
  if (lengths[bad] < 0) {
    throw new PrefInputError(input, `${at(input, where)} is not a list; expected ${expected} entries like its neighbours`, where[0]);
  }
  throw new PrefInputError(
    input,
    `${input} is ragged: ${at(input, where)} has ${lengths[bad]} entries, the other rows ${expected}`,
    where[0],
  );
}

function checkDataShape(input: string, value: HostTensor): HostTensor {
  const { shape, data } = value as { shape: unknown; data: unknown };
  if (!Array.isArray(shape) || shape.some((d) => typeof d !== 'number' || !Number.isInteger(d) || d < 0)) {
    throw new PrefInputError(input, `${input}.shape must be a list of non-negative integers, got ${formatValue(shape)}`);
  }
  if (!isArrayLevel(data)) {
    throw new PrefInputError(
      input,
      `${input}.data must be an array or typed array of numbers, got ${data === null ? 'null' : typeof data}`,
    );
  }
  if (data.length !== sizeOf(shape)) {
    throw new PrefInputError(input, `${input} has ${data.length} values but shape ${formatShape(shape)} holds ${sizeOf(shape)}`);
  }
  if (Array.isArray(data)) {
    const bad = data.findIndex((x) => typeof x !== 'number');
    if (bad >= 0) {
      const row = shape.length > 1 ? Math.floor(bad / (sizeOf(shape) / shape[0])) : bad;
      throw new PrefInputError(input, `${input}.data[${bad}] is not a number (got ${formatValue(data[bad])})`, row);
    }
  }
  return value;
}

/** A value as it appears in an error: numbers as JS prints them (`NaN`, `Infinity`, `-0`), else JSON. */
export function formatValue(value: unknown): string {
  if (typeof value === 'number') return Object.is(value, -0) ? '-0' : String(value);
  if (value === undefined) return 'undefined';
  if (typeof value === 'bigint') return `${value}n`;
  try {
    return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v)) ?? String(value);
  } catch {
    return String(value);
  }
}
