// Scaffolds a workspace package with the project's conventions.
//   node scripts/new-package.mjs objective <id> "<Title>" "<one-line summary>"
//     packages/losses/<id> (@pref/<id>): an objective skeleton, its tests, docs/objectives/<id>.md,
//     a changeset, and the package's entry in core's one list (OBJECTIVE_PACKAGES).
//   node scripts/new-package.mjs package <folder> <@pref/name> "<description>" [@pref/dep ...]
//     any other package; `@pref/core` becomes a peer dependency, other deps plain ones.
// `--root <dir>` writes into another checkout (used by the scaffolder's own test).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { repoRoot as defaultRoot } from './workspace-packages.mjs';

const args = process.argv.slice(2);
const rootFlag = args.indexOf('--root');
const repoRoot = rootFlag >= 0 ? args.splice(rootFlag, 2)[1] : defaultRoot;
const [kind, ...rest] = args;

function usage(message) {
  console.error(`${message ? `${message}\n` : ''}usage:
  node scripts/new-package.mjs objective <id> "<Title>" "<one-line summary>"
  node scripts/new-package.mjs package <folder> <@pref/name> "<description>" [@pref/dep ...]`);
  process.exit(2);
}

function write(path, text) {
  const file = join(repoRoot, path);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
}

function manifestOf(name, description, deps, up) {
  const peers = deps.filter((d) => d === '@pref/core');
  const plain = deps.filter((d) => d !== '@pref/core');
  return {
    name,
    version: '0.1.0',
    description,
    license: 'Apache-2.0',
    type: 'module',
    sideEffects: false,
    main: './dist/index.js',
    types: './dist/index.d.ts',
    exports: { '.': { types: './dist/index.d.ts', default: './dist/index.js' }, './package.json': './package.json' },
    files: ['dist', 'README.md'],
    engines: { node: '>=20.19' },
    scripts: {
      build: 'tsup',
      typecheck: 'tsc -p tsconfig.json --noEmit',
      lint: 'tsc -p tsconfig.json --noEmit --noUnusedLocals --noUnusedParameters',
      // The root vitest config gives every workspace package a project (no vitest.config.ts here).
      test: `vitest run --root ${up} --project ${name}`,
    },
    dependencies: Object.fromEntries(plain.map((d) => [d, '^0.1.0'])),
    tsup: { entry: ['src/index.ts'], format: ['esm'], dts: true, clean: true, sourcemap: true, target: 'node20' },
    ...(peers.length ? { peerDependencies: { '@pref/core': '^0.1.0' }, devDependencies: { '@pref/core': '*' } } : {}),
  };
}

function createPackage(folder, name, description, deps) {
  if (existsSync(join(repoRoot, folder, 'package.json'))) usage(`${folder} exists`);
  const up = relative(join(repoRoot, folder), repoRoot);
  write(`${folder}/package.json`, JSON.stringify(manifestOf(name, description, deps, up), null, 2) + '\n');
  write(
    `${folder}/tsconfig.json`,
    JSON.stringify(
      { extends: `${up}/tsconfig.base.json`, compilerOptions: { baseUrl: up, noEmit: true }, include: ['src', 'test'] },
      null,
      2,
    ) + '\n',
  );
}

function registerObjectivePackage(name) {
  const path = join(repoRoot, 'packages/core/src/objective-packages.ts');
  const source = readFileSync(path, 'utf8');
  const start = source.indexOf('OBJECTIVE_PACKAGES = [');
  const end = source.indexOf('] as const', start);
  if (start < 0 || end < 0) usage(`cannot find OBJECTIVE_PACKAGES in ${path}`);
  if (source.slice(start, end).includes(`'${name}'`)) return;
  writeFileSync(path, `${source.slice(0, end)}  '${name}',\n${source.slice(end)}`);
}

function createObjective(id, title, summary) {
  if (!/^[a-z][a-z0-9-]*$/.test(id)) usage(`objective id must be kebab-case, got ${JSON.stringify(id)}`);
  const name = `@pref/${id}`;
  const folder = `packages/losses/${id}`;
  const camel = id.replace(/-([a-z0-9])/g, (_, c) => c.toUpperCase());
  createPackage(folder, name, summary, ['@pref/core']);
  write(
    `${folder}/src/${id}.ts`,
    `import { defineObjective, PAIRWISE_INPUTS, PAIR_METRIC_NAMES, pairMetrics, sequenceMean } from '@pref/core';

/**
 * **${title}** — <authors, title, venue, year, equation number>.
 *
 * ${summary}
 * Per pair \`ℓ = −logσ(β(A_w − A_l))\` with mean token log-probs \`A\` (replace with the paper's
 * equation); loss \`= mean_b ℓ\`.
 */
export const ${camel} = defineObjective({
  id: '${id}',
  title: '${title}',
  summary: '${summary.replace(/'/g, "\\'")}',
  reference: '<paper reference>',
  inputs: PAIRWISE_INPUTS,
  params: {
    beta: { kind: 'number', default: 1, min: 0, minExclusive: true, symbol: 'β', description: 'Scale of the margin.' },
  },
  presets: {},
  metrics: [...PAIR_METRIC_NAMES],
  stateful: false,
  forward(ctx, inputs, params) {
    const { ops } = ctx;
    const chosen = sequenceMean(ops, inputs.chosen);
    const rejected = sequenceMean(ops, inputs.rejected);
    const perPair = ops.neg(ops.logSigmoid(ops.mul(ops.sub(chosen, rejected), params.beta)));
    return { loss: ctx.batchMean(perPair), metrics: pairMetrics(ctx, { chosen, rejected }, { chosen, rejected }), perExample: perPair };
  },
});
`,
  );
  write(
    `${folder}/src/index.ts`,
    `import { ${camel} } from './${id}';

export { ${camel} } from './${id}';
/** Every objective this package defines (core's \`loadObjectives\` discovers objectives through this export). */
export const objectives = [${camel}] as const;
`,
  );
  write(
    `${folder}/test/${id}.properties.test.ts`,
    `import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createReferenceBackend } from '@pref/adapter-reference';
import { valueAndGrad } from '@pref/core';
import { expectDataParallelAgreement, expectMaskedValuesIgnored, finiteDifferenceGrad, pairBatchArbitrary, PAIRWISE_MASKS, worstMismatch } from '@pref/testing';
import { ${camel} } from '../src';

const backend = createReferenceBackend();
const params = { beta: 0.7 };

describe('${id} properties', () => {
  it('gradients match central finite differences', async () => {
    await fc.assert(
      fc.asyncProperty(pairBatchArbitrary(3, { minLogp: -5 }), async (batch) => {
        const result = await valueAndGrad(${camel}, batch, params, { backend });
        for (const name of ['chosenLogps', 'rejectedLogps'] as const) {
          const numeric = await finiteDifferenceGrad(${camel}, batch, params, name);
          expect(worstMismatch(result.grads[name].data, numeric, 1e-4, 1e-6)).toBeLessThanOrEqual(1);
        }
      }),
      { numRuns: 20 },
    );
  });

  it('values at masked positions change nothing', async () => {
    await fc.assert(
      fc.asyncProperty(pairBatchArbitrary(3), fc.double({ min: -50, max: 0, noNaN: true }), (batch, junk) =>
        expectMaskedValuesIgnored(${camel}, batch, params, { backend, masked: PAIRWISE_MASKS, junk }),
      ),
      { numRuns: 20 },
    );
  });

  it('a batch split over 3 simulated workers gives the single-worker results', async () => {
    await fc.assert(
      fc.asyncProperty(pairBatchArbitrary(5), (batch) => expectDataParallelAgreement(${camel}, batch, params, { backend, rows: 5, boundaries: [0, 1, 3, 5] })),
      { numRuns: 10 },
    );
  });
});
`,
  );
  write(
    `docs/objectives/${id}.md`,
    `# ${title} — \`${id}\` (\`${name}\`)

${summary}

- Paper: <authors, title, venue, year>, Eq. <n>.

## Formula

\`\`\`
ℓ = −logσ(β · (A_w − A_l)),   L = mean_b ℓ
\`\`\`

## Parameters

| name | symbol | default | valid range | meaning |
| --- | --- | --- | --- | --- |
| \`beta\` | β | 1 | (0, ∞) | Scale of the margin. |

## Worked example

<a small batch, its loss and one gradient entry, checked by a test>
`,
  );
  write(
    `.changeset/${id}-objective.md`,
    `---
"${name}": minor
---

${title}: a new objective package (\`${id}\`).
`,
  );
  registerObjectivePackage(name);
  console.log(`created ${folder} (${name}), docs/objectives/${id}.md, .changeset/${id}-objective.md; registered in OBJECTIVE_PACKAGES.
next: write the objective and its worked example, then \`flock /tmp/pref-npm.lock npm install\` to link the workspace.`);
}

if (kind === 'objective') {
  const [id, title, summary] = rest;
  if (!id || !title || !summary) usage();
  createObjective(id, title, summary);
} else if (kind === 'package') {
  const [folder, name, description, ...deps] = rest;
  if (!folder || !name || !description) usage();
  createPackage(folder, name, description, deps);
  console.log(`created ${folder} (${name})`);
} else usage();
