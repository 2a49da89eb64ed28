// Assembles the WAT sources of the package (our own code) with wabt, each into two modules, one
// importing a shared memory (worker threads) and one a plain memory, and writes them
// base64-encoded into src/kernels-wasm.ts, so the package needs no build step at run time.
//   node scripts/build-wasm.mjs            regenerate src/kernels-wasm.ts
//   node scripts/build-wasm.mjs --check    exit 1 when the committed file differs from a fresh build
//   node scripts/build-wasm.mjs --expand   print the expanded WAT of every module (for reading)
//
// The sources are WAT plus a small, line-based preprocessor (WAT has no macros or generics, and
// V8 in Node 20 does not inline wasm calls, so the hot exp and GEMM bodies must be written out):
//   ;;@include FILE                 the text of src/FILE here
//   ;;@precision ... ;;@end-precision
//                                   the body twice, for float32 then float64, with {P} → f32|f64,
//                                   {V} → f32x4|f64x2, {I} → i32x4|i64x2, {L} lanes 4|2, {L4} 4·{L},
//                                   {SZ} bytes 4|8, {SH} log2 bytes 2|3, {PW} GEMM panel width 8|4 ({PWM1} = {PW} − 1),
//                                   ({DEMOTE} x) f64 → the precision, ({PROMOTE} x) the precision
//                                   → f64 (`nop` in float64: a folded (nop x) leaves x as it is),
//                                   {SPLAT} the load-and-splat of one element, ({IOTA}) the
//                                   lane indices, ({ISCALAR} x) an i32 as a lane integer
//   ;;@define NAME $a $b ... ;;@end  a statement macro (after precision expansion, so NAME may
//                                   contain {P}); `;;@NAME x y ...` expands it with $a → x, ...
//   __SHARED__                      `shared` in the shared-memory module, nothing in the other
// Anything left unexpanded ({...} or ;;@...) is an error.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import createWabt from 'wabt';

const here = dirname(fileURLToPath(import.meta.url));
const src = join(here, '../src');

/** The modules: [WAT file, exported constant name]. */
const MODULES = [
  ['token-log-probs.wat', 'TOKEN_LOG_PROBS_WASM'],
  ['linear-log-probs.wat', 'LINEAR_LOG_PROBS_WASM'],
];

const PRECISIONS = [
  {
    P: 'f32',
    V: 'f32x4',
    I: 'i32x4',
    L: '4',
    L4: '16',
    SZ: '4',
    SH: '2',
    PW: '8',
    PWM1: '7',
    DEMOTE: 'f32.demote_f64',
    PROMOTE: 'f64.promote_f32',
    SPLAT: 'v128.load32_splat',
    IOTA: 'v128.const i32x4 0 1 2 3',
    ISCALAR: 'nop',
  },
  {
    P: 'f64',
    V: 'f64x2',
    I: 'i64x2',
    L: '2',
    L4: '8',
    SZ: '8',
    SH: '3',
    PW: '4',
    PWM1: '3',
    DEMOTE: 'nop',
    PROMOTE: 'nop',
    SPLAT: 'v128.load64_splat',
    IOTA: 'v128.const i64x2 0 1',
    ISCALAR: 'i64.extend_i32_s',
  },
];

function includes(text, depth = 0) {
  if (depth > 8) throw new Error(';;@include nested too deep');
  return text.replace(/^[ \t]*;;@include[ \t]+(\S+)[ \t]*$/gm, (_, file) => includes(readFileSync(join(src, file), 'utf8'), depth + 1));
}

function precisions(text) {
  return text.replace(/^[ \t]*;;@precision[ \t]*\n([\s\S]*?)^[ \t]*;;@end-precision[ \t]*$/gm, (_, body) =>
    PRECISIONS.map((p) => body.replace(/\{(P|V|I|L4|L|SZ|SH|PWM1|PW|DEMOTE|PROMOTE|SPLAT|IOTA|ISCALAR)\}/g, (__, key) => p[key])).join(
      '\n',
    ),
  );
}

function macros(text) {
  const defs = new Map();
  const stripped = text.replace(
    /^[ \t]*;;@define[ \t]+(\S+)((?:[ \t]+\$\S+)*)[ \t]*\n([\s\S]*?)^[ \t]*;;@end[ \t]*$/gm,
    (_, name, params, body) => {
      if (defs.has(name)) throw new Error(`macro ${name} defined twice`);
      defs.set(name, { params: params.trim().split(/\s+/).filter(Boolean), body: body.replace(/\n$/, '') });
      return '';
    },
  );
  const expand = (line, depth) => {
    const call = /^([ \t]*);;@(\S+)((?:[ \t]+\S+)*)[ \t]*$/.exec(line);
    if (!call) return line;
    const [, indent, name, argText] = call;
    const def = defs.get(name);
    if (!def) throw new Error(`unknown directive or macro ;;@${name}`);
    if (depth > 16) throw new Error(`macro ${name} nested too deep`);
    const args = argText.trim().split(/\s+/).filter(Boolean);
    if (args.length !== def.params.length)
      throw new Error(`macro ${name} takes ${def.params.length} arguments, got ${args.length}: ${line.trim()}`);
    let body = def.body;
    def.params.forEach((param, i) => {
      body = body.replace(new RegExp(`\\${param}(?![A-Za-z0-9_.])`, 'g'), () => args[i]);
    });
    return body
      .split('\n')
      .map((l) => expand(indent + l, depth + 1))
      .join('\n');
  };
  return stripped
    .split('\n')
    .map((line) => expand(line, 0))
    .join('\n');
}

/** The WAT of one module after preprocessing (memory left as `__SHARED__`). */
function expand(file) {
  const text = macros(precisions(includes(readFileSync(join(src, file), 'utf8'))));
  const left = /\{(?:P|V|I|L4|L|SZ|SH|PWM1|PW|DEMOTE|PROMOTE|SPLAT|IOTA|ISCALAR)\}|;;@\S+/.exec(text);
  if (left) throw new Error(`${file}: unexpanded ${left[0]}`);
  return text;
}

const wabt = await createWabt();
const features = { simd: true, threads: true, bulk_memory: true, sat_float_to_int: true, mutable_globals: true, sign_extension: true };
function assemble(file, shared) {
  const wat = expand(file).replace(/__SHARED__/g, shared ? 'shared' : '');
  let module;
  try {
    module = wabt.parseWat(file, wat, features);
  } catch (error) {
    // wabt's message, without its (minified) source; line numbers are of the --expand output
    console.error(String(error.message ?? error).slice(0, 4000));
    process.exit(2);
  }
  try {
    module.validate(features);
    return Buffer.from(module.toBinary({ log: false }).buffer).toString('base64');
  } finally {
    module.destroy();
  }
}

if (process.argv.includes('--expand')) {
  // (no process.exit: stdout to a pipe is written asynchronously)
  process.stdout.write(MODULES.map(([file]) => `;; ===== ${file}\n${expand(file)}\n`).join(''));
} else {
  build();
}

function build() {
  let output = `// Generated by scripts/build-wasm.mjs from ${MODULES.map(([f]) => f).join(', ')}. Do not edit.\n`;
  for (const [file, name] of MODULES) {
    output += `/** ${file} with a shared memory import (for worker threads), base64. */\n`;
    output += `export const ${name}_SHARED = '${assemble(file, true)}';\n`;
    output += `/** ${file} with a plain memory import (one thread, no SharedArrayBuffer), base64. */\n`;
    output += `export const ${name} = '${assemble(file, false)}';\n`;
  }
  const target = join(src, 'kernels-wasm.ts');
  if (process.argv.includes('--check')) {
    let committed = '';
    try {
      committed = readFileSync(target, 'utf8');
    } catch {}
    if (committed !== output) {
      console.error('src/kernels-wasm.ts is out of date: run npm run build:wasm -w @pref/cpu-kernels');
      process.exit(1);
    }
    console.log(`kernels-wasm.ts matches ${MODULES.map(([f]) => f).join(', ')}`);
  } else {
    writeFileSync(target, output);
    console.log(`wrote ${target}`);
  }
}
