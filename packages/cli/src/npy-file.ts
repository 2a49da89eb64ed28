import type { FloatArray, Shape } from '@pref/core';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/**
 * Encodes a float array as a NumPy `.npy` file (format 1.0, C order, little-endian): `<f4` for a
 * `Float32Array`, `<f8` for a `Float64Array`. `numpy.load` reads it back with the same shape and
 * exactly the same values.
 */
export function encodeNpy(data: FloatArray, shape: Shape): Uint8Array {
  const size = shape.reduce((n, d) => n * d, 1);
  if (size !== data.length) throw new RangeError(`encodeNpy: shape [${shape.join(', ')}] holds ${size} values, got ${data.length}`);
  const bytes = data instanceof Float32Array ? 4 : 8;
  const shapeText = shape.length === 0 ? '()' : shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '<f${bytes}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  // Magic (6) + version (2) + header length (2) + header, padded with spaces to a multiple of 64, ending in \n.
  const unpadded = 10 + header.length + 1;
  header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + header.length + data.length * bytes);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  const view = new DataView(out.buffer);
  view.setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  const offset = 10 + header.length;
  for (let i = 0; i < data.length; i++) {
    if (bytes === 4) view.setFloat32(offset + 4 * i, data[i], true);
    else view.setFloat64(offset + 8 * i, data[i], true);
  }
  return out;
}
