import type { BackendTensor, PrefBackend, Shape } from './pref-backend';
import type { Batch, PreparedBatch, PreparedSequence, PreparedValues } from './prepare-batch';
import { IGNORE_INDEX, MAX_INPUT_MAGNITUDE } from './prepare-batch';
import { PrefInputError } from './pref-error';
import { formatShape } from './broadcast-shape';
import { toHostTensor, type HostTensor } from './host-tensor';
import { sequenceInputName, type SequenceInputSpec } from './objective-inputs';

/** The batch input holding the LM head that every `<prefix>Hidden` input goes through. */
export const LM_HEAD_INPUT = 'lmHead';
/** Names under which the head's gradients come back in `grads`. */
export const LM_HEAD_WEIGHT_GRAD = 'lmHead.weight';
export const LM_HEAD_BIAS_GRAD = 'lmHead.bias';

/**
 * The LM head of the hidden-state path, as a batch gives it under `lmHead`: logits are
 * `z = softcap(logitScale·(hidden·weightᵀ + bias))`, `softcap(z) = c·tanh(z/c)`.
 * `weight` and `bias` are differentiable: their gradients come back as `lmHead.weight` and
 * `lmHead.bias` (summed over every sequence input that uses the head).
 */
export interface LmHeadInput {
  /** `[V, H]`: nested arrays, `{ data, shape }`, or a backend tensor. */
  readonly weight: unknown;
  /** `[V]`, optional. */
  readonly bias?: unknown;
  /** Multiplies the logits before the softcap (default 1). */
  readonly logitScale?: number;
  /** Final-logit softcapping `c` (Gemma-2: 30), default none. */
  readonly softcap?: number | null;
}

/** The head checked on the host and ready for tensors. */
export interface PreparedLmHead {
  readonly kind: 'lmHead';
  readonly weight: PreparedValues;
  readonly bias: PreparedValues | null;
  readonly logitScale: number;
  readonly softcap: number | null;
  readonly vocab: number;
  readonly hiddenSize: number;
  /** From `valueAndGrad`'s `lmHead.chunkSize`; absent = the backend's choice. */
  readonly chunkSize?: number;
}

const HEAD_KEYS = new Set(['weight', 'bias', 'logitScale', 'softcap']);

function adopt(backend: PrefBackend | undefined, value: unknown): BackendTensor | undefined {
  // Not `isHostTensor`: a backend's own tensor (a tf.Tensor) also has `data` and `shape`; the backend decides.
  if (value === undefined || value === null || Array.isArray(value)) return undefined;
  return backend?.adopt?.(value);
}

function headObject(batch: Batch): Readonly<Record<string, unknown>> | undefined {
  const head = batch[LM_HEAD_INPUT];
  if (head === undefined || head === null) return undefined;
  if (typeof head !== 'object' || Array.isArray(head) || ArrayBuffer.isView(head)) {
    throw new PrefInputError(
      LM_HEAD_INPUT,
      `${LM_HEAD_INPUT} must be an object { weight [V, H], bias? [V], logitScale?, softcap? }, got ${Array.isArray(head) ? 'a list' : typeof head}`,
    );
  }
  return head as Record<string, unknown>;
}

/** The `[V, H]` shape of the batch's LM head weight (without flattening a backend tensor). */
function headShape(batch: Batch, backend: PrefBackend | undefined, user: string): Shape {
  const head = headObject(batch);
  if (!head || head.weight === undefined || head.weight === null) {
    throw new PrefInputError(LM_HEAD_INPUT, `missing input ${LM_HEAD_INPUT} { weight [V, H] } (it goes with ${user})`);
  }
  const adopted = adopt(backend, head.weight);
  return adopted ? adopted.shape : toHostTensor(LM_HEAD_WEIGHT_GRAD, head.weight).shape;
}

function checkValues(name: string, host: HostTensor, precision: 32 | 64, rowOf: (i: number) => number | undefined): void {
  const limit = MAX_INPUT_MAGNITUDE[precision];
  for (let i = 0; i < host.data.length; i++) {
    const x = host.data[i];
    if (!Number.isFinite(x) || Math.abs(x) > limit) {
      const row = rowOf(i);
      const where = row === undefined ? `entry ${i}` : `row ${row} entry ${i}`;
      throw new PrefInputError(name, `${name} ${where} is ${x}; values must be finite and within ±${limit} (float${precision})`, row);
    }
  }
}

/**
 * A sequence given as `<prefix>Hidden [N, T, H]` with `<prefix>Labels [N, T]` (`-100` =
 * ignored) and the batch's `lmHead`: checked on the host like the logits path (labels in
 * `[0, V)`, finite hidden states, no empty completion).
 */
export function prepareHiddenSequence(spec: SequenceInputSpec, batch: Batch, precision: 32 | 64, backend?: PrefBackend): PreparedSequence {
  const name = (suffix: string) => sequenceInputName(spec.prefix, suffix);
  const [hiddenName, labelsName, logpsName, logitsName, maskName] = ['Hidden', 'Labels', 'Logps', 'Logits', 'Mask'].map(name);
  for (const other of [logpsName, logitsName, maskName]) {
    if (batch[other] !== undefined) {
      throw new PrefInputError(
        hiddenName,
        `give ${hiddenName} with ${labelsName} (and ${LM_HEAD_INPUT}), or ${logitsName} with ${labelsName}, or ${logpsName} with ${maskName}: not ${hiddenName} with ${other}`,
      );
    }
  }
  if (batch[labelsName] === undefined) throw new PrefInputError(labelsName, `missing input ${labelsName} (it goes with ${hiddenName})`);
  const labelsHost = toHostTensor(labelsName, batch[labelsName]);
  if (labelsHost.shape.length !== 2) {
    throw new PrefInputError(labelsName, `${labelsName} must have rank 2 [N, T], got shape ${formatShape(labelsHost.shape)}`);
  }
  const adopted = adopt(backend, batch[hiddenName]);
  const hiddenHost = adopted ? null : toHostTensor(hiddenName, batch[hiddenName]);
  const shape = adopted ? adopted.shape : hiddenHost!.shape;
  if (shape.length !== 3) throw new PrefInputError(hiddenName, `${hiddenName} must have rank 3 [N, T, H], got shape ${formatShape(shape)}`);
  const [rows, steps, size] = shape;
  if (rows !== labelsHost.shape[0] || steps !== labelsHost.shape[1]) {
    throw new PrefInputError(
      labelsName,
      `${labelsName} has shape ${formatShape(labelsHost.shape)} but ${hiddenName} has shape ${formatShape(shape)}; expected [${rows}, ${steps}]`,
    );
  }
  if (rows === 0 || steps === 0 || size === 0)
    throw new PrefInputError(hiddenName, `${hiddenName} has an empty axis: shape ${formatShape(shape)}`);
  const [vocab, headSize] = headShape(batch, backend, hiddenName);
  if (headSize !== size) {
    throw new PrefInputError(hiddenName, `${hiddenName} has hidden size ${size} but ${LM_HEAD_INPUT}.weight is [${vocab}, ${headSize}]`);
  }
  const labels = new Int32Array(rows * steps);
  const mask = new Float64Array(rows * steps);
  for (let i = 0; i < labels.length; i++) {
    const label = labelsHost.data[i];
    const row = Math.floor(i / steps);
    if (label === IGNORE_INDEX) {
      labels[i] = IGNORE_INDEX;
      continue;
    }
    if (!Number.isInteger(label) || label < 0 || label >= vocab) {
      throw new PrefInputError(
        labelsName,
        `${labelsName} row ${row} position ${i % steps} is ${label}, outside [0, ${vocab}) and not the ignore index ${IGNORE_INDEX}`,
        row,
      );
    }
    labels[i] = label;
    mask[i] = 1;
  }
  for (let row = 0; row < rows; row++) {
    let count = 0;
    for (let t = 0; t < steps; t++) count += mask[row * steps + t];
    if (count === 0)
      throw new PrefInputError(labelsName, `${labelsName} row ${row} is empty: a completion needs at least one counted token`, row);
  }
  if (hiddenHost) checkValues(hiddenName, hiddenHost, precision, (i) => Math.floor(i / (steps * size)));
  const values: PreparedValues = adopted ? { where: 'backend', tensor: adopted } : { where: 'host', host: hiddenHost! };
  return { kind: 'sequence', source: 'hidden', gradName: hiddenName, values, labels, mask, rows, steps };
}

/**
 * The batch's `lmHead`, checked: present exactly when some sequence is given as hidden states,
 * `weight [V, H]` matching their hidden size, `bias [V]`, a finite non-zero `logitScale`, a
 * positive `softcap` or none.
 */
export function prepareLmHead(batch: Batch, prepared: PreparedBatch, backend?: PrefBackend): PreparedLmHead | null {
  const hidden = Object.values(prepared).filter((e): e is PreparedSequence => e?.kind === 'sequence' && e.source === 'hidden');
  const head = headObject(batch);
  if (!head) return null;
  if (hidden.length === 0) {
    throw new PrefInputError(
      LM_HEAD_INPUT,
      `${LM_HEAD_INPUT} goes with hidden-state inputs (<prefix>Hidden with <prefix>Labels), and none was given`,
    );
  }
  for (const key of Object.keys(head)) {
    if (!HEAD_KEYS.has(key))
      throw new PrefInputError(LM_HEAD_INPUT, `unknown ${LM_HEAD_INPUT} field ${key}; it takes weight, bias, logitScale, softcap`);
  }
  const precision = backend?.capabilities?.precision === 32 ? 32 : 64;
  const weightAdopted = adopt(backend, head.weight);
  const weightHost = weightAdopted ? null : toHostTensor(LM_HEAD_WEIGHT_GRAD, head.weight);
  const weightShape = weightAdopted ? weightAdopted.shape : weightHost!.shape;
  if (weightShape.length !== 2) {
    throw new PrefInputError(LM_HEAD_WEIGHT_GRAD, `${LM_HEAD_WEIGHT_GRAD} must have rank 2 [V, H], got shape ${formatShape(weightShape)}`);
  }
  const [vocab, hiddenSize] = weightShape;
  if (vocab < 1 || hiddenSize < 1)
    throw new PrefInputError(LM_HEAD_WEIGHT_GRAD, `${LM_HEAD_WEIGHT_GRAD} has an empty axis: shape ${formatShape(weightShape)}`);
  if (weightHost) checkValues(LM_HEAD_WEIGHT_GRAD, weightHost, precision, () => undefined);
  let bias: PreparedValues | null = null;
  if (head.bias !== undefined && head.bias !== null) {
    const biasAdopted = adopt(backend, head.bias);
    const biasHost = biasAdopted ? null : toHostTensor(LM_HEAD_BIAS_GRAD, head.bias);
    const biasShape = biasAdopted ? biasAdopted.shape : biasHost!.shape;
    if (biasShape.length !== 1 || biasShape[0] !== vocab) {
      throw new PrefInputError(
        LM_HEAD_BIAS_GRAD,
        `${LM_HEAD_BIAS_GRAD} has shape ${formatShape(biasShape)}; expected [${vocab}] for weight ${formatShape(weightShape)}`,
      );
    }
    if (biasHost) checkValues(LM_HEAD_BIAS_GRAD, biasHost, precision, () => undefined);
    bias = biasAdopted ? { where: 'backend', tensor: biasAdopted } : { where: 'host', host: biasHost! };
  }
  const logitScale = head.logitScale ?? 1;
  if (typeof logitScale !== 'number' || !Number.isFinite(logitScale) || logitScale === 0) {
    throw new PrefInputError(LM_HEAD_INPUT, `${LM_HEAD_INPUT}.logitScale must be a finite non-zero number, got ${String(logitScale)}`);
  }
  const softcap = head.softcap ?? null;
  if (softcap !== null && (typeof softcap !== 'number' || !Number.isFinite(softcap) || softcap <= 0)) {
    throw new PrefInputError(
      LM_HEAD_INPUT,
      `${LM_HEAD_INPUT}.softcap must be a positive number (or null for none), got ${String(softcap)}`,
    );
  }
  const weight: PreparedValues = weightAdopted ? { where: 'backend', tensor: weightAdopted } : { where: 'host', host: weightHost! };
  return { kind: 'lmHead', weight, bias, logitScale, softcap, vocab, hiddenSize };
}
