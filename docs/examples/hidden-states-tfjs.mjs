// The hidden-state path on tfjs: a tiny language model (embedding → tanh layer → LM head) trained
// with SimPO from its last hidden states and its head's weight, so the [B, T, V] logits are never
// formed; tfjs's optimizer updates the head and the body through one custom-gradient op.
//
//   node docs/examples/hidden-states-tfjs.mjs      (after `npm run build`)
//
// Needs @pref/adapter-tfjs, @pref/simpo and @tensorflow/tfjs (tfjs-core, tfjs-backend-cpu and the
// gradients of tfjs's own ops, which the model's gather, matMul and tanh need; pref's loss needs none).
import { pathToFileURL } from 'node:url';
import '@tensorflow/tfjs';
import { createPrefBackend, tfjsLoss } from '@pref/adapter-tfjs';
import { simpo } from '@pref/simpo';

const VOCAB = 50;
const HIDDEN = 16;

/**
 * Trains the model for `steps` Adam steps on two preference pairs and returns the loss of every
 * step. `log` receives a line every 10 steps. Releases every tensor it made.
 */
export async function trainThroughHiddenStates({ steps = 60, log = () => {} } = {}) {
  const backend = await createPrefBackend({ backend: 'tfjs', tfjsBackend: 'cpu' });
  const tf = backend.tf;
  const init = (shape, seed) => tf.tidy(() => tf.variable(tf.randomNormal(shape, 0, 0.3, 'float32', seed)));
  const embedding = init([VOCAB, HIDDEN], 1); // body
  const layer = init([HIDDEN, HIDDEN], 2); // body
  const head = init([VOCAB, HIDDEN], 3); // LM head weight [V, H]

  // Two prompts + completions per side; labels are the next tokens, -100 where there is none.
  const chosenTokens = [
    [3, 14, 15, 9, 2],
    [7, 1, 8, 2, 0],
  ];
  const rejectedTokens = [
    [3, 14, 41, 41, 41],
    [7, 1, 30, 30, 0],
  ];
  const labelsOf = (rows) => rows.map((row) => row.slice(1).concat(-100));
  const chosenLabels = labelsOf(chosenTokens);
  const rejectedLabels = labelsOf(rejectedTokens);
  chosenLabels[1][3] = -100; // padding
  rejectedLabels[1][3] = -100;

  const hiddenStates = (tokens) => {
    const ids = tf.tensor2d(tokens, undefined, 'int32');
    const [rows, steps] = ids.shape;
    const embedded = tf.reshape(tf.gather(embedding, tf.reshape(ids, [rows * steps])), [rows * steps, HIDDEN]);
    return tf.reshape(tf.tanh(tf.matMul(embedded, layer)), [rows, steps, HIDDEN]); // [B, T, H]
  };
  const loss = () =>
    tfjsLoss(
      simpo,
      {
        chosenHidden: hiddenStates(chosenTokens),
        chosenLabels,
        rejectedHidden: hiddenStates(rejectedTokens),
        rejectedLabels,
        lmHead: { weight: head },
      },
      { beta: 2, gamma: 0.5 },
      { backend, lmHead: { chunkSize: 16 } }, // vocabulary chunks of 16 rows: 50 = 16 + 16 + 16 + 2
    ).loss;

  const optimizer = tf.train.adam(0.05);
  const losses = [];
  for (let step = 0; step < steps; step++) {
    const value = optimizer.minimize(loss, true, [embedding, layer, head]);
    losses.push((await value.data())[0]);
    value.dispose();
    if (step % 10 === 0 || step === steps - 1) log(`step ${String(step).padStart(3)}  loss ${losses[step].toFixed(4)}`);
  }
  optimizer.dispose();
  tf.dispose([embedding, layer, head]);
  return losses;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const losses = await trainThroughHiddenStates({ log: (line) => console.log(line) });
  console.log(`loss ${losses[0].toFixed(4)} → ${losses.at(-1).toFixed(4)}`);
}
