import { parseArgs } from 'node:util';
import { DEFAULT_OBJECTIVES } from './objective-selection';
import { DEFAULT_TFJS_BACKEND, MODEL_SIZES, runAlign, type ModelSize } from './run-align';
import { ABLATIONS } from './ablations';
import { DEFAULT_LOSS_INPUT, LOSS_INPUT_KINDS, type LossInputKind } from './loss-input';

export const ALIGN_HELP = `pref align [options]

Trains a small transformer LM (tfjs) on a generated addition task: SFT on 34% of the
training prompts, then each objective from the SFT checkpoint on the other 66% (chosen =
correct sum, rejected = near miss). Writes report.json, steps.csv, evaluations.csv,
summary.md and SVG charts; with several seeds also aggregate.csv and paired.csv.

  --objectives <list>   objectives with optional params or preset (default ${DEFAULT_OBJECTIVES}),
                        e.g. slime:preset=paper,dpo:beta=0.1,labelSmoothing=0.1,lmpo
  --ablations <list>    add the papers' ablation presets as runs: ${Object.keys(ABLATIONS).join(', ')} or all
                        (${Object.values(ABLATIONS)
                          .map((a) => a.source)
                          .join('; ')})
  --steps <n>           preference steps per objective (default 100)
  --sft-steps <n>       SFT steps (default 300)
  --seed <n>            seed of data, weights and batch order (default 1); same seed, same numbers
  --seeds <n | list>    run the protocol per seed: 5 = seeds 1..5, or 1,2,3; adds means with 95%
                        Student t intervals over seeds and paired comparisons with SimPO
  --loss-input <kind>   what the preference losses read: hidden (the last hidden states and the LM
                        head; the loss never holds [B, T, V] logits) or logits (default ${DEFAULT_LOSS_INPUT})
  --backend <name>      tfjs backend: ${DEFAULT_TFJS_BACKEND} (default), cpu, webgpu, tensorflow (tfjs-node)
  --out <folder>        report folder (default report/align)
  --model <size>        ${Object.keys(MODEL_SIZES).join(' | ')} (default small)
  --batch-size <n>      pairs per preference step (default 32)
  --lr <x>              preference learning rate, Adam (default 5e-4)
  -h, --help            this help`;

/** The `pref align` command: parses `argv`, runs, prints where the report is; returns the exit code. */
export async function alignCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      objectives: { type: 'string' },
      steps: { type: 'string' },
      'sft-steps': { type: 'string' },
      seed: { type: 'string' },
      seeds: { type: 'string' },
      ablations: { type: 'string' },
      backend: { type: 'string' },
      'loss-input': { type: 'string' },
      out: { type: 'string' },
      model: { type: 'string' },
      'batch-size': { type: 'string' },
      lr: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${ALIGN_HELP}\n`);
    return 0;
  }
  const integer = (name: string, text: string | undefined) => {
    if (text === undefined) return undefined;
    const value = Number(text);
    if (!Number.isInteger(value)) throw usageError(`--${name} must be an integer, got ${JSON.stringify(text)}`);
    return value;
  };
  const lr = values.lr === undefined ? undefined : Number(values.lr);
  if (lr !== undefined && !(lr > 0)) throw usageError(`--lr must be a positive number, got ${JSON.stringify(values.lr)}`);
  if (values.model !== undefined && !(values.model in MODEL_SIZES)) {
    throw usageError(`--model must be one of ${Object.keys(MODEL_SIZES).join(', ')}, got ${JSON.stringify(values.model)}`);
  }
  const lossInput = values['loss-input'];
  if (lossInput !== undefined && !(LOSS_INPUT_KINDS as readonly string[]).includes(lossInput)) {
    throw usageError(`--loss-input must be one of ${LOSS_INPUT_KINDS.join(', ')}, got ${JSON.stringify(lossInput)}`);
  }
  const report = await runAlign({
    lossInput: lossInput as LossInputKind | undefined,
    objectives: values.objectives,
    ablations: values.ablations,
    seeds: values.seeds,
    steps: integer('steps', values.steps),
    sftSteps: integer('sft-steps', values['sft-steps']),
    seed: integer('seed', values.seed),
    backend: values.backend,
    out: values.out ?? 'report/align',
    model: values.model as ModelSize | undefined,
    batchSize: integer('batch-size', values['batch-size']),
    learningRate: lr,
  });
  process.stdout.write(`\nReport: ${report.settings.out} (${report.files.join(', ')}) in ${report.totalSeconds.toFixed(1)} s\n\n`);
  const { readFile } = await import('node:fs/promises');
  const { join } = await import('node:path');
  process.stdout.write(await readFile(join(report.settings.out!, 'summary.md'), 'utf8'));
  return 0;
}

/** An error the CLI reports as a usage error (exit code 2), like node's parseArgs errors. */
function usageError(message: string): Error {
  return Object.assign(new TypeError(message), { code: 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' });
}
