import { forwardTensors, type LossTensors, type AnyObjective, type Batch, type BackendTensor, type ObjectiveState, type PrefBackend } from '@pref/core';
import type { Scalar } from '@tensorflow/tfjs-core';
import { TfjsBackend } from './tfjs-backend';
import type { TfjsTensor } from './tfjs-tensor';

export interface TfjsLossOptions {
  /** A backend from `createTfjsBackend` (or `createPrefBackend` with `"backend": "tfjs"`). */
  readonly backend: PrefBackend;
  /** The previous call's `state`, for stateful objectives (e.g. LMPO); omitted or null on the first call. */
  readonly state?: ObjectiveState | null;
}

export interface TfjsLossResult {
  /** The loss as a tfjs scalar on tfjs's tape: return it from `optimizer.minimize(() => ...)` or `tf.grad`. */
  readonly loss: Scalar;
  /** Scalar metrics (TRL names). Inside `minimize`/`tf.grad` they are released with its scope unless you `tf.keep` them. */
  readonly metrics: Readonly<Record<string, Scalar>>;
  /**
   * The next state as host numbers (`null` for stateless objectives): await it and pass it as
   * `options.state` next time. A promise because tfjs cannot read every backend synchronously
   * (webgpu in Node); its tensors are kept until read, whatever scope `tfjsLoss` ran in.
   */
  readonly state: Promise<ObjectiveState | null>;
}

/**
 * The native-autodiff path: runs `objective` on tfjs ops and returns the loss as a tfjs scalar,
 * so gradients flow through tfjs's own tape to the tensors the batch was computed from (give
 * the model's log-probs or logits as `tf.Tensor`s; masks and labels stay host arrays, they are
 * checked on the host). Synchronous, so it works inside `optimizer.minimize(() => ...)`,
 * `tf.grad`, `tf.variableGrads` and `tf.tidy`. Every intermediate tensor is released before it
 * returns; the caller owns `loss` and `metrics` (or their enclosing `tf.tidy`).
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
    throw new Error(`tfjsLoss: options.backend must be a tfjs backend from createTfjsBackend, got ${backend?.name ?? String(backend)}`);
  }
  const tensors = forwardTensors(objective, batch, params, { backend, state: options.state ?? null });
  const tfTensor = (t: BackendTensor) => (t as TfjsTensor).tensor as Scalar;
  try {
    const loss = tfTensor(tensors.loss);
    const metrics: Record<string, Scalar> = {};
    for (const [name, value] of Object.entries(tensors.metrics)) metrics[name] = tfTensor(value);
    return { loss, metrics, state: readState(backend, tensors.state, new Set([loss, ...Object.values(metrics)]), tfTensor) };
  } finally {
    tensors.disposeIntermediates();
  }
}

/** Reads the state tensors after the caller's scope ends: kept (cloned where the caller owns them), read, released. */
function readState(
  backend: TfjsBackend,
  state: LossTensors['state'],
  owned: ReadonlySet<Scalar>,
  tfTensor: (t: BackendTensor) => Scalar,
): Promise<ObjectiveState | null> {
  if (!state) return Promise.resolve(null);
  const tf = backend.tf;
  const entries = Object.entries(state);
  const kept = entries.map(([, value]) => {
    if (typeof value === 'number') return null;
    const scalar = tfTensor(value);
    return tf.keep(owned.has(scalar) ? tf.clone(scalar) : scalar);
  });
  const read = Promise.all(kept.map((t) => t?.data()))
    .then((values) => Object.fromEntries(entries.map(([name, value], i) => [name, typeof value === 'number' ? value : Number(values[i]![0])])))
    .finally(() => kept.forEach((t) => t?.dispose()));
  read.catch(() => {}); // the caller may never await it; a failed read must not crash the process
  return read;
}
