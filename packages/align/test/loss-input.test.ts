import { describe, expect, it } from 'vitest';
import { runAlign, type AlignOptions } from '../src';

const tiny: AlignOptions = {
  objectives: 'slime,simpo,dpo,lmpo',
  model: 'tiny',
  steps: 4,
  sftSteps: 6,
  batchSize: 8,
  sftBatchSize: 16,
  maxOperand: 12,
  heldOutSize: 24,
  evaluations: 2,
  seed: 3,
  progress: null,
  out: null,
};

describe('--loss-input', () => {
  it('hidden (hidden states + LM head, no logits in the loss) trains like logits: the same losses, log-probs and evaluations up to float rounding', async () => {
    const viaLogits = await runAlign({ ...tiny, lossInput: 'logits' });
    const viaHidden = await runAlign({ ...tiny, lossInput: 'hidden' });
    expect(viaHidden.settings.lossInput).toBe('hidden');
    // The default is the hidden-state path.
    expect((await import('../src')).resolveAlignSettings({}).lossInput).toBe('hidden');
    for (const [k, run] of viaLogits.objectives.entries()) {
      const other = viaHidden.objectives[k];
      expect(other.label).toBe(run.label);
      // Step 4 comes after three updates: it differs if any gradient (the LM head's included) were missing.
      run.steps.forEach((s, i) => {
        const h = other.steps[i];
        for (const key of ['loss', 'chosenLogp', 'rejectedLogp', 'margin'] as const) {
          expect(Math.abs(h[key] - s[key]), `${run.label} step ${s.step} ${key}`).toBeLessThanOrEqual(2e-4 * Math.max(1, Math.abs(s[key])));
        }
      });
      const last = run.evaluations.at(-1)!;
      const lastHidden = other.evaluations.at(-1)!;
      expect(Math.abs(lastHidden.chosenLogp - last.chosenLogp)).toBeLessThanOrEqual(1e-3);
    }
  }, 120_000);
});

describe('the hidden loss input, one step', () => {
  it('gives every model weight the gradient the logits path gives it, the LM head included', async () => {
    const { loadTfjs } = await import('../src/tfjs-module');
    const { createCausalLm } = await import('../src/causal-lm');
    const { buildSequenceBatch } = await import('../src/sequence-batch');
    const { LOSS_INPUTS } = await import('../src/loss-input');
    const { VOCABULARY_SIZE } = await import('../src/arithmetic-vocabulary');
    const { createTfjsBackend, tfjsLoss } = await import('@pref/adapter-tfjs');
    const { slime } = await import('@pref/slime');
    const tf = await loadTfjs('wasm');
    const backend = createTfjsBackend({ tf });
    const model = createCausalLm(
      tf,
      { vocabularySize: VOCABULARY_SIZE, contextLength: 9, width: 16, layers: 1, heads: 2, mlpWidth: 32 },
      7,
    );
    const rows = [
      ['12+7=', '19', '18'],
      ['3+4=', '7', '8'],
      ['40+9=', '49', '39'],
    ];
    const batch = buildSequenceBatch(
      [...rows.map(([p, c]) => ({ prompt: p, completion: c })), ...rows.map(([p, , r]) => ({ prompt: p, completion: r }))],
      9,
    );
    const gradsOf = (kind: 'logits' | 'hidden') => {
      const { grads } = tf.variableGrads(
        () => tfjsLoss(slime, LOSS_INPUTS[kind](tf, model, batch, 3).batch, {}, { backend }).loss,
        model.variables as never,
      );
      return model.variables.map((v) => Array.from(grads[v.name].dataSync()));
    };
    const viaLogits = gradsOf('logits');
    const viaHidden = gradsOf('hidden');
    const head = model.variables.length - 1;
    expect(viaLogits[head].some((g) => g !== 0)).toBe(true);
    viaLogits.forEach((g, i) => {
      const scale = Math.max(...g.map(Math.abs), 1e-6);
      g.forEach((v, j) =>
        expect(Math.abs(viaHidden[i][j] - v), `variable ${model.variables[i].name}[${j}]`).toBeLessThanOrEqual(1e-4 * scale),
      );
    });
    model.dispose();
  });
});
