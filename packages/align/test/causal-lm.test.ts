import { describe, expect, it } from 'vitest';
import type * as TfCore from '@tensorflow/tfjs-core';
import { loadTfjs } from '../src/tfjs-module';
import { createCausalLm, differentiableOps } from '../src/causal-lm';
import { buildSequenceBatch } from '../src/sequence-batch';
import { tokenMeanNll } from '../src/token-nll';
import { VOCABULARY_SIZE } from '../src/arithmetic-vocabulary';
import { greedyDecode } from '../src/greedy-decode';
import { completionLogProbs, pairLogProbs } from '../src/completion-log-probs';

const rows = [
  { prompt: '12+7=', completion: '19' },
  { prompt: '3+4=', completion: '7' },
  { prompt: '40+9=', completion: '49' },
];

describe('the model on the wasm backend', () => {
  it('its own matmul and RMS-norm gradients equal the tfjs gradients of the plain ops', async () => {
    const tf = await loadTfjs('wasm');
    const random = (shape: number[], seed: number) => tf.randomNormal(shape, 0, 1, 'float32', seed);
    const x = random([6, 4], 1),
      w = random([4, 5], 2),
      a = random([2, 3, 4], 3),
      b = random([2, 4, 3], 4),
      c = random([2, 5, 3], 5),
      sel = tf.cast(tf.oneHot(tf.tensor1d([0, 2, 1, 3, 3, 0], 'int32'), 4), 'float32');
    const gradsOf = (explicit: boolean) => {
      const ops = differentiableOps(tf, explicit);
      const f = (xv: TfCore.Tensor, wv: TfCore.Tensor, av: TfCore.Tensor, bv: TfCore.Tensor, cv: TfCore.Tensor) => {
        const h = ops.rmsNorm(
          tf.add(ops.linear(xv as TfCore.Tensor2D, wv), ops.selectRows(sel as TfCore.Tensor2D, wv)) as TfCore.Tensor2D,
          tf.fill([5, 5], 1 / 5),
        );
        const s = ops.scores(ops.batchMatMul(av as TfCore.Tensor3D, bv as TfCore.Tensor3D), cv as TfCore.Tensor3D);
        return tf.add(tf.sum(tf.mul(h, h)), tf.sum(tf.sin(s))) as TfCore.Scalar;
      };
      return tf
        .grads(f as (...t: TfCore.Tensor[]) => TfCore.Scalar)([x, w, a, b, c])
        .map((g) => Array.from(g.dataSync()));
    };
    const plain = gradsOf(false);
    const own = gradsOf(true);
    expect(own).toHaveLength(5);
    own.forEach((g, i) => g.forEach((v, j) => expect(v).toBeCloseTo(plain[i][j], 4)));
  });

  it('trains the same on cpu and wasm (the same SFT loss curve, up to float rounding)', async () => {
    const losses: Record<string, number[]> = {};
    for (const backend of ['cpu', 'wasm']) {
      const tf = await loadTfjs(backend);
      const model = createCausalLm(
        tf,
        { vocabularySize: VOCABULARY_SIZE, contextLength: 9, width: 16, layers: 1, heads: 2, mlpWidth: 32 },
        3,
      );
      const optimizer = tf.train.adam(0.01);
      const batch = buildSequenceBatch(rows, 9);
      losses[backend] = [];
      for (let step = 0; step < 5; step++) {
        const loss = optimizer.minimize(
          () => tokenMeanNll(tf, model.logits(batch.tokens, batch.rows, batch.steps), batch.labels),
          true,
          model.variables as TfCore.Variable[],
        )!;
        losses[backend].push(loss.dataSync()[0]);
        loss.dispose();
      }
      optimizer.dispose();
      model.dispose();
    }
    losses.wasm.forEach((v, i) => expect(v).toBeCloseTo(losses.cpu[i], 4));
  });

  it('hidden · headWeightᵀ is the logits; the pair log-probs are the two completion log-probs', async () => {
    const tf = await loadTfjs('wasm');
    const model = createCausalLm(
      tf,
      { vocabularySize: VOCABULARY_SIZE, contextLength: 9, width: 16, layers: 1, heads: 1, mlpWidth: 32 },
      4,
    );
    const batch = buildSequenceBatch(rows, 9);
    const logits = model.logits(batch.tokens, 3, 9).dataSync();
    const viaHidden = tf.tidy(() =>
      tf.matMul(tf.reshape(model.hidden(batch.tokens, 3, 9), [27, 16]), model.headWeight(), false, true).dataSync(),
    );
    logits.forEach((v, i) => expect(viaHidden[i]).toBeCloseTo(v, 5));
    const pairs = rows.map((r) => ({ prompt: r.prompt, chosen: r.completion, rejected: '1' }));
    const both = await pairLogProbs(tf, model, pairs, 9);
    expect(Array.from(both.chosen)).toEqual(Array.from(await completionLogProbs(tf, model, rows, 9)));
    expect(Array.from(both.rejected)).toEqual(
      Array.from(
        await completionLogProbs(
          tf,
          model,
          pairs.map((p) => ({ prompt: p.prompt, completion: p.rejected })),
          9,
        ),
      ),
    );
    expect((await greedyDecode(tf, model, ['1+2='], 3))[0].length).toBeLessThanOrEqual(3);
    model.dispose();
  });
});
