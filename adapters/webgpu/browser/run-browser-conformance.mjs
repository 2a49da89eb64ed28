#!/usr/bin/env node
// Runs every conformance case on the WebGPU backend inside headless Chromium.
//   node adapters/webgpu/browser/run-browser-conformance.mjs [chromium binary]
// Bundles conformance-page.ts with esbuild, serves it on 127.0.0.1 only, starts Chromium with
// WebGPU enabled on Vulkan (lavapipe on a machine without a GPU) and prints one line per
// failing case plus "N passed, M failed, K skipped". Exit code 0 only when nothing failed.
import { build } from 'esbuild';
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '../../..');
const chromium = process.argv[2] ?? 'chromium';
const timeoutSeconds = Number(process.env.PREF_BROWSER_TIMEOUT ?? 300);
// Core's one list of objective packages (read from its source: this script bundles sources).
const listSource = readFileSync(join(root, 'packages/core/src/objective-packages.ts'), 'utf8');
const objectivePackages = [
  ...listSource
    .slice(listSource.indexOf('OBJECTIVE_PACKAGES = ['))
    .split(']')[0]
    .matchAll(/'@pref\/([a-z0-9-]+)'/g),
]
  .map((match) => match[1])
  .filter((name) => existsSync(join(root, 'packages/losses', name, 'src/index.ts')));
const caseDir = [join(root, '../shared/conformance/cases'), join(root, 'conformance/cases')].find(existsSync);
const cases = readdirSync(caseDir)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .flatMap((f) => JSON.parse(readFileSync(join(caseDir, f), 'utf8')).cases);

const work = mkdtempSync(join(tmpdir(), 'pref-webgpu-browser-'));
const entry = join(here, '.objectives-entry.ts');
writeFileSync(
  entry,
  `${objectivePackages.map((n, i) => `import * as m${i} from '@pref/${n}';`).join('\n')}
import { start } from './conformance-page';
(globalThis as Record<string, unknown>).OBJECTIVE_MODULES = [${objectivePackages.map((_, i) => `m${i}`).join(', ')}];
start();\n`,
);
try {
  await build({
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    outfile: join(work, 'page.js'),
    tsconfig: join(here, '../tsconfig.json'),
    logLevel: 'warning',
    // Node-only branches of core (config files) are never taken in the browser.
    external: ['node:*', 'webgpu'],
  });
} finally {
  rmSync(entry, { force: true });
}

const page = '<!doctype html><meta charset="utf-8"><title>pref webgpu conformance</title><script type="module" src="/page.js"></script>';
let resolveResults;
const results = new Promise((resolve) => (resolveResults = resolve));
const server = createServer((req, res) => {
  if (req.method === 'POST' && req.url === '/progress') {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      res.end('ok');
      if (process.env.PREF_BROWSER_LOG) console.error(`page: ${body}`);
    });
    return;
  }
  if (req.method === 'POST' && req.url === '/results') {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      res.end('ok');
      resolveResults(JSON.parse(body));
    });
    return;
  }
  const routes = {
    '/': ['text/html', page],
    '/page.js': ['text/javascript', readFileSync(join(work, 'page.js'))],
    '/cases.json': ['application/json', JSON.stringify(cases)],
  };
  const route = routes[req.url ?? '/'];
  res.writeHead(route ? 200 : 404, { 'content-type': route?.[0] ?? 'text/plain' });
  res.end(route?.[1] ?? 'not found');
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${server.address().port}/`;
const browser = spawn(
  chromium,
  [
    '--headless=new',
    '--enable-logging=stderr',
    '--no-sandbox',
    '--disable-gpu-sandbox',
    '--no-first-run',
    '--disable-extensions',
    '--enable-unsafe-webgpu',
    '--enable-features=Vulkan,WebGPUService',
    '--use-vulkan=native',
    '--use-angle=vulkan',
    '--ignore-gpu-blocklist',
    '--enable-dawn-features=allow_unsafe_apis',
    `--user-data-dir=${join(work, 'profile')}`,
    url,
  ],
  { stdio: ['ignore', 'ignore', 'pipe'], detached: true },
);
let browserLog = '';
browser.stderr.on('data', (chunk) => (browserLog += chunk));
const timeout = new Promise((resolve) =>
  setTimeout(() => resolve({ error: `timed out after ${timeoutSeconds} s` }), timeoutSeconds * 1000),
);
const outcome = await Promise.race([results, timeout]);
// Stop Chromium and its helper processes (its own process group) before removing its profile,
// which they write to until they exit.
const exited = new Promise((resolve) => browser.once('exit', resolve));
try {
  process.kill(-browser.pid, 'SIGKILL');
} catch {
  browser.kill('SIGKILL');
}
await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
server.close();
try {
  rmSync(work, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
} catch (error) {
  console.error(`could not remove ${work}: ${error.message}`);
}

if (outcome.error) {
  console.error(`browser conformance could not run: ${outcome.error}${outcome.hasGpu === false ? ' (navigator.gpu is undefined)' : ''}`);
  if (process.env.PREF_BROWSER_LOG) console.error(browserLog);
  process.exit(2);
}
console.log(`adapter: ${outcome.adapter}; subgroups: ${outcome.subgroups}`);
const count = (status) => outcome.outcomes.filter((o) => o.status === status).length;
for (const o of outcome.outcomes.filter((o) => o.status === 'failed')) console.log(`FAIL ${o.id}: ${o.reason}`);
console.log(`${count('passed')} passed, ${count('failed')} failed, ${count('skipped')} skipped`);
process.exit(count('failed') > 0 ? 1 : 0);
