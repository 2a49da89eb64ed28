import {
  PrefConfigError,
  tapedForward,
  type AnyObjective,
  type Batch,
  type ObjectiveState,
  type PrefBackend,
  type TapedForward,
} from '@pref/core';
import type { GradSaveFunc, Scalar, Tensor as TfTensor } from '@tensorflow/tfjs-core';
import { TfjsBackend } from './tfjs-backend';
import type { TfjsTensor } from './tfjs-tensor';

export interface TfjsLossOptions {
  /** A backend from `createTfjsBackend` (or `createPrefBackend` with `"backend": "tfjs"`). */
  readonly backend: PrefBackend;
  /** The previous call's `state`, for stateful objectives (e.g. LMPO); omitted or null on the first call. */
  readonly state?: ObjectiveState | null;
  /** The hidden-state path (`<prefix>Hidden` with the batch's `lmHead`): vocabulary rows per chunk (default: the backend's choice). */
  readonly lmHead?: { readonly chunkSize?: number };
}

export interface TfjsLossResult {
  /** The loss as a tfjs scalar on tfjs's tape: return it from `optimizer.minimize(() => ...)` or `tf.grad`. */
  readonly loss: Scalar;
  /**
   * Scalar metrics (TRL names), without gradient. Inside `minimize`/`tf.grad` they are released
   * with its scope unless you `tf.keep` them.
   */
  readonly metrics: Readonly<Record<string, Scalar>>;
  /**
   * The next state as host numbers (`null` for stateless objectives): await it and pass it as
   * `options.state` next time. A promise because tfjs cannot read every backend synchronously
   * (webgpu in Node); its tensors are kept until read, whatever scope `tfjsLoss` ran in.
   */
  readonly state: Promise<ObjectiveState | null>;
}

/**
 * The float32 `tf.Tensor`s of this tfjs instance among the batch's values and those of its
 * objects (`lmHead.weight`, `lmHead.bias`), each once: the inputs of the custom-gradient op.
 */
function batchTensors(backend: TfjsBackend, batch: Batch): TfTensor[] {
  const found = new Set<TfTensor>();
  const visit = (value: unknown, depth: number) => {
    if (value instanceof backend.tf.Tensor) {
      if (!value.isDisposed && value.dtype === 'float32') found.add(value);
    } else if (depth === 0 && typeof value === 'object' && value !== null && !Array.isArray(value) && !ArrayBuffer.isView(value)) {
      for (const inner of Object.values(value)) visit(inner, 1);
    }
  };
  if (typeof batch === 'object' && batch !== null) for (const value of Object.values(batch)) visit(value, 0);
  return [...found];
}

/**
 * The native-autodiff path: the whole objective as one `tf.customGrad` op over the
 * `tf.Tensor`s of the batch (a model's logits or log-probs; or its last hidden states
 * `<prefix>Hidden` with `lmHead: { weight }`, the LM head's weight variable), so gradients flow
 * through tfjs's own tape to the variables those were computed from: on the hidden-state path
 * the model's head and body train without the `[N, T, V]` logits ever existing.
 * The op's forward is core's forward on the tfjs backend; its gradient is core's backward (the
 * one set of gradient rules), scaled by tfjs's upstream gradient. Batch inputs given as host
 * arrays (masks, labels) get no gradient; `tf.Tensor` inputs that core does not differentiate
 * (e.g. reference log-probs) get zeros. Synchronous, so it works inside
 * `optimizer.minimize(() => ...)`, `tf.grad`, `tf.variableGrads` and `tf.tidy`. What the
 * gradient needs is kept by tfjs with the tape (and released with it); without a tape nothing
 * outlives the call but `loss`, `metrics` (owned by the caller or its enclosing `tf.tidy`) and
 * the pending `state`.
 *
 * @example
 * const backend = createTfjsBackend({ tf });
 * optimizer.minimize(() => {
 *   const logits = model.apply(tokens) as tf.Tensor3D;   // [2N, T, V]: chosen rows, then rejected
 *   const [chosenLogits, rejectedLogits] = tf.split(logits, 2);
 *   return tfjsLoss(simpo, { chosenLogits, chosenLabels, rejectedLogits, rejectedLabels }, { beta: 2 }, { backend }).loss;
 * });
 */
export function tfjsLoss(
  objective: AnyObjective,
  batch: Batch,
  params: Readonly<Record<string, unknown>>,
  options: TfjsLossOptions,
): TfjsLossResult {
  const { backend } = options;
  if (!(backend instanceof TfjsBackend)) {
    throw new PrefConfigError(
      'backend',
      `tfjsLoss: options.backend must be a tfjs backend from createTfjsBackend, got ${backend?.name ?? String(backend)}`,
    );
  }
  const tf = backend.tf;
  const inputs = batchTensors(backend, batch);
  /** Metric and state tensors, kept past the op's own scope; re-homed in the caller's scope below. */
  let outputs: { metrics: [string, TfTensor][]; state: [string, TfTensor | number][] | null } = { metrics: [], state: null };
  const op = tf.customGrad((...args: (TfTensor | GradSaveFunc)[]) => {
    const save = args[args.length - 1] as GradSaveFunc;
    const { result: taped, handles } = backend.recordHandles(() =>
      tapedForward(objective, batch, params, { backend, state: options.state ?? null, lmHead: options.lmHead }),
    );
    const loss = (taped.loss as TfjsTensor).tensor;
    const escape = (t: unknown) => tf.keep(tf.clone((t as TfjsTensor).tensor));
    outputs = {
      metrics: Object.entries(taped.metrics).map(([name, t]) => [name, escape(t)]),
      state: taped.state ? Object.entries(taped.state).map(([name, v]) => [name, typeof v === 'number' ? v : escape(v)]) : null,
    };
    // With a tape, tfjs keeps copies of these for the gradient and releases them with the tape.
    save(handles.map((h) => h.tensor));
    return { value: loss, gradFunc: (dy: TfTensor, saved: TfTensor[]) => gradient(backend, taped, handles, saved, inputs, dy) };
  });
  const loss = op(...inputs) as Scalar;
  const metrics: Record<string, Scalar> = {};
  for (const [name, kept] of outputs.metrics) {
    metrics[name] = tf.clone(kept) as Scalar; // owned by the caller's scope
    kept.dispose();
  }
  return { loss, metrics, state: readState(backend, outputs.state) };
}

/**
 * The op's gradient: core's backward on the taped forward, its handles moved onto the copies tfjs
 * saved, seeded with `dy`; one gradient per op input (summed where the batch gave a tensor twice).
 */
function gradient(
  backend: TfjsBackend,
  taped: TapedForward,
  handles: readonly TfjsTensor[],
  saved: readonly TfTensor[],
  inputs: readonly TfTensor[],
  dy: TfTensor,
): TfTensor[] {
  const tf = backend.tf;
  const original = new Map<TfjsTensor, TfTensor>();
  handles.forEach((handle, i) => {
    original.set(handle, handle.tensor);
    handle.rebind(saved[i]);
  });
  const seed = backend.adopt(dy)!;
  const grads = taped.gradients(seed) as TfjsTensor[];
  const byInput = new Map<TfTensor, TfTensor[]>();
  taped.inputs.forEach((input, i) => {
    const source = original.get(input.value as TfjsTensor);
    if (source) byInput.set(source, [...(byInput.get(source) ?? []), grads[i].tensor]);
  });
  const out = inputs.map((input) => {
    const parts = byInput.get(input);
    if (!parts) return tf.zerosLike(input);
    return parts.length === 1 ? tf.clone(parts[0]) : tf.addN(parts);
  });
  taped.dispose();
  return out;
}

/** Reads the kept state tensors after the caller's scope ends, then releases them. */
function readState(backend: TfjsBackend, state: [string, TfTensor | number][] | null): Promise<ObjectiveState | null> {
  if (!state) return Promise.resolve(null);
  const tensors = state.map(([, v]) => (typeof v === 'number' ? null : v));
  const read = Promise.all(tensors.map((t) => t?.data()))
    .then((values) => Object.fromEntries(state.map(([name, v], i) => [name, typeof v === 'number' ? v : Number(values[i]![0])])))
    .finally(() => backend.tf.dispose(tensors.filter((t): t is TfTensor => t !== null)));
  read.catch(() => {}); // the caller may never await it; a failed read must not crash the process
  return read;
}
