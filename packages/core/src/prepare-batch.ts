import type { BackendTensor, PrefBackend, Shape } from './pref-backend';
import { PrefInputError } from './pref-error';
import { formatShape, sameShape } from './broadcast-shape';
import { formatValue, toHostTensor, type HostTensor } from './host-tensor';
import { inputNames, sequenceInputName, type InputSchema, type InputSpec, type SequenceInputSpec } from './objective-inputs';
import { checkInputRules, checkRowsMultiple } from './input-rules';
import { LM_HEAD_INPUT, prepareHiddenSequence, prepareLmHead, type PreparedLmHead } from './prepare-hidden';

/** Log-probs may exceed 0 by this much (rounding) before they are rejected. */
export const LOG_PROB_TOLERANCE = 1e-6;
export const IGNORE_INDEX = -100;

/**
 * Largest magnitude a float input may hold, by backend precision. Objectives sum inputs over
 * tokens and rows, square (IPO) and exponentiate them: inside these bounds every intermediate
 * stays finite; no model produces larger log-probs or logits. A logit of 1e39 (finite in
 * float64, Infinity in float32) or a log-prob of −1e308 is rejected, not turned into NaN.
 */
export const MAX_INPUT_MAGNITUDE: Readonly<Record<32 | 64, number>> = { 32: 1e9, 64: 1e100 };

/** The precision values are checked against: the backend's, or float64 without one. */
function precisionOf(backend: PrefBackend | undefined): 32 | 64 {
  return backend?.capabilities?.precision === 32 ? 32 : 64;
}

/** Smallest positive float32 (subnormal). */
const FLOAT32_TINY = 2 ** -149;

/**
 * On a float32 backend, nonzero values that would round to 0 (−1e−300) are kept as the
 * smallest float32 of their sign, so tests for "exactly 0" (SLIME's value-derived mask) agree
 * with float64. Returns the values unchanged (same object) when nothing underflows.
 */
function keepNonzero(host: HostTensor, precision: 32 | 64): HostTensor {
  if (precision !== 32) return host;
  let data: Float64Array | null = null;
  for (let i = 0; i < host.data.length; i++) {
    const x = host.data[i];
    if (x !== 0 && Math.fround(x) === 0) {
      data ??= Float64Array.from(host.data);
      data[i] = x > 0 ? FLOAT32_TINY : -FLOAT32_TINY;
    }
  }
  return data ? { data, shape: host.shape } : host;
}

/** `x` is finite and within the backend precision's bound, or the reason it is not. */
function valueProblem(x: number, precision: 32 | 64): string | null {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return `${x}`;
  const limit = MAX_INPUT_MAGNITUDE[precision];
  if (Math.abs(x) > limit) return `${x}, outside ±${limit} (the float${precision} input range)`;
  return null;
}

/** Index of the first value in `data[start, end)` that is NaN, infinite or beyond ±`limit`, else -1 (the hot scan). */
function firstOutOfRange(data: ArrayLike<number>, start: number, end: number, limit: number): number {
  for (let i = start; i < end; i++) if (!(Math.abs(data[i]) <= limit)) return i;
  return -1;
}

/** A batch as users pass it: input name → nested arrays, `{ data, shape }`, or a backend-native tensor. */
export type Batch = Readonly<Record<string, unknown>>;

export type PreparedValues =
  { readonly where: 'host'; readonly host: HostTensor } | { readonly where: 'backend'; readonly tensor: BackendTensor };

export interface PreparedSequence {
  readonly kind: 'sequence';
  readonly source: 'logps' | 'logits' | 'hidden';
  /** Name of the differentiable input (`chosenLogps` or `chosenLogits`). */
  readonly gradName: string;
  readonly values: PreparedValues;
  /** Labels (logits path), host int32 `[N, T]`. */
  readonly labels: Int32Array | null;
  /** 0/1 mask `[N, T]` on the host. */
  readonly mask: Float64Array;
  readonly rows: number;
  readonly steps: number;
}

export interface PreparedTensor {
  readonly kind: 'tokens' | 'rows';
  readonly values: PreparedValues;
}

/** Prepared inputs by schema key; the hidden-state path's head sits under `lmHead` (kind `lmHead`). */
export type PreparedBatch = Record<string, PreparedSequence | PreparedTensor | PreparedLmHead | undefined>;

/**
 * Checks a batch against an objective's input schema on the host and returns it ready for
 * tensors. Every error is a `PrefInputError` naming the input (and the row where one is at
 * fault): missing inputs, shapes, masks other than 0/1, empty completions, labels outside
 * `[0, V)` other than -100, non-finite values and log-probs above 0.
 */
export function prepareBatch(
  schema: InputSchema,
  batch: Batch,
  backend?: PrefBackend,
  /** The objective's resolved parameters, for conditional inputs (`requiredWhen`, ...). */
  params: Readonly<Record<string, unknown>> = {},
): PreparedBatch {
  if (typeof batch !== 'object' || batch === null || Array.isArray(batch)) {
    throw new PrefInputError(
      'batch',
      `the batch must be an object of named inputs like { chosenLogps, chosenMask, ... }, got ${batch === null ? 'null' : Array.isArray(batch) ? 'a list' : typeof batch}`,
    );
  }
  const precision = precisionOf(backend);
  const known = new Set(Object.values(schema).flatMap((spec) => inputNames(spec)));
  if (Object.values(schema).some((spec) => spec.kind === 'sequence')) known.add(LM_HEAD_INPUT);
  for (const name of Object.keys(batch)) {
    if (!known.has(name)) {
      throw new PrefInputError(name, `unknown input ${name}; this objective takes ${[...known].join(', ')}`);
    }
  }
  checkInputRules(schema, batch, params);
  const prepared: PreparedBatch = {};
  let rowsOwner: { name: string; rows: number } | null = null;
  const checkRows = (name: string, rows: number) => {
    if (rowsOwner === null) rowsOwner = { name, rows };
    else if (rowsOwner.rows !== rows) {
      throw new PrefInputError(name, `${name} has ${rows} rows but ${rowsOwner.name} has ${rowsOwner.rows}`);
    }
  };
  // Sequences first: token inputs follow their shape and mask.
  const ordered = Object.entries(schema).sort(([, a], [, b]) => Number(b.kind === 'sequence') - Number(a.kind === 'sequence'));
  for (const [key, spec] of ordered) {
    if (spec.kind === 'sequence') {
      const seq = prepareSequence(spec, batch, precision, backend);
      checkRows(seq.gradName, seq.rows);
      checkRowsMultiple(spec, seq.gradName, seq.rows, params);
      prepared[key] = seq;
    } else {
      prepared[key] = prepareAligned(spec, batch, prepared, schema, checkRows, precision, backend);
    }
  }
  const head = prepareLmHead(batch, prepared, backend);
  if (head) prepared[LM_HEAD_INPUT] = head;
  return prepared;
}

function adopt(backend: PrefBackend | undefined, value: unknown): BackendTensor | undefined {
  if (value === undefined || value === null || Array.isArray(value)) return undefined;
  return backend?.adopt?.(value);
}

function prepareSequence(spec: SequenceInputSpec, batch: Batch, precision: 32 | 64, backend?: PrefBackend): PreparedSequence {
  if (batch[sequenceInputName(spec.prefix, 'Hidden')] !== undefined) return prepareHiddenSequence(spec, batch, precision, backend);
  const name = (suffix: string) => sequenceInputName(spec.prefix, suffix);
  const [logpsName, maskName, logitsName, labelsName] = ['Logps', 'Mask', 'Logits', 'Labels'].map(name);
  const hasLogps = batch[logpsName] !== undefined;
  const hasLogits = batch[logitsName] !== undefined;
  if (hasLogps && hasLogits) {
    throw new PrefInputError(logpsName, `give either ${logpsName} with ${maskName} or ${logitsName} with ${labelsName}, not both`);
  }
  if (!hasLogps && !hasLogits) {
    throw new PrefInputError(logpsName, `missing input ${logpsName} (with ${maskName}), or ${logitsName} with ${labelsName}`);
  }
  if (hasLogps) {
    if (batch[maskName] === undefined) throw new PrefInputError(maskName, `missing input ${maskName} (it goes with ${logpsName})`);
    const mask = toHostTensor(maskName, batch[maskName]);
    expectRank(maskName, mask.shape, 2, '[N, T]');
    expectRows(maskName, mask.shape);
    const maskValues = checkMask(maskName, mask);
    const adopted = adopt(backend, batch[logpsName]);
    const shape = adopted ? adopted.shape : toHostTensor(logpsName, batch[logpsName]).shape;
    expectRank(logpsName, shape, 2, '[N, T]');
    if (!sameShape(shape, mask.shape)) {
      throw new PrefInputError(
        logpsName,
        `${logpsName} has shape ${formatShape(shape)} but ${maskName} has shape ${formatShape(mask.shape)}`,
      );
    }
    let values: PreparedValues;
    if (adopted) values = { where: 'backend', tensor: adopted };
    else {
      const host = toHostTensor(logpsName, batch[logpsName]);
      checkLogProbs(logpsName, host, maskValues, precision);
      values = { where: 'host', host: keepNonzero(host, precision) };
    }
    return {
      kind: 'sequence',
      source: 'logps',
      gradName: logpsName,
      values,
      labels: null,
      mask: maskValues,
      rows: shape[0],
      steps: shape[1],
    };
  }
  if (batch[labelsName] === undefined) throw new PrefInputError(labelsName, `missing input ${labelsName} (it goes with ${logitsName})`);
  const labelsHost = toHostTensor(labelsName, batch[labelsName]);
  expectRank(labelsName, labelsHost.shape, 2, '[N, T]');
  expectRows(labelsName, labelsHost.shape);
  const adopted = adopt(backend, batch[logitsName]);
  const logitsHost = adopted ? null : toHostTensor(logitsName, batch[logitsName]);
  const shape = adopted ? adopted.shape : logitsHost!.shape;
  expectRank(logitsName, shape, 3, '[N, T, V]');
  if (shape[0] !== labelsHost.shape[0] || shape[1] !== labelsHost.shape[1]) {
    throw new PrefInputError(
      labelsName,
      `${labelsName} has shape ${formatShape(labelsHost.shape)} but ${logitsName} has shape ${formatShape(shape)}; expected [${shape[0]}, ${shape[1]}]`,
    );
  }
  const [rows, steps, vocab] = shape;
  const labels = new Int32Array(rows * steps);
  const mask = new Float64Array(rows * steps);
  // Each position's largest |logit| from the backend where it has a faster scan; a position
  // beyond the limit is then scanned here to name the entry.
  const limit = MAX_INPUT_MAGNITUDE[precision];
  const rowMax = logitsHost ? (backend?.hostRowMaxAbs?.(logitsHost.data, rows * steps, vocab) ?? null) : null;
  for (let i = 0; i < labels.length; i++) {
    const label = labelsHost.data[i];
    const row = Math.floor(i / steps);
    // Every position's logits are checked, ignored ones too: backends differ in what a NaN
    // at an ignored position does to its gradient row.
    if (logitsHost) {
      const bad = rowMax && rowMax[i] <= limit ? -1 : firstOutOfRange(logitsHost.data, i * vocab, (i + 1) * vocab, limit);
      if (bad >= 0) {
        const problem = valueProblem(logitsHost.data[bad], precision);
        throw new PrefInputError(
          logitsName,
          `${logitsName} row ${row} position ${i % steps} entry ${bad - i * vocab} is ${problem}; logits must be finite`,
          row,
        );
      }
    }
    if (label === IGNORE_INDEX) continue;
    if (!Number.isInteger(label) || label < 0 || label >= vocab) {
      throw new PrefInputError(
        labelsName,
        `${labelsName} row ${row} position ${i % steps} is ${formatValue(label)}, outside [0, ${vocab}) and not the ignore index ${IGNORE_INDEX}`,
        row,
      );
    }
    labels[i] = label;
    mask[i] = 1;
  }
  for (let i = 0; i < labels.length; i++) if (labelsHost.data[i] === IGNORE_INDEX) labels[i] = IGNORE_INDEX;
  checkNotEmpty(labelsName, mask, rows, steps);
  const values: PreparedValues = adopted ? { where: 'backend', tensor: adopted } : { where: 'host', host: logitsHost! };
  return { kind: 'sequence', source: 'logits', gradName: logitsName, values, labels, mask, rows, steps };
}

function prepareAligned(
  spec: Exclude<InputSpec, SequenceInputSpec>,
  batch: Batch,
  prepared: PreparedBatch,
  schema: InputSchema,
  checkRows: (name: string, rows: number) => void,
  precision: 32 | 64,
  backend?: PrefBackend,
): PreparedTensor | undefined {
  const value = batch[spec.name];
  if (value === undefined || value === null) {
    if (spec.optional) return undefined;
    throw new PrefInputError(spec.name, `missing input ${spec.name}: ${spec.description}`);
  }
  const adopted = adopt(backend, value);
  const host = adopted ? null : toHostTensor(spec.name, value);
  const shape = adopted ? adopted.shape : host!.shape;
  if (spec.kind === 'rows') {
    expectRank(spec.name, shape, 1, '[N]');
    expectRows(spec.name, shape);
    checkRows(spec.name, shape[0]);
    if (host) {
      for (let row = 0; row < shape[0]; row++) {
        const x = host.data[row];
        const problem = valueProblem(x, precision);
        if (problem) throw new PrefInputError(spec.name, `${spec.name} row ${row} is ${problem}; values must be finite`, row);
        if (spec.values === 'binary' && x !== 0 && x !== 1) {
          throw new PrefInputError(spec.name, `${spec.name} row ${row} is ${formatValue(x)}; it must be 0 or 1`, row);
        }
        if (spec.logProbs && x > LOG_PROB_TOLERANCE) {
          throw new PrefInputError(spec.name, `${spec.name} row ${row} is ${x}; a summed log-prob cannot be above 0`, row);
        }
      }
    }
    return {
      kind: 'rows',
      values: adopted ? { where: 'backend', tensor: adopted } : { where: 'host', host: keepNonzero(host!, precision) },
    };
  }
  const sequence = prepared[spec.sequence] as PreparedSequence;
  const sequenceSpec = schema[spec.sequence] as SequenceInputSpec;
  const expected = [sequence.rows, sequence.steps];
  if (!sameShape(shape, expected)) {
    throw new PrefInputError(
      spec.name,
      `${spec.name} has shape ${formatShape(shape)}; expected ${formatShape(expected)} like ${sequenceInputName(sequenceSpec.prefix, 'Mask')}`,
    );
  }
  if (host) {
    if (spec.values === 'binary') checkBinary(spec.name, host);
    else if (spec.logProbs) checkLogProbs(spec.name, host, sequence.mask, precision);
    else checkFinite(spec.name, host, sequence.mask, precision);
  }
  return {
    kind: 'tokens',
    values: adopted ? { where: 'backend', tensor: adopted } : { where: 'host', host: keepNonzero(host!, precision) },
  };
}

function expectRank(name: string, shape: Shape, rank: number, layout: string): void {
  if (shape.length !== rank) {
    throw new PrefInputError(name, `${name} must have rank ${rank} ${layout}, got shape ${formatShape(shape)}`);
  }
}

/** A batch needs at least one row: an empty batch has no mean to take. */
function expectRows(name: string, shape: Shape): void {
  if (shape[0] === 0) {
    throw new PrefInputError(name, `${name} has shape ${formatShape(shape)}: the batch is empty; pass at least one row`);
  }
}

function checkMask(name: string, mask: HostTensor): Float64Array {
  const [rows, steps] = mask.shape;
  const values = new Float64Array(rows * steps);
  for (let i = 0; i < values.length; i++) {
    const m = mask.data[i];
    if (m !== 0 && m !== 1) {
      const row = Math.floor(i / steps);
      throw new PrefInputError(name, `${name} row ${row} position ${i % steps} is ${formatValue(m)}; a mask holds 0 or 1`, row);
    }
    values[i] = m;
  }
  checkNotEmpty(name, values, rows, steps);
  return values;
}

function checkNotEmpty(name: string, mask: Float64Array, rows: number, steps: number): void {
  for (let row = 0; row < rows; row++) {
    let count = 0;
    for (let t = 0; t < steps; t++) count += mask[row * steps + t];
    if (count === 0) {
      throw new PrefInputError(name, `${name} row ${row} is empty: a completion needs at least one counted token`, row);
    }
  }
}

function checkFinite(name: string, values: HostTensor, mask: Float64Array, precision: 32 | 64): void {
  const steps = values.shape[1];
  for (let i = 0; i < mask.length; i++) {
    const problem = mask[i] ? valueProblem(values.data[i], precision) : null;
    if (problem) {
      const row = Math.floor(i / steps);
      throw new PrefInputError(name, `${name} row ${row} position ${i % steps} is ${problem}; values must be finite`, row);
    }
  }
}

function checkBinary(name: string, values: HostTensor): void {
  const steps = values.shape[1];
  for (let i = 0; i < values.data.length; i++) {
    const x = values.data[i];
    if (x !== 0 && x !== 1) {
      const row = Math.floor(i / steps);
      throw new PrefInputError(name, `${name} row ${row} position ${i % steps} is ${formatValue(x)}; it must be 0 or 1`, row);
    }
  }
}

function checkLogProbs(name: string, values: HostTensor, mask: Float64Array, precision: 32 | 64): void {
  checkFinite(name, values, mask, precision);
  const steps = values.shape[1];
  for (let i = 0; i < mask.length; i++) {
    if (mask[i] && values.data[i] > LOG_PROB_TOLERANCE) {
      const row = Math.floor(i / steps);
      throw new PrefInputError(name, `${name} row ${row} position ${i % steps} is ${values.data[i]}; a log-prob cannot be above 0`, row);
    }
  }
}
