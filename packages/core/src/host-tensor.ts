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
    typeof value === 'object' && value !== null && !Array.isArray(value) &&
    'data' in value && 'shape' in value && Array.isArray((value as HostTensor).shape)
  );
}

/** Flattens nested arrays (JSON) or checks a `{ data, shape }` pair; errors name `input`. */
export function toHostTensor(input: string, value: unknown): HostTensor {
  if (isHostTensor(value)) {
    if (value.data.length !== sizeOf(value.shape)) {
      throw new PrefInputError(input, `${input} has ${value.data.length} values but shape ${formatShape(value.shape)}`);
    }
    return value;
  }
  if (typeof value === 'number') return { data: [value], shape: [] };
  if (!Array.isArray(value)) {
    throw new PrefInputError(input, `${input} must be a nested array of numbers or { data, shape }, got ${typeof value}`);
  }
  const shape: number[] = [];
  for (let level: unknown = value; Array.isArray(level); level = level[0]) shape.push(level.length);
  const data: number[] = [];
  const walk = (node: unknown, depth: number, path: number[]): void => {
    if (depth === shape.length) {
      if (typeof node !== 'number') {
        throw new PrefInputError(input, `${input}${path.map((i) => `[${i}]`).join('')} is not a number`, path[0]);
      }
      data.push(node);
      return;
    }
    if (!Array.isArray(node) || node.length !== shape[depth]) {
      throw new PrefInputError(
        input,
        `${input} is ragged: ${input}${path.map((i) => `[${i}]`).join('')} should have ${shape[depth]} entries`,
        path[0],
      );
    }
    node.forEach((child, i) => walk(child, depth + 1, [...path, i]));
  };
  walk(value, 0, []);
  return { data, shape };
}
