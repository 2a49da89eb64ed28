import type { AnyObjective, ForwardResult, ObjectiveArgs, ObjectiveGradientNames, ObjectiveState, ObjectiveStateOf } from './objective';
import type { BackendTensor, FloatArray, HostArray, PrefBackend, Shape } from './pref-backend';
import type { SequenceTensors } from './objective-inputs';
import type { Collective } from './collective';
import { prepareBatch, type Batch, type PreparedBatch, type PreparedValues } from './prepare-batch';
import { resolveParams } from './objective-params';
import { TensorOps } from './tensor-ops';
import { Tensor } from './tensor';
import { backward } from './backward';
import { createForwardContext } from './forward-context';
import { LM_HEAD_BIAS_GRAD, LM_HEAD_INPUT, LM_HEAD_WEIGHT_GRAD } from './prepare-hidden';
import { PrefParamError } from './pref-error';
import { checkValueAndGradCall } from './check-call';
import { checkGradientBuffers, type GradientBuffers } from './gradient-buffers';

export interface ValueAndGradOptions<G extends string = string> {
  readonly backend: PrefBackend;
  /** State returned by the previous call (stateful objectives such as LMPO). */
  readonly state?: ObjectiveState | null;
  /** Data-parallel collective; omitted = one worker. */
  readonly collective?: Collective;
  /**
   * The hidden-state path (`<prefix>Hidden` with the batch's `lmHead`): `chunkSize` overrides
   * the vocabulary rows per chunk the backend picks from its limits.
   */
  readonly lmHead?: { readonly chunkSize?: number };
  /**
   * Caller-owned gradient buffers by input name (`chosenLogits`, `lmHead.weight`, ...): each
   * named input's gradient is written into its buffer (a `Float32Array` or `Float64Array` with the
   * input's element count), which is then that entry's `data` in `grads`. Passing the same
   * buffers every step keeps a training loop from allocating gradient-sized memory per call; with
   * a buffer from `backend.allocate` (the reference backend) the kernel writes there directly, with
   * any other buffer the gradient is copied in. Inputs not named get new arrays as usual.
   */
  readonly gradients?: Readonly<Partial<Record<G, FloatArray>>>;
}

export interface GradientArray {
  readonly data: FloatArray;
  readonly shape: Shape;
}

export interface ValueAndGradResult<S extends ObjectiveState = ObjectiveState, G extends string = string> {
  readonly loss: number;
  /**
   * Gradient of the loss for each differentiable input given (`chosenLogps` or `chosenLogits`,
   * ...); the keys are typed from the objective's inputs (only those given are present).
   */
  readonly grads: Readonly<Record<G, GradientArray>>;
  readonly metrics: Readonly<Record<string, number>>;
  /** Pass back as `options.state` on the next call. `null` for stateless objectives. */
  readonly state: S | null;
  readonly perExample: FloatArray | null;
}

/** An objective with its parameters resolved (defaults, preset, explicit values) and checked. */
export function resolveObjectiveParams(objective: AnyObjective, params: Readonly<Record<string, unknown>> = {}) {
  const resolved = resolveParams(objective.id, objective.params, objective.presets, params);
  objective.validateParams?.(resolved);
  return resolved;
}

interface BuiltForward {
  readonly result: ForwardResult;
  /** Caller-owned gradient buffers (`options.gradients`). */
  readonly buffers: GradientBuffers;
  /** Differentiable leaves, with the batch input each stands for. */
  readonly leaves: readonly Tensor[];
  /** Tensors the caller passed in (never disposed here). */
  readonly external: readonly BackendTensor[];
}

function materialize(
  ops: TensorOps,
  values: PreparedValues,
  shape: Shape,
  gradName: string | null,
  external: BackendTensor[],
  buffers: GradientBuffers = new Map(),
): Tensor {
  const target = gradName === null ? undefined : buffers.get(gradName);
  if (values.where === 'backend') {
    external.push(values.tensor);
    if (target) ops.backend.writeGradientInto?.(values.tensor, target);
    return ops.external(values.tensor, gradName);
  }
  const value = ops.backend.fromHost(values.host.data, shape);
  if (target) ops.backend.writeGradientInto?.(value, target);
  return ops.wrap(value, gradName);
}

/** Withdraws the `writeGradientInto` hints of a call (a caller's tensor must not keep one into the next call). */
function clearGradientHints(ops: TensorOps, leaves: readonly Tensor[], buffers: GradientBuffers): void {
  if (buffers.size === 0 || !ops.backend.writeGradientInto) return;
  for (const leaf of leaves) if (buffers.has(leaf.inputName!)) ops.backend.writeGradientInto(leaf.value, null);
}

function buildForward(
  objective: AnyObjective,
  prepared: PreparedBatch,
  params: Record<string, unknown>,
  state: ObjectiveState | null,
  ops: TensorOps,
  worldSize: number,
  allReduceSum: (x: Tensor) => Tensor,
  buffers: GradientBuffers = new Map(),
): BuiltForward {
  const leaves: Tensor[] = [];
  const external: BackendTensor[] = [];
  try {
    const result = runForward(objective, prepared, params, state, ops, worldSize, allReduceSum, leaves, external, buffers);
    return { result, leaves, external, buffers };
  } catch (error) {
    // A forward (or an input) that throws leaves nothing alive but the caller's own tensors.
    clearGradientHints(ops, leaves, buffers);
    ops.disposeAll(external);
    throw error;
  }
}

function runForward(
  objective: AnyObjective,
  prepared: PreparedBatch,
  params: Record<string, unknown>,
  state: ObjectiveState | null,
  ops: TensorOps,
  worldSize: number,
  allReduceSum: (x: Tensor) => Tensor,
  leaves: Tensor[],
  external: BackendTensor[],
  buffers: GradientBuffers,
): ForwardResult {
  const inputs: Record<string, SequenceTensors | Tensor | undefined> = {};
  const head = headTensors(ops, prepared, leaves, external, buffers);
  for (const [key, entry] of Object.entries(prepared)) {
    if (entry?.kind === 'lmHead') continue;
    if (!entry) {
      inputs[key] = undefined;
      continue;
    }
    if (entry.kind === 'sequence') {
      const tokenShape = [entry.rows, entry.steps];
      const valueShape = entry.values.where === 'backend' ? entry.values.tensor.shape : entry.values.host.shape;
      const leaf = materialize(ops, entry.values, valueShape, entry.gradName, external, buffers);
      leaves.push(leaf);
      const mask = ops.constant(entry.mask, tokenShape);
      if (entry.source === 'logps') {
        inputs[key] = { logps: leaf, mask, rows: entry.rows, steps: entry.steps };
      } else if (entry.source === 'hidden') {
        const labels = ops.constantInt(entry.labels!, tokenShape);
        const logps = ops.linearTokenLogProbs(leaf, head!.weight, head!.bias, labels, head!.options);
        inputs[key] = { logps, mask, rows: entry.rows, steps: entry.steps, labels, hidden: leaf, head: head! };
      } else {
        const labels = ops.constantInt(entry.labels!, tokenShape);
        const logps = ops.tokenLogProbs(leaf, labels);
        inputs[key] = { logps, mask, rows: entry.rows, steps: entry.steps, logits: leaf, labels };
      }
    } else {
      const shape = entry.values.where === 'backend' ? entry.values.tensor.shape : entry.values.host.shape;
      inputs[key] = materialize(ops, entry.values, shape, null, external);
    }
  }
  const ctx = createForwardContext(ops, worldSize, allReduceSum);
  const result = objective.forward(ctx, inputs, params, state);
  if (result.loss.shape.length !== 0) {
    throw new Error(`${objective.id}: forward returned a loss of shape [${result.loss.shape.join(', ')}], expected a scalar`);
  }
  return result;
}

/** The hidden-state path's head as tensors: differentiable leaves `lmHead.weight` (and `lmHead.bias`). */
function headTensors(ops: TensorOps, prepared: PreparedBatch, leaves: Tensor[], external: BackendTensor[], buffers: GradientBuffers) {
  const entry = prepared[LM_HEAD_INPUT];
  if (entry?.kind !== 'lmHead') return null;
  const shapeOf = (values: PreparedValues) => (values.where === 'backend' ? values.tensor.shape : values.host.shape);
  const weight = materialize(ops, entry.weight, shapeOf(entry.weight), LM_HEAD_WEIGHT_GRAD, external, buffers);
  leaves.push(weight);
  let bias: Tensor | null = null;
  if (entry.bias) {
    bias = materialize(ops, entry.bias, shapeOf(entry.bias), LM_HEAD_BIAS_GRAD, external, buffers);
    leaves.push(bias);
  }
  const options = {
    logitScale: entry.logitScale,
    softcap: entry.softcap,
    ...(entry.chunkSize !== undefined ? { chunkSize: entry.chunkSize } : {}),
  };
  return { weight, bias, options };
}

/** `options.lmHead` (the chunk size) onto the prepared head, checked. */
function withLmHeadOptions(prepared: PreparedBatch, lmHead: ValueAndGradOptions['lmHead']): PreparedBatch {
  const entry = prepared[LM_HEAD_INPUT];
  if (lmHead?.chunkSize === undefined) return prepared;
  const chunkSize = lmHead.chunkSize;
  if (!Number.isInteger(chunkSize) || chunkSize < 1) {
    throw new PrefParamError(
      'lmHead.chunkSize',
      `lmHead.chunkSize must be a positive integer (vocabulary rows per chunk), got ${String(chunkSize)}`,
    );
  }
  if (entry?.kind !== 'lmHead') return prepared;
  return { ...prepared, [LM_HEAD_INPUT]: { ...entry, chunkSize } };
}

/**
 * Loss, gradients with respect to the differentiable inputs, metrics and the next state, for
 * one batch on one backend. Inputs are checked on the host first (errors name the input);
 * gradients come from core's reverse-mode autodiff, so every backend gives them; all values
 * are read back in one `read` (one graph run on lazy backends) and every intermediate tensor
 * is released.
 */
export async function valueAndGrad<O extends AnyObjective>(
  objective: O,
  batch: Batch,
  params: ObjectiveArgs<O>,
  options: ValueAndGradOptions<ObjectiveGradientNames<O>>,
): Promise<ValueAndGradResult<ObjectiveStateOf<O>, ObjectiveGradientNames<O>>> {
  type S = ObjectiveStateOf<O>;
  type Result = ValueAndGradResult<S, ObjectiveGradientNames<O>>;
  checkValueAndGradCall(objective, batch, params, options);
  const resolved = resolveObjectiveParams(objective, params as Readonly<Record<string, unknown>>);
  const prepared = withLmHeadOptions(prepareBatch(objective.inputs, batch, options.backend, resolved), options.lmHead);
  const buffers = checkGradientBuffers(objective.id, prepared, options.gradients);
  const state = options.state ?? null;
  const collective = options.collective;
  if (!collective || collective.worldSize === 1) {
    const ops = new TensorOps(options.backend);
    const built = buildForward(objective, prepared, resolved, state, ops, 1, (x) => x, buffers);
    return (await finish<S>(ops, built)) as Result;
  }
  return (await distributedValueAndGrad<S>(objective, prepared, resolved, state, options.backend, collective, buffers)) as Result;
}

/**
 * Several workers: each pass builds the forward graph with the other workers' contributions
 * to every `allReduceSum` from the previous pass as constants, then exchanges its own. Once no
 * worker's contributions changed, the graph of that pass is exact and is differentiated.
 */
async function distributedValueAndGrad<S extends ObjectiveState>(
  objective: AnyObjective,
  prepared: PreparedBatch,
  params: Record<string, unknown>,
  state: ObjectiveState | null,
  backend: PrefBackend,
  collective: Collective,
  buffers: GradientBuffers,
): Promise<ValueAndGradResult<S>> {
  let others: Float64Array[] | null = null;
  let previous: Float64Array | null = null;
  for (let pass = 0; ; pass++) {
    const ops = new TensorOps(backend);
    const locals: Tensor[] = [];
    const knownOthers = others;
    const allReduceSum = (x: Tensor): Tensor => {
      const index = locals.length;
      locals.push(x);
      const other = knownOthers?.[index];
      return other ? ops.add(x, ops.constant(other, x.shape)) : x;
    };
    const built = buildForward(objective, prepared, params, state, ops, collective.worldSize, allReduceSum, buffers);
    let finishing = false;
    try {
      const localValues = (await backend.read(locals.map((t) => t.value))).map((a) => Float64Array.from(a));
      const flat = concatArrays(localValues);
      const changed = previous === null || flat.length !== previous.length || flat.some((v, i) => !Object.is(v, previous![i]));
      const summed = await collective.allReduceSum(concatArrays([Float64Array.of(changed ? 1 : 0), flat]));
      if (summed[0] === 0) {
        finishing = true; // `finish` releases the pass's tensors itself, on every path
        return await finish<S>(ops, built);
      }
      if (pass > locals.length + 1) {
        throw new Error(`${objective.id}: all-reduced statistics did not settle after ${pass + 1} passes`);
      }
      let offset = 1;
      others = localValues.map((local) => {
        const other = new Float64Array(local.length);
        for (let i = 0; i < local.length; i++) other[i] = summed[offset + i] - local[i];
        offset += local.length;
        return other;
      });
      previous = flat;
    } finally {
      if (!finishing) {
        clearGradientHints(ops, built.leaves, buffers);
        ops.disposeAll(built.external);
      }
    }
  }
}

async function finish<S extends ObjectiveState>(ops: TensorOps, built: BuiltForward): Promise<ValueAndGradResult<S>> {
  const { result, leaves, external, buffers } = built;
  try {
    const grads = backward(ops, result.loss, leaves);
    const gradTensors = leaves.map((leaf, i) => grads[i] ?? ops.zerosLike(leaf));
    const metricNames = Object.keys(result.metrics);
    const stateEntries = Object.entries(result.state ?? {});
    const stateTensors = stateEntries.filter(([, v]) => typeof v !== 'number') as [string, Tensor][];
    const toRead = [
      result.loss,
      ...gradTensors,
      ...metricNames.map((name) => result.metrics[name]),
      ...stateTensors.map(([, t]) => t),
      ...(result.perExample ? [result.perExample] : []),
    ];
    const values = await ops.backend.read(toRead.map((t) => t.value));
    let k = 0;
    const next = () => values[k++];
    const loss = scalarOf(next());
    const gradOut: Record<string, GradientArray> = {};
    leaves.forEach((leaf) => {
      const values = next();
      const target = buffers.get(leaf.inputName!);
      if (target && values !== target) target.set(values);
      gradOut[leaf.inputName!] = { data: target ?? asFloat(values), shape: leaf.shape };
    });
    const metrics: Record<string, number> = {};
    for (const name of metricNames) metrics[name] = scalarOf(next());
    let state: Record<string, number> | null = null;
    if (result.state) {
      state = {};
      for (const [name, v] of stateEntries) state[name] = typeof v === 'number' ? v : 0;
      for (const [name] of stateTensors) state[name] = scalarOf(next());
    }
    const perExample = result.perExample ? asFloat(next()) : null;
    return { loss, grads: gradOut, metrics, state: state as S | null, perExample };
  } finally {
    clearGradientHints(ops, leaves, buffers);
    ops.disposeAll(external);
  }
}

function scalarOf(values: HostArray): number {
  return Number(values[0]);
}

function asFloat(values: HostArray): FloatArray {
  return values instanceof Int32Array ? Float64Array.from(values) : values;
}

function concatArrays(arrays: readonly Float64Array[]): Float64Array {
  const out = new Float64Array(arrays.reduce((n, a) => n + a.length, 0));
  let offset = 0;
  for (const a of arrays) {
    out.set(a, offset);
    offset += a.length;
  }
  return out;
}

/**
 * Core's forward of one batch, recorded on core's tape, with its backward on demand: for a
 * backend with its own autodiff, which wraps the whole objective as one custom-gradient op of
 * its own (tfjs `customGrad`) whose gradient is {@link TapedForward.gradients}. One worker only.
 */
export interface TapedForward {
  readonly loss: BackendTensor;
  readonly metrics: Readonly<Record<string, BackendTensor>>;
  readonly state: Readonly<Record<string, BackendTensor | number>> | null;
  /** The differentiable inputs given (`chosenLogits`, ...) and the backend tensors the forward read them from. */
  readonly inputs: readonly { readonly name: string; readonly value: BackendTensor }[];
  /**
   * Runs core's backward: the gradient of `seed · loss` (`seed` a scalar tensor, default 1) for
   * each of `inputs`, zeros where the loss does not depend on one. Call it at most once.
   */
  gradients(seed?: BackendTensor): BackendTensor[];
  /** Releases every tensor created here except `keep` (the caller's own tensors are never released). */
  dispose(keep?: readonly BackendTensor[]): void;
}

/** Runs `objective`'s forward on core's tape (inputs checked on the host first); see {@link TapedForward}. */
export function tapedForward(
  objective: AnyObjective,
  batch: Batch,
  params: Readonly<Record<string, unknown>>,
  options: Pick<ValueAndGradOptions, 'backend' | 'state' | 'lmHead'>,
): TapedForward {
  const resolved = resolveObjectiveParams(objective, params);
  const prepared = withLmHeadOptions(prepareBatch(objective.inputs, batch, options.backend, resolved), options.lmHead);
  const ops = new TensorOps(options.backend);
  const { result, leaves, external } = buildForward(objective, prepared, resolved, options.state ?? null, ops, 1, (x) => x);
  const metrics = Object.fromEntries(Object.entries(result.metrics).map(([k, t]) => [k, t.value]));
  const state = result.state
    ? Object.fromEntries(Object.entries(result.state).map(([k, v]) => [k, typeof v === 'number' ? v : v.value]))
    : null;
  return {
    loss: result.loss.value,
    metrics,
    state,
    inputs: leaves.map((leaf) => ({ name: leaf.inputName!, value: leaf.value })),
    gradients: (seed) => {
      const grads = backward(ops, result.loss, leaves, seed ? new Tensor(seed) : undefined);
      return leaves.map((leaf, i) => (grads[i] ?? ops.zerosLike(leaf)).value);
    },
    dispose: (keep = []) => ops.disposeAll([...keep, ...external]),
  };
}
