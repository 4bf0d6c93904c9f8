/**
 * Cell semantics on a real kernel process (dist/kernel.js, rebuilt when stale).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import type { KernelSession } from '../../kernel/client/index';
import { OutputText } from '../../kernel/client/outputText';
import { displayedText, ensureKernelBuilt, notebookDir, recorder, run, session, type OutputEvent } from './helpers';

const MAX_OUTPUT = 5000;

let s: KernelSession;
let nb: ReturnType<typeof notebookDir>;

void before(async () => {
  await ensureKernelBuilt();
  nb = notebookDir({
    'node_modules/esm-only/package.json': JSON.stringify({ name: 'esm-only', type: 'module', exports: { '.': { import: './index.js' } } }),
    'node_modules/esm-only/index.js': 'export const greet = (n) => `hello ${n}`;\nexport default 42;\n',
    'node_modules/plain-cjs/package.json': JSON.stringify({ name: 'plain-cjs', main: 'main.js' }),
    'node_modules/plain-cjs/main.js': 'module.exports = { add: (a, b) => a + b };\nmodule.exports.kind = "cjs";\n',
    'lib/helpers.ts': "import { add } from 'plain-cjs';\nexport interface Pair { a: number; b: number }\nexport function sum(p: Pair): number { return add(p.a, p.b); }\nexport function fail(): never {\n  throw new Error('from helpers');\n}\n",
  });
  s = session(nb.dir, { maxOutputChars: MAX_OUTPUT });
  await s.start();
});

void after(async () => {
  await s.dispose();
  nb.cleanup();
});

async function ok(code: string): Promise<Awaited<ReturnType<typeof run>>> {
  const r = await run(s, code);
  assert.equal(r.status, 'ok', `cell failed: ${r.error?.stack}\n--- code:\n${code}`);
  return r;
}

async function value(code: string): Promise<string> {
  const shown = displayedText((await ok(code)).out);
  assert.equal(shown.length, 1, `expected one displayed value, got ${JSON.stringify(shown)}`);
  return shown[0];
}

void describe('state across cells', () => {
  void test('top-level const, let, var, function, class and destructuring stay visible to later cells', async () => {
    await ok('const c1 = 1; let l1 = 2; var v1 = 3;\nfunction f1(x: number): number { return x * 10 }\nclass K1 { k = 5 }\nconst { d1, e1: [e2] } = { d1: 4, e1: [6] };');
    assert.equal(await value('JSON.stringify([c1, l1, v1, f1(1), new K1().k, d1, e2])'), "'[1,2,3,10,5,4,6]'");
  });

  void test('running a cell again re-declares its const, let and class without an error', async () => {
    const code = 'const again = Math.random(); let again2 = 1; class Again {}\nagain2';
    await ok(code);
    assert.equal(await value(code), '1');
  });

  void test('a re-run cell may change let to const and a class to a const', async () => {
    await ok('let kindA = 1; class KindB {}');
    assert.equal(await value('const kindA = 2; const KindB = 3; kindA + KindB'), '5');
  });

  void test('a declaration repeated inside one cell is still an error, located in the cell', async () => {
    const r = await run(s, 'const dup = 1;\nconst dup = 2;', 'Cell 7');
    assert.equal(r.status, 'error');
    assert.equal(r.error?.name, 'SyntaxError');
    assert.match(r.error?.message ?? '', /"dup" has already been declared/);
    assert.match(r.error?.stack ?? '', /at Cell 7:2:7/);
  });

  void test('top-level await works, also inside loops, and the last expression is displayed', async () => {
    assert.equal(await value('let total = 0;\nfor (let i = 0; i < 3; i++) { total += await Promise.resolve(i); await new Promise((r) => setTimeout(r, 1)); }\ntotal'), '3');
  });

  void test('the value of a final expression is shown; undefined, declarations and display handles show nothing', async () => {
    assert.equal(await value("'text'"), "'text'");
    assert.deepEqual(displayedText((await ok('undefined')).out), []);
    assert.deepEqual(displayedText((await ok('const nothing = 1;')).out), []);
    assert.deepEqual(displayedText((await ok("display('once')")).out), ['once']);
  });
});

void describe('javascript cells', () => {
  void test('run like TypeScript cells, and TypeScript syntax in them is an error', async () => {
    const out = recorder();
    const good = await s.execute({ cellId: 'js-1', cellLabel: 'Cell 30', code: 'const jsValue = [1, 2].map((x) => x * 2);\njsValue', language: 'javascript' }, out);
    assert.equal(good.status, 'ok');
    assert.deepEqual(displayedText(out), ['[ 2, 4 ]']);
    const bad = await s.execute({ cellId: 'js-2', cellLabel: 'Cell 31', code: 'const typed: number = 1;', language: 'javascript' }, recorder());
    assert.equal(bad.status, 'error');
    assert.match(bad.error?.stack ?? '', /SyntaxError: [^\n]*\n {4}at Cell 31:1:12/);
  });
});

void describe('imports', () => {
  void test('an ES-module-only package and a CommonJS package resolve from the notebook folder', async () => {
    const r = await ok("import answer, { greet } from 'esm-only';\nimport cjs, { add } from 'plain-cjs';\nimport * as ns from 'plain-cjs';\n[greet('x'), answer, add(1, 2), cjs.kind, ns.kind]");
    assert.deepEqual(displayedText(r.out), ["[ 'hello x', 42, 3, 'cjs', 'cjs' ]"]);
    assert.equal(r.out.text('stderr'), '', 'no warnings in the cell');
  });

  void test('imports stay visible to later cells, and dynamic import() goes through the same resolver', async () => {
    assert.equal(await value("const dyn = await import('esm-only');\n[greet('later'), dyn.default]"), "[ 'hello later', 42 ]");
  });

  void test('a relative import of a local .ts file works (its own imports resolved by the kernel)', async () => {
    assert.equal(await value("import { sum } from './lib/helpers';\nsum({ a: 2, b: 40 })"), '42');
  });

  void test("'@tensorflow/tfjs' is the kernel's own tfjs instance", async () => {
    const info = await s.runtimeInfo();
    const shown = await value("import * as tf from '@tensorflow/tfjs';\nimport { runtime } from 'affordance-lab';\nconst t = tf.tensor([1, 2, 3]);\nconst same = [tf.getBackend(), t instanceof runtime.tf.Tensor, runtime.tf === (await import('@tensorflow/tfjs-core'))];\nt.dispose();\nsame");
    assert.equal(shown, `[ '${info.backend}', true, true ]`);
    assert.equal(await value("import tfDefault from '@tensorflow/tfjs';\ntfDefault.getBackend()"), `'${info.backend}'`);
  });

  void test('a package that does not exist gives an error naming it and where it was searched', async () => {
    const r = await run(s, "import { x } from 'no-such-package-anywhere';");
    assert.equal(r.status, 'error');
    assert.match(r.error?.message ?? '', /Cannot find module 'no-such-package-anywhere' \(searched from .*al-kernel-test-/);
  });
});

void describe('errors', () => {
  void test('the stack points at the cell line and column, with no kernel frames', async () => {
    const r = await run(s, "const before = 1;\nfunction inner(): never {\n  throw new TypeError('bad value');\n}\ninner();", 'Cell 12');
    assert.equal(r.status, 'error');
    assert.equal(r.error?.name, 'TypeError');
    assert.equal(r.error?.message, 'bad value');
    const stack = r.error?.stack ?? '';
    assert.match(stack, /^TypeError: bad value\n {4}at inner \(Cell 12:3:9\)\n {4}at Cell 12:5:1$/, stack);
    assert.doesNotMatch(stack, /kernel\.js|node:inspector|node:internal/);
  });

  void test('a rejected promise as the cell\'s value shows its reason mapped to the cell, without kernel frames', async () => {
    const shown = displayedText((await run(s, "const why = 'as value';\nPromise.reject(new Error(why))", 'Cell [15]')).out);
    assert.equal(shown.length, 1);
    assert.match(shown[0], /^Promise \{\n {2}<rejected> Error: as value\n {6}at Cell \[15\]:2:16\n\}$/, shown[0]);
  });

    void test('an error after an await is mapped as well', async () => {
    const r = await run(s, "await Promise.resolve();\n\nnull.boom;", 'Cell 13');
    assert.equal(r.status, 'error');
    assert.match(r.error?.stack ?? '', /at Cell 13:3:6/);
  });

  void test('frames in a local .ts file point at its own lines', async () => {
    const r = await run(s, "import { fail } from './lib/helpers';\nfail();", 'Cell 14');
    assert.equal(r.status, 'error');
    assert.match(r.error?.stack ?? '', /helpers\.ts:5:9\)[\s\S]*at Cell 14:2:1/);
  });
});

void describe('output', () => {
  void test('stdout, stderr and displays arrive in the order they happened', async () => {
    const r = await ok("process.stdout.write('a');\nconsole.error('b');\ndisplay('shown');\nconsole.log('c');\nconsole.info('d');\nconsole.warn('e');");
    // How text is split into messages is the kernel's business; the order of streams and displays is not.
    const compact: string[] = [];
    let lastStream: string | undefined;
    for (const e of r.out.events as OutputEvent[]) {
      if (e.kind === 'stream' && e.name === lastStream) compact[compact.length - 1] += e.text;
      else compact.push(e.kind === 'stream' ? `${e.name}:${e.text}` : e.kind === 'display' ? `display:${String(e.bundle['text/plain'])}` : 'clear');
      lastStream = e.kind === 'stream' ? e.name : undefined;
    }
    assert.deepEqual(compact, ['stdout:a', 'stderr:b\n', 'display:shown', 'stdout:c\nd\n', 'stderr:e\n']);
  });

  void test('output written after a cell finished goes to that cell, raw bytes of native code to the running cell', async () => {
    const r = await ok("setTimeout(() => console.log('late line'), 30);\nrequire('node:fs').writeSync(1, 'raw bytes\\n');");
    const deadline = Date.now() + 10_000;
    while (!r.out.text('stdout').includes('late line') && Date.now() < deadline) await new Promise((res) => setTimeout(res, 10));
    assert.match(r.out.text('stdout'), /raw bytes\n[\s\S]*late line/);
  });

  void test('output and rejections that arrive while a later cell runs go to the cell that started the work', async () => {
    const a = await ok("setTimeout(() => console.log('late from A'), 100);\nsetTimeout(() => { void Promise.reject(new Error('late rejection')); }, 120);\nconst p = kernel.sleep(140).then(() => display('late display'));");
    const b = await ok("console.log('B runs');\nawait kernel.sleep(400);");
    assert.match(a.out.text('stdout'), /late from A/);
    assert.match(a.out.text('stderr'), /Unhandled promise rejection: Error: late rejection/);
    assert.deepEqual(displayedText(a.out), ['late display']);
    assert.equal(b.out.text(), 'B runs\n');
    assert.deepEqual(displayedText(b.out), []);
  });

  void test('an unhandled rejection is reported in the cell and the kernel keeps running', async () => {
    const r = await ok("void Promise.reject(new RangeError('nobody waits for me'));\nawait kernel.sleep(20);");
    assert.match(r.out.text('stderr'), /Unhandled promise rejection: RangeError: nobody waits for me/);
    assert.equal(await value('40 + 2'), '42');
  });

  void test('a thrown value that is not an Error is shown as it is', async () => {
    const r = await run(s, 'throw { code: 5 };');
    assert.equal(r.status, 'error');
    assert.match(r.error?.message ?? '', /Uncaught \{ code: 5 \}/);
  });

  void test('display handles update in place and clear; the last update arrives before the result', async () => {
    const r = await ok("const h = display({ step: 0 });\nfor (let i = 1; i <= 50; i++) h.update({ step: i });\nconst g = display('temporary');\ng.clear();");
    const displays = r.out.events.filter((e): e is Extract<OutputEvent, { kind: 'display' }> => e.kind === 'display');
    const first = displays[0];
    assert.equal(first.update, false);
    const updates = displays.filter((d) => d.displayId === first.displayId && d.update);
    assert.ok(updates.length < 50, `updates were not throttled: ${updates.length}`);
    assert.match(String(updates[updates.length - 1].bundle['text/plain']), /step: 50/);
    const cleared = r.out.events.find((e) => e.kind === 'clear');
    assert.ok(cleared && cleared.kind === 'clear');
    assert.notEqual(cleared.displayId, first.displayId);
  });

  void test('rich values display their own MIME bundle', async () => {
    const r = await ok("kernel.mime({ 'text/markdown': '**bold**', 'text/plain': 'bold' })");
    const d = r.out.events.find((e) => e.kind === 'display');
    assert.ok(d && d.kind === 'display');
    assert.deepEqual(d.bundle, { 'text/markdown': '**bold**', 'text/plain': 'bold' });
  });

  void test('bytes written in pieces that split a character arrive as text', async () => {
    const r = await ok("const bytes = Buffer.from('héllo → wörld\\n');\nfor (let i = 0; i < bytes.length; i += 3) process.stdout.write(bytes.subarray(i, i + 3));");
    assert.equal(r.out.text('stdout'), 'héllo → wörld\n');
  });

  void test('carriage-return progress shows only its final state', async () => {
    const r = await ok("for (let i = 0; i <= 100; i += 25) process.stdout.write(`\\rprogress ${i}%`);\nprocess.stdout.write('\\n');");
    const shown = new OutputText(MAX_OUTPUT);
    shown.append(r.out.text('stdout'));
    assert.equal(shown.text, 'progress 100%\n');
  });

  void test('very large output is cut by the kernel and shown with a notice', async () => {
    const r = await ok("for (let i = 0; i < 5000; i++) console.log('line ' + i);");
    const raw = r.out.text('stdout');
    assert.ok(raw.length < 3 * MAX_OUTPUT, `the kernel sent ${raw.length} characters`);
    const shown = new OutputText(MAX_OUTPUT);
    shown.append(raw);
    assert.ok(shown.truncated);
    assert.match(shown.text, /\[output truncated: more than 5000 characters/);
  });
});

void describe('process', () => {
  void test('the kernel opens no listening network port', async () => {
    const pid = s.info?.pid;
    assert.ok(pid, 'kernel pid');
    const inodes = new Set<string>();
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m) inodes.add(m[1]);
      } catch {
        // fd closed meanwhile
      }
    }
    const listening: string[] = [];
    for (const table of ['tcp', 'tcp6', 'udp', 'udp6']) {
      let text = '';
      try {
        text = readFileSync(`/proc/${pid}/net/${table}`, 'utf8');
      } catch {
        continue;
      }
      for (const line of text.split('\n').slice(1)) {
        const cols = line.trim().split(/\s+/);
        if (cols.length < 10) continue;
        // tcp state 0A is LISTEN; any udp socket bound by the process counts too.
        if (inodes.has(cols[9]) && (table.startsWith('udp') || cols[3] === '0A')) listening.push(`${table} ${cols[1]}`);
      }
    }
    assert.ok(inodes.size > 0, 'the kernel should hold its IPC socket');
    assert.deepEqual(listening, []);
  });
});
