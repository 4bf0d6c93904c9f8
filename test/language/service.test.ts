/**
 * The notebook language service through its plain API, on the real TypeScript compiler and the real
 * dist/types content (built here by scripts/build-types.mjs into a private folder, so the library's
 * declarations are current).
 *
 * Cells are written with one `‸` marking the position a case asks about.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { NotebookLanguageService } from '../../extension/language/core/service';
import { collectTopLevelDeclarations } from '../../extension/language/core/declarations';
import { LanguageWorkerClient } from '../../extension/language/client';
import type { Worker } from 'node:worker_threads';
import type { CellPosition, DefinitionLocation } from '../../extension/language/core/types';
import ts from 'typescript';

const root = resolve(__dirname, '..', '..');
const MARK = '‸';

let service: NotebookLanguageService;
let notebookDir: string;
let workDir: string;
let typesDir: string;
let caseNo = 0;

before(() => {
  workDir = mkdtempSync(join(tmpdir(), 'affordance-language-'));
  // A private copy of dist/types, so that a build running beside the tests cannot swap it under them.
  typesDir = join(workDir, 'types');
  const r = spawnSync(process.execPath, [join(root, 'scripts', 'build-types.mjs'), '--out', typesDir], { cwd: root, encoding: 'utf8' });
  assert.equal(r.status, 0, `scripts/build-types.mjs failed:\n${r.stdout}\n${r.stderr}`);
  notebookDir = join(workDir, 'notebook');
  mkdirSync(notebookDir);
  service = new NotebookLanguageService({ notebookDir, typesDir });
});

after(() => {
  service?.dispose();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

interface Loaded {
  ids: string[];
  at: { cellId: string; cellIndex: number; position: CellPosition };
}

/** Loads cells (one of which may hold the ‸ marker) into the shared service under fresh ids. */
function load(cells: readonly string[]): Loaded {
  caseNo++;
  const ids = cells.map((_, i) => `case${caseNo}-cell${i}`);
  let at: Loaded['at'] | undefined;
  const inputs = cells.map((text, i) => {
    const k = text.indexOf(MARK);
    if (k < 0) return { id: ids[i], text };
    const before = text.slice(0, k).split('\n');
    at = { cellId: ids[i], cellIndex: i, position: { line: before.length - 1, character: before[before.length - 1].length } };
    return { id: ids[i], text: text.replace(MARK, '') };
  });
  service.setCells(inputs);
  return { ids, at: at ?? { cellId: ids[ids.length - 1], cellIndex: cells.length - 1, position: { line: 0, character: 0 } } };
}

function describeDiagnostics(ids: string[]): string {
  return ids
    .flatMap((id, i) => service.getDiagnostics(id).map((d) => `cell ${i} ${d.range.start.line}:${d.range.start.character} TS${d.code} ${d.message}`))
    .join('\n');
}

// --- diagnostics: what must be clean, and what must be reported where -----------------------------------

const cleanNotebooks: { name: string; cells: string[] }[] = [
  { name: 'an earlier const is used later', cells: ['const rate = 0.5;', 'const doubled: number = rate * 2;'] },
  { name: 'a re-declaration in a later cell shadows the earlier one (no "Cannot redeclare")', cells: ['const x = 1;\nlet y = 2;', 'const x = "text";\nlet y = "again";', 'const upper: string = x.toUpperCase();\nconst len: number = y.length;'] },
  { name: 'a later cell assigns to an earlier let', cells: ['let step = 0;', 'step = step + 1;\nstep += 2;'] },
  { name: 'top-level await', cells: ['const v = await Promise.resolve(3);', 'for (const k of [1, 2]) { await new Promise((r) => setTimeout(r, k)); }\nconst w: number = v;'] },
  { name: 'a last expression is not an error', cells: ['const a = [1, 2, 3];', 'a.length\n', 'a'] },
  { name: 'functions, classes, interfaces, enums and generic type aliases cross cells', cells: ['function twice(n: number) { return n * 2; }\nclass Box<T> { constructor(public v: T) {} }\ninterface Pt { x: number }\nenum Mode { Train, Eval }\ntype Pair<T> = [T, T];', 'const b: Box<number> = new Box(twice(2));\nconst p: Pt = { x: b.v };\nconst m: Mode = Mode.Eval;\nconst q: Pair<string> = ["a", "b"];'] },
  { name: 'an import from cell 1 is usable and typed in cell 5', cells: ["import * as tf from '@tensorflow/tfjs';", 'const a = 1;', 'const b = 2;', 'const c = 3;', 'const t: tf.Tensor2D = tf.tensor2d([[a, b], [c, 4]]);\nconst shape: number[] = t.shape;'] },
  { name: 'destructured declarations cross cells', cells: ['const { p, q: [r, s] } = { p: 1, q: ["a", true] as [string, boolean] };', 'const n: number = p;\nconst str: string = r;\nconst flag: boolean = s;'] },
  { name: 'a let declared without a value is assigned in later cells', cells: ['let model;', 'model = 5;', 'const m: number = model;'] },
  { name: 'a var of a top-level loop is visible later', cells: ['for (var i = 0; i < 3; i++) {}', 'const last: number = i;'] },
  { name: 'a re-import shadows an earlier import of the same name', cells: ["import * as tf from '@tensorflow/tfjs';", "import * as tf from 'node:path';", 'const joined: string = tf.join("a", "b");'] },
  { name: 'a function shadows an earlier const of the same name', cells: ['const f = 1;', 'function f() { return "s"; }', 'const r: string = f();'] },
  { name: 'the kernel globals display and kernel are declared', cells: ['const h = display({ a: 1 });\nh.update("x");\nawait kernel.sleep(1);\nconst aborted: boolean = kernel.signal.aborted;\nconst dir: string = kernel.notebookDir;\ndisplay(kernel.mime({ "text/plain": "x" }));'] },
  { name: 'affordance-lab and Node built-ins are typed', cells: ["import { display as show, runtime } from 'affordance-lab';\nimport { readFileSync } from 'node:fs';", 'show(runtime.info());\nconst text: string = readFileSync("x", "utf8");'] },
];

for (const c of cleanNotebooks) {
  void test(`no diagnostics: ${c.name}`, () => {
    const { ids } = load(c.cells);
    assert.equal(describeDiagnostics(ids), '', 'expected no diagnostics');
  });
}

const errorCases: { name: string; cells: string[]; cell: number; line: number; character: number; code: number }[] = [
  { name: 'a type error is reported at its own cell, line and column', cells: ['const n = 1;', 'const ok = n;\nconst bad: string = n;'], cell: 1, line: 1, character: 6, code: 2322 },
  { name: 'a type error uses the type of the latest declaration', cells: ['const x = 1;', 'const x = "s";', 'const k: number = x;'], cell: 2, line: 0, character: 6, code: 2322 },
  { name: 'a duplicate declaration inside one cell is still an error', cells: ['const d = 1;', 'const d = 2;\nconst d = 3;'], cell: 1, line: 0, character: 6, code: 2451 },
  { name: 'a name from a later cell is not visible earlier', cells: ['const early = late;', 'const late = 1;'], cell: 0, line: 0, character: 14, code: 2304 },
  { name: 'an earlier syntax error stays in its own cell', cells: ['const a = 1;\nconst = ;', 'const b: number = a;'], cell: 0, line: 1, character: 6, code: 1134 },
  { name: 'a member the kernel global does not have', cells: ['const a = 1;', 'await kernel.slep(10);'], cell: 1, line: 0, character: 13, code: 2551 },
  { name: 'a misspelt tfjs member', cells: ["import * as tf from '@tensorflow/tfjs';", '\n  tf.tensor2e([[1]]);'], cell: 1, line: 1, character: 5, code: 2551 },
];

for (const c of errorCases) {
  void test(`diagnostic: ${c.name}`, () => {
    const { ids } = load(c.cells);
    const all = describeDiagnostics(ids);
    const found = service.getDiagnostics(ids[c.cell]).find((d) => d.code === c.code);
    assert.ok(found, `expected TS${c.code} in cell ${c.cell}; got:\n${all || '(none)'}`);
    assert.deepEqual(found.range.start, { line: c.line, character: c.character }, `TS${c.code} at the wrong place; all diagnostics:\n${all}`);
    for (const [i, id] of ids.entries()) {
      if (i !== c.cell) assert.deepEqual(service.getDiagnostics(id), [], `cell ${i} should be clean; all diagnostics:\n${all}`);
    }
  });
}

// --- hovers ---------------------------------------------------------------------------------------------

const hoverCases: { name: string; cells: string[]; expect: string }[] = [
  { name: 'an earlier const has its type in a later cell', cells: ['const rate = 0.5 as number;', 'rate‸ * 2'], expect: 'const rate: number' },
  { name: 'a shadowing declaration gives the new type', cells: ['const x = 1 as number;', 'const x = "a" as string;', 'x‸.length'], expect: 'const x: string' },
  { name: 'a function from an earlier cell shows its signature', cells: ['/** Doubles. */\nfunction twice(n: number): number { return n * 2; }', 'twice‸(2)'], expect: 'function twice(n: number): number' },
  { name: 'the kernel global is typed by the kernel session', cells: ['await kernel.sleep‸(5);'], expect: '(method) KernelGlobal.sleep(ms: number): Promise<void>' },
  { name: 'a tensor from cell 1 keeps its tfjs type in cell 3', cells: ["import * as tf from '@tensorflow/tfjs';\nconst t = tf.tensor2d([[1, 2]]);", '1', 't‸'], expect: 'const t: tf.Tensor2D' },
];

for (const c of hoverCases) {
  void test(`hover: ${c.name}`, () => {
    const { at } = load(c.cells);
    const hover = service.getHover(at.cellId, at.position);
    assert.ok(hover, 'expected a hover');
    assert.equal(hover.text, c.expect);
  });
}

void test('hover: TSDoc of a function declared in an earlier cell', () => {
  const { at } = load(['/** Doubles a number. */\nfunction twice(n: number): number { return n * 2; }', 'twice‸(2)']);
  assert.match(service.getHover(at.cellId, at.position)?.documentation ?? '', /Doubles a number/);
});

void test('hover: TSDoc of a const declared in an earlier cell, but not for a local of the same name', () => {
  const { ids, at } = load(['/** Learning rate of the optimiser. */\nconst lr = 1e-3;', 'lr‸ * 2;\nfunction f(lr: number) { return lr; }']);
  assert.match(service.getHover(at.cellId, at.position)?.documentation ?? '', /Learning rate of the optimiser/);
  const local = service.getHover(ids[1], { line: 1, character: 32 });
  assert.equal(local?.text, '(parameter) lr: number');
  assert.equal(local?.documentation, '');
});

// --- completions ----------------------------------------------------------------------------------------

const completionCases: { name: string; cells: string[]; trigger?: '.'; includes: string[] }[] = [
  { name: 'tfjs members after tf.', cells: ["import * as tf from '@tensorflow/tfjs';", 'tf.‸'], trigger: '.', includes: ['tensor2d', 'tidy', 'layers', 'sequential'] },
  { name: 'affordance-lab members after a namespace import', cells: ["import * as lab from 'affordance-lab';", 'lab.‸'], trigger: '.', includes: ['display', 'runtime', 'MIME_BUNDLE'] },
  { name: 'members of an affordance-lab value', cells: ["import { runtime } from 'affordance-lab';", 'runtime.‸'], trigger: '.', includes: ['info', 'memory'] },
  { name: 'tensor methods on a tensor declared two cells earlier', cells: ["import * as tf from '@tensorflow/tfjs';\nconst t = tf.ones([2, 2]);", 'const u = 1;', 't.‸'], trigger: '.', includes: ['dispose', 'matMul', 'shape'] },
  { name: 'names of earlier cells and kernel globals at an identifier', cells: ['const learningRate = 1e-3;\nfunction trainStep() {}', 'lea‸'], includes: ['learningRate', 'trainStep', 'display', 'kernel'] },
  { name: 'object members of an earlier cell value', cells: ['const cfg = { epochs: 3, batch: 8 };', 'cfg.‸'], trigger: '.', includes: ['epochs', 'batch'] },
];

for (const c of completionCases) {
  void test(`completion: ${c.name}`, () => {
    const { at } = load(c.cells);
    const list = service.getCompletions(at.cellId, at.position, c.trigger);
    assert.ok(list, 'expected completions');
    const names = new Set(list.entries.map((e) => e.name));
    for (const n of c.includes) assert.ok(names.has(n), `expected ${n} among ${list.entries.length} completions (${[...names].slice(0, 20).join(', ')}, …)`);
  });
}

void test('completion details carry TSDoc of a tfjs function', () => {
  const { at } = load(["import * as tf from '@tensorflow/tfjs';", 'tf.‸']);
  const d = service.getCompletionDetails(at.cellId, at.position, 'tensor2d');
  assert.ok(d, 'expected details');
  assert.match(d.detail, /tensor2d/);
  assert.match(d.documentation, /2D/i);
});

// --- signature help -------------------------------------------------------------------------------------

void test('signature help for a function declared in an earlier cell', () => {
  const { at } = load(['function scale(value: number, factor: number): number { return value * factor; }', 'scale(1, ‸)']);
  const help = service.getSignatureHelp(at.cellId, at.position);
  assert.ok(help, 'expected signature help');
  const sig = help.signatures[help.activeSignature];
  assert.equal(sig.label, 'scale(value: number, factor: number): number');
  assert.equal(help.activeParameter, 1);
  const [s, e] = sig.parameters[1].label;
  assert.equal(sig.label.slice(s, e), 'factor: number');
});

// --- go to definition -----------------------------------------------------------------------------------

const definitionCases: { name: string; cells: string[]; cell: number; line: number; character: number }[] = [
  { name: 'a const used in cell 3 leads to its declaration in cell 1', cells: ['const unused = 0;\nconst rate = 0.5;', 'const other = 1;', 'rate‸ * 2'], cell: 0, line: 1, character: 6 },
  { name: 'a function used in cell 3 leads to cell 1', cells: ['// helpers\nfunction twice(n: number) { return n * 2; }', '1', 'twice‸(3)'], cell: 0, line: 1, character: 9 },
  { name: 'a class used in a type position leads to cell 1', cells: ['class Model {}', 'let m: Model‸;'], cell: 0, line: 0, character: 6 },
  { name: 'a shadowed name leads to the latest declaration', cells: ['const x = 1;', 'let x = 2;', 'x‸'], cell: 1, line: 0, character: 4 },
  { name: 'a name declared in the same cell stays in the cell', cells: ['const a = 1;', 'const a = 2;\na‸'], cell: 1, line: 0, character: 6 },
];

for (const c of definitionCases) {
  void test(`definition: ${c.name}`, () => {
    const { ids, at } = load(c.cells);
    const defs = service.getDefinition(at.cellId, at.position);
    const expected: DefinitionLocation = { kind: 'cell', cellId: ids[c.cell], range: { start: { line: c.line, character: c.character }, end: { line: c.line, character: c.character + (defs[0]?.kind === 'cell' ? defs[0].range.end.character - defs[0].range.start.character : 0) } } };
    assert.equal(defs.length, 1, `expected one definition, got ${JSON.stringify(defs)}`);
    assert.deepEqual(defs[0], expected);
  });
}

void test('definition: a tfjs function leads into the shipped .d.ts', () => {
  const { at } = load(["import * as tf from '@tensorflow/tfjs';", 'tf.tensor2d‸([[1]])']);
  const defs = service.getDefinition(at.cellId, at.position);
  assert.ok(defs.length > 0, 'expected a definition');
  const d = defs[0];
  assert.equal(d.kind, 'file');
  assert.ok(d.kind === 'file' && d.fileName.startsWith(typesDir.replace(/\\/g, '/')) && d.fileName.endsWith('.d.ts'), `got ${JSON.stringify(d)}`);
});

void test('definition: an affordance-lab export leads into its generated declarations', () => {
  const { at } = load(["import { runtime } from 'affordance-lab';", 'runtime‸.info()']);
  const defs = service.getDefinition(at.cellId, at.position);
  assert.ok(defs.some((d) => d.kind === 'file' && d.fileName.includes('/affordance-lab/') && d.fileName.endsWith('.d.ts')), `got ${JSON.stringify(defs)}`);
});

// --- edits, module resolution and positions --------------------------------------------------------------

void test('editing an earlier cell retypes later cells, and only files that changed get a new version', () => {
  const { ids } = load(['const v = 1;', 'const w = 2;', 'const s: string = v;']);
  assert.match(describeDiagnostics(ids), /cell 2 0:6 TS2322/);
  const before = ids.map((id) => service.virtualContentOf(id));
  service.updateCell(ids[0], 'const v = "now text";');
  assert.equal(describeDiagnostics(ids), '');
  // Cell 1 neither declares nor sees anything new: its virtual file is untouched.
  assert.equal(service.virtualContentOf(ids[1]), before[1]);
  assert.notEqual(service.virtualContentOf(ids[0]), before[0]);
});

void test('deleting or moving a cell changes what later cells see', () => {
  const { ids } = load(['const gone = 1;', 'const kept: number = gone;']);
  assert.equal(describeDiagnostics(ids), '');
  service.setCells([{ id: ids[1], text: 'const kept: number = gone;' }]);
  assert.deepEqual(service.getDiagnostics(ids[1]).map((d) => d.code), [2304]);
  service.setCells([{ id: ids[1], text: 'const kept: number = gone;' }, { id: ids[0], text: 'const gone = 1;' }]);
  assert.deepEqual(service.getDiagnostics(ids[0]).map((d) => d.code), [], 'the moved cell is clean');
  assert.deepEqual(service.getDiagnostics(ids[1]).map((d) => d.code), [2304], 'a name declared later is still unknown');
});

void test('imports resolve from the notebook folder (a local module)', () => {
  writeFileSync(join(notebookDir, 'helpers.ts'), 'export function norm(v: number[]): number { return Math.hypot(...v); }\n');
  const { ids } = load(["import { norm } from './helpers';", 'const n: number = norm([3, 4]);\nconst bad: string = norm([1]);']);
  const diags = service.getDiagnostics(ids[1]);
  assert.deepEqual(diags.map((d) => [d.code, d.range.start.line]), [[2322, 1]], describeDiagnostics(ids));
});

void test('packages resolve from the notebook folder\'s node_modules', () => {
  const pkg = join(notebookDir, 'node_modules', 'affordance-fixture-pkg');
  mkdirSync(pkg, { recursive: true });
  writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: 'affordance-fixture-pkg', version: '1.0.0', types: 'index.d.ts' }));
  writeFileSync(join(pkg, 'index.d.ts'), 'export declare function smooth(values: number[], window: number): number[];\n');
  const { ids, at } = load(["import { smooth } from 'affordance-fixture-pkg';", 'const s: number[] = smooth([1, 2, 3], 2);\nsmooth‸("x");']);
  const diags = service.getDiagnostics(ids[1]);
  assert.deepEqual(diags.map((d) => [d.code, d.range.start.line]), [[2554, 1]], describeDiagnostics(ids));
  // Described as in the cell that imported it (TypeScript's own words for an imported function).
  assert.match(service.getHover(at.cellId, at.position)?.text ?? '', /^\(alias\) function smooth\(values: number\[\], window: number\): number\[\]\nimport smooth$/);
});

void test('positions map through CRLF line ends', () => {
  const { ids } = load(['const a = 1;\r\nconst b: string = a;\r\n']);
  const [d] = service.getDiagnostics(ids[0]);
  assert.deepEqual(d?.range, { start: { line: 1, character: 6 }, end: { line: 1, character: 7 } });
});

void test('nothing is reported inside the generated text, even when a cell ends in an open comment', () => {
  const { ids } = load(['const a = 1;', 'a\n/* unterminated']);
  for (const d of service.getDiagnostics(ids[1])) {
    assert.ok(d.range.end.line <= 1, `diagnostic outside the cell: ${JSON.stringify(d)}`);
  }
});

void test('top-level declarations are collected the way the session keeps them', () => {
  const sf = ts.createSourceFile('c.ts', "import d, { e as f } from 'x';\nimport * as ns from 'y';\nconst { a, b: [c] } = o;\nlet l;\nvar v;\nfunction fn() { var inner; }\nclass K {}\ninterface I {}\ntype T = 1;\nenum E {}\nnamespace N {}\nexport const ex = 1;\n{ const blockScoped = 1; var inBlock = 1; }\nfor (var k = 0; k < 1; k++) {}\nconst g = () => { var inArrow; };", ts.ScriptTarget.ES2022, true);
  const got = collectTopLevelDeclarations(sf).map((d) => `${d.name}:${d.kind}${d.keyword ? `:${d.keyword}` : ''}${d.exported ? ':exported' : ''}${d.untyped ? ':untyped' : ''}`);
  assert.deepEqual(got, ['d:alias', 'f:alias', 'ns:alias', 'a:variable:const', 'c:variable:const', 'l:variable:let:untyped', 'v:variable:var:untyped', 'fn:alias', 'K:alias', 'I:alias', 'T:alias', 'E:alias', 'N:alias', 'ex:variable:const:exported', 'inBlock:variable:var', 'k:variable:var', 'g:variable:const']);
});

// --- bad input ------------------------------------------------------------------------------------------

void test('bad input: duplicate cell ids are named', () => {
  assert.throws(() => service.setCells([{ id: 'dup', text: '' }, { id: 'dup', text: '' }]), /cell id dup appears twice \(cells 0 and 1\)/);
});

void test('bad input leaves the service as it was', () => {
  const { ids } = load(['const kept = 1;', 'const k: number = kept;']);
  assert.throws(() => service.setCells([{ id: 'fresh', text: 'const other = 1;' }, { id: 'fresh', text: '' }]), /appears twice/);
  assert.deepEqual(service.cellIds(), ids);
  assert.throws(() => service.getHover('fresh', { line: 0, character: 0 }), /no cell with id fresh/);
  assert.equal(describeDiagnostics(ids), '');
});

void test('bad input: a cell without text is named', () => {
  assert.throws(() => service.setCells([{ id: 'ok', text: '' }, { id: 'broken', text: undefined as unknown as string }]), /cell 1 \(broken\) has text of type undefined/);
});

void test('bad input: an unknown cell id is named', () => {
  load(['const a = 1;']);
  assert.throws(() => service.getHover('no-such-cell', { line: 0, character: 0 }), /no cell with id no-such-cell/);
});

void test('bad input: a types folder that was not built says how to build it', () => {
  assert.throws(() => new NotebookLanguageService({ notebookDir, typesDir: join(notebookDir, 'no-types') }), /manifest\.json not found.*build-types\.mjs/);
});

// --- the language worker (the bundled dist/types/language-worker.js in a real worker thread) --------------

void test('worker: completions and diagnostics through the bundled worker thread', async () => {
  const client = new LanguageWorkerClient(join(typesDir, 'language-worker.js'));
  try {
    client.open('nb', { notebookDir, typesDir });
    const cells = [
      { id: 'w0', text: "import * as tf from '@tensorflow/tfjs';\nconst rate = 0.5;" },
      { id: 'w1', text: 'const bad: string = rate;\ntf.' },
    ];
    const list = await client.call('nb', 'getCompletions', ['w1', { line: 1, character: 3 }, '.'], cells);
    assert.ok(list?.entries.some((e) => e.name === 'tensor2d'), 'expected tensor2d after tf.');
    const diags = await client.call('nb', 'getDiagnostics', ['w1']);
    assert.deepEqual(diags.map((d) => [d.code, d.range.start]), [[2322, { line: 0, character: 6 }]]);
  } finally {
    await client.dispose();
  }
});

void test('worker: a service error comes back as a rejection and the worker keeps serving', async () => {
  const client = new LanguageWorkerClient(join(typesDir, 'language-worker.js'));
  try {
    client.open('nb', { notebookDir, typesDir });
    await assert.rejects(client.call('nb', 'getDiagnostics', ['x'], [{ id: 'x', text: '' }, { id: 'x', text: '' }]), /cell id x appears twice/);
    assert.deepEqual(await client.call('nb', 'getDiagnostics', ['y'], [{ id: 'y', text: 'const ok = 1;' }]), []);
  } finally {
    await client.dispose();
  }
});

void test('worker: when the worker dies, pending calls fail with the reason and the next call starts a new one', async () => {
  const logged: string[] = [];
  const client = new LanguageWorkerClient(join(typesDir, 'language-worker.js'), (m) => logged.push(m));
  try {
    client.open('nb', { notebookDir, typesDir });
    const cells = [{ id: 'a', text: 'const a = 1;' }, { id: 'b', text: 'const b: string = a;' }];
    assert.equal((await client.call('nb', 'getDiagnostics', ['b'], cells)).length, 1);
    const worker = (client as unknown as { worker: Worker }).worker;
    const pending = client.call('nb', 'getDiagnostics', ['b'], cells);
    await worker.terminate();
    await assert.rejects(pending, /language worker: exited with code 1/);
    assert.ok(logged.some((m) => /a new one starts/.test(m)), logged.join('\n'));
    // A fresh worker re-opens the notebook.
    assert.equal((await client.call('nb', 'getDiagnostics', ['b'], cells))[0]?.code, 2322);
  } finally {
    await client.dispose();
  }
});

void test('worker: a missing worker bundle says how to build it', async () => {
  const client = new LanguageWorkerClient(join(notebookDir, 'no-worker.js'));
  client.open('nb', { notebookDir, typesDir });
  await assert.rejects(client.call('nb', 'cellIds', []), /no-worker\.js not found.*build-types\.mjs/);
  await client.dispose();
});

void test('worker: calling a notebook that was not opened is an error', async () => {
  const client = new LanguageWorkerClient(join(typesDir, 'language-worker.js'));
  await assert.rejects(client.call('never-opened', 'cellIds', []), /notebook never-opened was not opened/);
  await client.dispose();
});

void test('the sample notebooks check clean: no diagnostic in any code cell', () => {
  const samplesDir = join(root, 'samples');
  const notebooks = readdirSync(samplesDir).filter((f) => f.endsWith('.ipynb'));
  assert.ok(notebooks.length >= 3, `expected the three samples in ${samplesDir}, found ${notebooks.join(', ')}`);
  for (const name of notebooks) {
    const nb = JSON.parse(readFileSync(join(samplesDir, name), 'utf8')) as { cells: { cell_type: string; source: string | string[] }[] };
    const cells = nb.cells
      .filter((c) => c.cell_type === 'code')
      .map((c, i) => ({ id: `${name}#${i}`, text: Array.isArray(c.source) ? c.source.join('') : c.source }));
    const sampleService = new NotebookLanguageService({ notebookDir: samplesDir, typesDir });
    try {
      sampleService.setCells(cells);
      const found = cells.flatMap((c) => sampleService.getDiagnostics(c.id).map((d) => `${c.id}:${d.range.start.line + 1}: ${d.message}`));
      assert.deepEqual(found, [], `${name} has diagnostics`);
    } finally {
      sampleService.dispose();
    }
  }
});
