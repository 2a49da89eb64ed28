// SimPO from the last hidden states and the LM head on WebGPU, never holding [B, T, V] logits.
//
//   npm i @pref/core @pref/simpo @pref/adapter-webgpu webgpu
//   node hidden-states-webgpu.mjs
//
// Hidden states and the head's weight live in GPUBuffers on the backend's device, as a WebGPU
// model runtime leaves them: the kernels read them in place. The script checks the result
// against the logits path on the same `hidden·weightᵀ` (logits built on the host).
import { valueAndGrad } from '@pref/core';
import { simpo } from '@pref/simpo';
import { createWebGpuBackend } from '@pref/adapter-webgpu';

const [B, T, H, V] = [2, 16, 64, 5000];
const backend = await createWebGpuBackend();
const { device } = backend;

/** Deterministic values in [-scale, scale). */
function values(length, seed, scale) {
  let s = seed;
  return Float32Array.from({ length }, () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32 - 0.5) * 2 * scale);
}

/** A STORAGE | COPY_SRC | COPY_DST buffer holding `data` (what a model's own buffers would be). */
function gpuBuffer(data) {
  const buffer = device.createBuffer({ size: data.byteLength, usage: 0x80 | 0x08 | 0x04 });
  device.queue.writeBuffer(buffer, 0, data);
  return buffer;
}

const hidden = { chosen: values(B * T * H, 1, 1), rejected: values(B * T * H, 2, 1) };
const weight = values(V * H, 3, 0.2);
// The first four tokens of each row are the prompt (ignored); the rest are the response.
const labels = (seed) =>
  Array.from({ length: B }, (_, b) => Array.from({ length: T }, (_, t) => (t < 4 ? -100 : (seed * 7919 + b * 131 + t * 17) % V)));
const chosenLabels = labels(1);
const rejectedLabels = labels(2);

const batch = {
  chosenHidden: { buffer: gpuBuffer(hidden.chosen), shape: [B, T, H] },
  rejectedHidden: { buffer: gpuBuffer(hidden.rejected), shape: [B, T, H] },
  chosenLabels,
  rejectedLabels,
  lmHead: { weight: { buffer: gpuBuffer(weight), shape: [V, H] }, softcap: 30 },
};
// Vocabulary rows per chunk: here 1024 (the backend picks one from its limits when absent).
const fromHidden = await valueAndGrad(simpo, batch, {}, { backend, lmHead: { chunkSize: 1024 } });

// The same loss from full logits softcap(hidden·weightᵀ), computed on the host.
function logits(h) {
  const out = new Float32Array(B * T * V);
  for (let r = 0; r < B * T; r++) {
    for (let v = 0; v < V; v++) {
      let dot = 0;
      for (let k = 0; k < H; k++) dot += h[r * H + k] * weight[v * H + k];
      out[r * V + v] = 30 * Math.tanh(dot / 30);
    }
  }
  return { data: out, shape: [B, T, V] };
}
const fromLogits = await valueAndGrad(
  simpo,
  { chosenLogits: logits(hidden.chosen), rejectedLogits: logits(hidden.rejected), chosenLabels, rejectedLabels },
  {},
  { backend },
);

const dWeight = fromHidden.grads['lmHead.weight'];
console.log(
  `hidden path: loss ${fromHidden.loss.toFixed(6)}, grads chosenHidden [${fromHidden.grads.chosenHidden.shape}], lmHead.weight [${dWeight.shape}]`,
);
console.log(
  `logits path: loss ${fromLogits.loss.toFixed(6)} (logits [${B}, ${T}, ${V}] = ${((2 * B * T * V * 4) / 2 ** 20).toFixed(1)} MiB for both sequences, plus their gradients)`,
);
console.log(`|difference| ${Math.abs(fromHidden.loss - fromLogits.loss).toExponential(2)}`);
backend.destroy();
