/**
 * Browser side of the conformance run: `navigator.gpu` → the WebGPU backend → every case of the
 * objectives bundled in (see run-browser-conformance.mjs), results POSTed back to the runner.
 */
import { runConformanceCase, type AnyObjective, type ConformanceCase } from '@pref/core';
import { createWebGpuBackend } from '@pref/adapter-webgpu';

declare const OBJECTIVE_MODULES: readonly { objectives?: readonly AnyObjective[] }[];
const { navigator } = globalThis as unknown as { navigator: { gpu?: GPU } };

/** Progress lines the runner prints with PREF_BROWSER_LOG=1 (where a run stops, if it does). */
function progress(message: string): void {
  void fetch('/progress', { method: 'POST', body: message });
}

async function report(body: unknown): Promise<void> {
  await fetch('/results', { method: 'POST', body: JSON.stringify(body) });
}

/** Runs every case and POSTs the outcomes (or the error that stopped the run) to the runner. */
export async function main(): Promise<void> {
  const objectives: Record<string, AnyObjective> = {};
  for (const module of OBJECTIVE_MODULES) for (const o of module.objectives ?? []) objectives[o.id] = o;
  const cases = (await (await fetch('/cases.json')).json()) as ConformanceCase[];
  progress(`page loaded; navigator.gpu ${navigator.gpu ? 'present' : 'missing'}; ${cases.length} cases`);
  const adapter = await navigator.gpu?.requestAdapter();
  progress(`adapter ${adapter ? 'found' : 'missing'}`);
  const adapterInfo = (adapter as { info?: { vendor: string; architecture: string; description: string } } | null)?.info;
  const info = adapterInfo ? `${adapterInfo.vendor} ${adapterInfo.architecture} ${adapterInfo.description}` : 'none';
  const backend = await createWebGpuBackend();
  const outcomes = [];
  progress('backend created');
  for (const testCase of cases) {
    outcomes.push(await runConformanceCase(testCase, { backend, objectives }));
    progress(`${testCase.id}: ${outcomes[outcomes.length - 1].status}`);
  }
  await report({
    adapter: info,
    subgroups: backend.usesSubgroups,
    outcomes: outcomes.map(({ id, status, reason }) => ({ id, status, reason })),
  });
}

/** The page's entry: errors become a report too. */
export function start(): void {
  main().catch((error: Error) => report({ error: `${error.name}: ${error.message}`, hasGpu: navigator.gpu !== undefined }));
}
