/**
 * The end-to-end scenarios inside a desktop VS Code's extension host (started by test/vscode/runTests.ts
 * through @vscode/test-electron, which downloads VS Code: developer machines only). A minimal runner, no
 * mocha: each scenario is an async function; all run in order, failures are collected and reported, and
 * `run()` rejects when any failed so that VS Code exits non-zero.
 *
 * Scenarios drive VS Code through its API (open the notebook, select the kernel by command, execute
 * cells by command) and read the cells' outputs and execution summaries. Pixels and the renderers' DOM
 * are checked by the code-server suite in test/e2e, which sees the output webview.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';

const CONTROLLER = { id: 'affordance-lab-kernel', extension: 'affordance-lab.affordance-lab' };
const MIME = {
  heatmap: 'application/vnd.affordance-lab.heatmap.v1+json',
  keypoints: 'application/vnd.affordance-lab.keypoints.v1+json',
  metrics: 'application/vnd.affordance-lab.metrics.v1+json',
  training: 'application/vnd.affordance-lab.training.v1+json',
};

function env(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: start this suite with \`npm run test:vscode\``);
  return v;
}

const nonce = env('AFFORDANCE_LAB_E2E_NONCE');
const workspace = env('AFFORDANCE_LAB_E2E_WORKSPACE');
const startedAt = Number(env('AFFORDANCE_LAB_E2E_STARTED'));

async function waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function open(name: string): Promise<vscode.NotebookEditor> {
  const doc = await vscode.workspace.openNotebookDocument(vscode.Uri.file(join(workspace, name)));
  const editor = await vscode.window.showNotebookDocument(doc);
  // Acts on the active notebook editor, the one just shown.
  await vscode.commands.executeCommand('notebook.selectKernel', CONTROLLER);
  return editor;
}

/** Starts executing cells [start, end) without waiting for them to finish. */
function execute(editor: vscode.NotebookEditor, start: number, end = start + 1): Thenable<unknown> {
  return vscode.commands.executeCommand('notebook.cell.execute', { ranges: [{ start, end }], document: editor.notebook.uri });
}

/** Decoded text of every output item of a cell, by MIME type. */
function items(cell: vscode.NotebookCell): { mime: string; text: string }[] {
  const dec = new TextDecoder();
  return cell.outputs.flatMap((o) => o.items.map((i) => ({ mime: i.mime, text: dec.decode(i.data) })));
}

function textOf(cell: vscode.NotebookCell): string {
  return items(cell)
    .map((i) => i.text)
    .join('\n');
}

async function waitText(cell: vscode.NotebookCell, re: RegExp, timeoutMs = 60_000): Promise<RegExpMatchArray> {
  try {
    return await waitFor(`cell ${cell.index} output matching ${re}`, () => textOf(cell).match(re) ?? undefined, timeoutMs);
  } catch (e) {
    throw new Error(`${(e as Error).message}; outputs: ${textOf(cell).slice(0, 2000)}`);
  }
}

async function waitDone(cell: vscode.NotebookCell, timeoutMs = 60_000): Promise<boolean> {
  return waitFor(`cell ${cell.index} to finish`, () => cell.executionSummary?.success, timeoutMs);
}

function payload<T>(cell: vscode.NotebookCell, mime: string): T | undefined {
  const item = items(cell).find((i) => i.mime === mime);
  return item ? (JSON.parse(item.text) as T) : undefined;
}

function fresh(stamp: string | undefined): void {
  assert.ok(Number(stamp) >= startedAt, `stamp ${stamp} is older than this run: stale output`);
}

async function closeAll(): Promise<void> {
  await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  await vscode.commands.executeCommand('workbench.action.closeAllEditors');
}

const scenarios: [string, () => Promise<void>][] = [
  [
    'TypeScript cells print to stdout and keep state',
    async () => {
      const ed = await open('state.ipynb');
      await execute(ed, 1, 3);
      const cell = ed.notebook.cellAt(2);
      const m = await waitText(cell, /second counter=(\d+) twice=(\d+) nonce=(\w+) stamp=(\d+)/);
      assert.equal(m[1], '42');
      assert.equal(m[3], nonce);
      fresh(m[4]);
      assert.equal(await waitDone(cell), true);
    },
  ],
  [
    'a heatmap output carries the hot disc of the fixture',
    async () => {
      const ed = await open('heatmap.ipynb');
      await execute(ed, 1);
      const cell = ed.notebook.cellAt(1);
      await waitText(cell, /heatmap sent nonce=\w+ stamp=(\d+)/);
      const p = await waitFor('the heatmap output', () => payload<{ maps: { width: number; data: string }[] }>(cell, MIME.heatmap));
      const bytes = Buffer.from(p.maps[0].data, 'base64');
      assert.equal(bytes[12 * 64 + 48], 255, 'map (48, 12) is hot');
      assert.equal(bytes[40 * 64 + 10], 0, 'map (10, 40) is cold');
    },
  ],
  [
    'a keypoint output has 17 joints and the contacts',
    async () => {
      const ed = await open('keypoints.ipynb');
      await execute(ed, 1);
      const cell = ed.notebook.cellAt(1);
      const p = await waitFor('the keypoints output', () => payload<{ keypoints: unknown[]; contacts: { points: unknown[] }[] }>(cell, MIME.keypoints));
      assert.equal(p.keypoints.length, 17);
      assert.equal(p.contacts.reduce((n, c) => n + c.points.length, 0), 3);
    },
  ],
  [
    'a per-class metrics output names every class',
    async () => {
      const ed = await open('metrics.ipynb');
      await execute(ed, 1);
      const cell = ed.notebook.cellAt(1);
      const p = await waitFor('the metrics output', () => payload<{ runs: { results: { Seen?: { perClass: Record<string, unknown> } } }[] }>(cell, MIME.metrics));
      assert.deepEqual(Object.keys(p.runs[0].results.Seen?.perClass ?? {}), ['bench', 'bicycle', 'skateboard']);
    },
  ],
  [
    'a training output is updated in place, step by step',
    async () => {
      const ed = await open('training.ipynb');
      void execute(ed, 1);
      const cell = ed.notebook.cellAt(1);
      for (let step = 0; step <= 3; step++) {
        await waitFor(`training step ${step}`, () => (payload<{ step: number }>(cell, MIME.training)?.step === step ? true : undefined));
        assert.equal(cell.outputs.filter((o) => o.items.some((i) => i.mime === MIME.training)).length, 1, 'one training output, replaced in place');
        if (step < 3) writeFileSync(join(workspace, `ack-${step}`), '');
      }
      assert.equal(payload<{ state: string }>(cell, MIME.training)?.state, 'done');
      assert.equal(await waitDone(cell), true);
    },
  ],
  [
    'train() on the nano model updates its output in place and an interrupt stops it at a step boundary',
    async () => {
      const ed = await open('nano-training.ipynb');
      await execute(ed, 1);
      assert.equal(await waitDone(ed.notebook.cellAt(1), 180_000), true);
      void execute(ed, 2);
      const cell = ed.notebook.cellAt(2);
      const first = await waitFor('a first step', () => {
        const step = payload<{ step: number }>(cell, MIME.training)?.step ?? 0;
        return step >= 1 ? step : undefined;
      }, 120_000);
      await waitFor('a later step', () => ((payload<{ step: number }>(cell, MIME.training)?.step ?? 0) > first ? true : undefined), 120_000);
      await vscode.commands.executeCommand('affordance-lab.interruptKernel');
      assert.equal(await waitDone(cell, 60_000), false, 'an interrupted cell does not end as a success');
      const last = payload<{ state: string; step: number }>(cell, MIME.training);
      assert.equal(last?.state, 'interrupted');
      await execute(ed, 3);
      const m = await waitText(ed.notebook.cellAt(3), /after training model=(\w+) last step (\d+) stamp=(\d+)/);
      assert.equal(m[1], 'nano');
      assert.equal(Number(m[2]), last?.step);
      fresh(m[3]);
    },
  ],
  [
    'an interrupt stops a busy loop and an awaiting loop; the kernel keeps working',
    async () => {
      const ed = await open('interrupt.ipynb');
      await execute(ed, 1);
      await waitDone(ed.notebook.cellAt(1));
      void execute(ed, 2);
      await waitFor('the busy loop', () => (existsSync(join(workspace, 'busy-started')) ? true : undefined));
      await vscode.commands.executeCommand('affordance-lab.interruptKernel');
      assert.equal(await waitDone(ed.notebook.cellAt(2), 30_000), false, 'an interrupted cell does not end as a success');
      await execute(ed, 3);
      const m = await waitText(ed.notebook.cellAt(3), /after busy interrupt ticks>0=(\w+) kept (\w+) stamp=(\d+)/);
      assert.equal(m[1], 'true');
      assert.equal(m[2], nonce);
      void execute(ed, 4);
      await waitFor('the async loop', () => (existsSync(join(workspace, 'async-started')) ? true : undefined));
      await vscode.commands.executeCommand('affordance-lab.interruptKernel');
      assert.equal(await waitDone(ed.notebook.cellAt(4), 30_000), false);
      await execute(ed, 5);
      fresh((await waitText(ed.notebook.cellAt(5), /after async interrupt nonce=\w+ stamp=(\d+)/))[1]);
    },
  ],
  [
    'a kernel that exits is reported with its exit code and replaced on the next run',
    async () => {
      const ed = await open('crash.ipynb');
      await execute(ed, 1);
      const alive = await waitText(ed.notebook.cellAt(1), /alive pid=(\d+)/);
      await execute(ed, 2);
      assert.equal(await waitDone(ed.notebook.cellAt(2)), false);
      assert.match(textOf(ed.notebook.cellAt(2)), /\b7\b/, 'the exit code is in the cell');
      await execute(ed, 3);
      const rec = await waitText(ed.notebook.cellAt(3), /recovered pid=(\d+) nonce=\w+ stamp=(\d+)/);
      assert.notEqual(rec[1], alive[1]);
      fresh(rec[2]);
    },
  ],
  [
    'saved outputs are in the file and come back when the notebook is reopened',
    async () => {
      const ed = await open('reload.ipynb');
      await execute(ed, 1);
      const m = await waitText(ed.notebook.cellAt(1), /heatmap sent nonce=\w+ stamp=(\d+)/);
      await ed.notebook.save();
      assert.ok(readFileSync(join(workspace, 'reload.ipynb'), 'utf8').includes(`stamp=${m[1]}`));
      await closeAll();
      const again = await vscode.workspace.openNotebookDocument(vscode.Uri.file(join(workspace, 'reload.ipynb')));
      assert.ok(items(again.cellAt(1)).some((i) => i.mime === MIME.heatmap), 'the heatmap output was saved');
    },
  ],
  [
    'completions in an affordance-ts cell list the library',
    async () => {
      const ed = await open('completion.ipynb');
      const cell = ed.notebook.cellAt(1);
      const pos = cell.document.positionAt(cell.document.getText().indexOf('lab.') + 'lab.'.length);
      const list = await vscode.commands.executeCommand<vscode.CompletionList>('vscode.executeCompletionItemProvider', cell.document.uri, pos, '.');
      const labels = list.items.map((i) => (typeof i.label === 'string' ? i.label : i.label.label));
      assert.ok(labels.includes('display'), `expected "display" among ${labels.slice(0, 20).join(', ')}`);
    },
  ],
];

/** Entry point called by VS Code's test runner in the extension host. */
export async function run(): Promise<void> {
  const failures: string[] = [];
  for (const [name, body] of scenarios) {
    const t0 = Date.now();
    try {
      await body();
      console.log(`ok   ${name} (${Date.now() - t0} ms)`);
    } catch (e) {
      failures.push(name);
      console.error(`FAIL ${name}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    } finally {
      await closeAll().catch(() => undefined);
    }
  }
  console.log(`${scenarios.length - failures.length} passed, ${failures.length} failed`);
  if (failures.length) throw new Error(`${failures.length} scenario(s) failed: ${failures.join('; ')}`);
}
