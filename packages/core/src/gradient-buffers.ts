import type { FloatArray, Shape } from './pref-backend';
import type { PreparedBatch, PreparedValues } from './prepare-batch';
import { LM_HEAD_BIAS_GRAD, LM_HEAD_INPUT, LM_HEAD_WEIGHT_GRAD } from './prepare-hidden';
import { PrefParamError } from './pref-error';
import { sizeOf } from './broadcast-shape';

/** Caller-owned gradient buffers by input name, checked against the batch. */
export type GradientBuffers = ReadonlyMap<string, FloatArray>;

const NO_BUFFERS: GradientBuffers = new Map();

const shapeOf = (values: PreparedValues): Shape => (values.where === 'backend' ? values.tensor.shape : values.host.shape);

/** The differentiable inputs of a prepared batch with their shapes (the keys `grads` will have). */
function differentiableInputs(prepared: PreparedBatch): Map<string, Shape> {
  const inputs = new Map<string, Shape>();
  for (const entry of Object.values(prepared)) {
    if (entry?.kind === 'sequence') inputs.set(entry.gradName, shapeOf(entry.values));
    else if (entry?.kind === 'lmHead') {
      inputs.set(LM_HEAD_WEIGHT_GRAD, shapeOf(entry.weight));
      if (entry.bias) inputs.set(LM_HEAD_BIAS_GRAD, shapeOf(entry.bias));
    }
  }
  return inputs;
}

/**
 * `valueAndGrad`'s `gradients` option, checked before any tensor exists: each key names a
 * differentiable input of this batch, each value is a `Float32Array` or `Float64Array` with that
 * input's element count, and no buffer is given twice.
 */
export function checkGradientBuffers(objectiveId: string, prepared: PreparedBatch, gradients: unknown): GradientBuffers {
  if (gradients === undefined) return NO_BUFFERS;
  if (typeof gradients !== 'object' || gradients === null || Array.isArray(gradients)) {
    throw new PrefParamError(
      'gradients',
      `${objectiveId}: options.gradients must be an object of buffers by input name, like { chosenLogits: new Float32Array(n) }, got ${gradients === null ? 'null' : Array.isArray(gradients) ? 'a list' : typeof gradients}`,
    );
  }
  const inputs = differentiableInputs(prepared);
  const buffers = new Map<string, FloatArray>();
  const seen = new Map<FloatArray, string>();
  for (const [name, buffer] of Object.entries(gradients as Record<string, unknown>)) {
    if (buffer === undefined) continue;
    const param = `gradients.${name}`;
    const shape = inputs.get(name);
    if (!shape) {
      const known = [...inputs.keys()];
      const head = name === LM_HEAD_INPUT ? ` (the head's gradients are "${LM_HEAD_WEIGHT_GRAD}" and "${LM_HEAD_BIAS_GRAD}")` : '';
      throw new PrefParamError(
        param,
        `${objectiveId}: options.gradients names "${name}", which is not a differentiable input of this batch${head}; the batch's are ${known.map((k) => `"${k}"`).join(', ') || 'none'}`,
      );
    }
    if (!(buffer instanceof Float32Array || buffer instanceof Float64Array)) {
      const got = buffer === null ? 'null' : ArrayBuffer.isView(buffer) ? buffer.constructor.name : typeof buffer;
      throw new PrefParamError(param, `${objectiveId}: options.${param} must be a Float32Array or Float64Array, got ${got}`);
    }
    const length = sizeOf(shape);
    if (buffer.length !== length) {
      throw new PrefParamError(
        param,
        `${objectiveId}: options.${param} has ${buffer.length} elements; ${name} has shape [${shape.join(', ')}], so it needs ${length}`,
      );
    }
    const other = seen.get(buffer);
    if (other) throw new PrefParamError(param, `${objectiveId}: options.${param} is the same array as options.gradients.${other}`);
    seen.set(buffer, name);
    buffers.set(name, buffer);
  }
  return buffers;
}
