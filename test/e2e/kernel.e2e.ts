/**
 * End-to-end scenarios of the controller's lifecycle and the cells' language, in code-server + Chromium:
 * stop on a queued cell takes only that cell off the queue; stop on a cell that waits for its kernel to
 * start cancels it; a notebook the kernel is selected for shows notebook-aware TypeScript in its cells
 * before anything ran. The kernel is started through a Node wrapper that waits 3 s first, so that
 * "while the kernel starts" lasts long enough to press stop in.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CONTROLLER_LABEL, ROOT, VsCodeSession, waitFor, type Notebook } from './harness';

const FIXTURES = join(ROOT, 'test', 'e2e', 'fixtures');
const NOTEBOOKS = ['stop-queued', 'stop-starting', 'language-preselected'].map((n) => ({ path: join(FIXTURES, `${n}.ipynb`) }));
const NOTEBOOK_TS = 'TypeScript (Affordance Lab)';

let vs: VsCodeSession;

/** Presses the stop button of a cell that is queued or running. */
async function stopCell(nb: Notebook, index: number): Promise<void> {
  const row = await nb.reveal(index);
  await row.hover();
  await row.locator('.run-button-container [aria-label^="Stop"], .run-button-container .codicon-notebook-stop').first().click({ timeout: 10_000 });
}

/** The language the cell's status bar names. */
async function cellLanguage(nb: Notebook, index: number): Promise<string> {
  const row = await nb.reveal(index);
  const status = (await row.locator('.cell-statusbar-container').first().innerText({ timeout: 5000 }).catch(() => '')).trim();
  return status.includes(NOTEBOOK_TS) ? NOTEBOOK_TS : status.split('\n').at(-1)?.trim() ?? '';
}

/** The first cell's language once it is notebook-aware TypeScript (waits up to 20 s), else what it shows then. */
async function shownLanguage(nb: Notebook): Promise<string> {
  return waitFor(`cell 0 to be ${NOTEBOOK_TS}`, async () => ((await cellLanguage(nb, 0)) === NOTEBOOK_TS ? NOTEBOOK_TS : undefined), 20_000).catch(async () => cellLanguage(nb, 0));
}

void describe('the controller in VS Code: stop and language', { timeout: 600_000 }, () => {
  before(async () => {
    const bin = mkdtempSync(join(tmpdir(), 'al-slow-node-'));
    const slowNode = join(bin, 'slow-node');
    writeFileSync(slowNode, `#!/bin/sh\nsleep 3\nexec ${JSON.stringify(process.execPath)} "$@"\n`);
    chmodSync(slowNode, 0o755);
    vs = await VsCodeSession.start({ fixtures: NOTEBOOKS, label: 'kernel-e2e', settings: { 'affordanceLab.nodePath': slowNode, 'affordanceLab.backend': 'cpu' } });
  });

  after(async () => {
    await vs?.close();
  });

  void test('a notebook whose kernel is preselected shows notebook-aware TypeScript before any run', async () => {
    const nb = await vs.openNotebook('language-preselected.ipynb');
    try {
      await nb.selectKernel();
      const shown = await shownLanguage(nb);
      await vs.screenshot('language-preselected');
      assert.equal(shown, NOTEBOOK_TS);
    } finally {
      await nb.close();
    }
  });

  void test("a new notebook from VS Code's own \"New Jupyter Notebook\" starts with notebook-aware TypeScript", async () => {
    // VS Code's command creates an untitled notebook with one empty Python cell; no other extension here
    // provides kernels, so the toolbar shows this one and the cell must not stay Python until the first run.
    const nb = await vs.newNotebook('Create: New Jupyter Notebook', 'Untitled-');
    try {
      const shown = await shownLanguage(nb);
      await vs.screenshot('new-jupyter-notebook');
      assert.equal(shown, NOTEBOOK_TS);
    } finally {
      await nb.close();
    }
  });

  void test('"New Affordance Lab Notebook" opens a notebook with this kernel selected and a cell that runs', async () => {
    const nb = await vs.newNotebook('Affordance Lab: New Affordance Lab Notebook', 'Untitled-');
    try {
      const toolbar = nb.editor.locator('.notebook-toolbar-container');
      await waitFor('the toolbar to name the kernel', async () => (((await toolbar.innerText({ timeout: 2000 }).catch(() => '')) ?? '').includes(CONTROLLER_LABEL) ? true : undefined), 20_000);
      assert.equal(await cellLanguage(nb, 0), NOTEBOOK_TS);
      await nb.cell(0).locator('.monaco-editor .view-lines').click();
      await vs.page.keyboard.type(`const answer: number = 40 + 2;\nconsole.log(\`new notebook ${vs.nonce}: \${answer}\`);`);
      await nb.runCell(0);
      await vs.waitForOutput(new RegExp(`new notebook ${vs.nonce}: 42`), 90_000);
      await vs.screenshot('new-affordance-lab-notebook');
      assert.equal(await nb.waitForState(0, ['success', 'error'], 60_000), 'success');
    } finally {
      await nb.close();
    }
  });

  void test('stop on a queued cell takes only that cell off the queue; the running cell goes on', async () => {
    const nb = await vs.openNotebook('stop-queued.ipynb');
    try {
      await nb.selectKernel();
      await nb.runAll();
      await vs.waitForOutput(new RegExp(`first started ${vs.nonce}`), 90_000);
      assert.equal(await nb.state(1), 'pending');
      await stopCell(nb, 1);
      await nb.waitForState(0, ['success', 'error'], 60_000);
      await nb.waitForState(2, ['success', 'error'], 60_000);
      const text = await vs.outputText();
      await vs.screenshot('stop-queued');
      assert.equal(await nb.state(0), 'success', 'the running cell was not interrupted');
      assert.match(text, /first done/);
      assert.equal(await nb.state(1), 'idle', 'the stopped cell did not run');
      assert.doesNotMatch(text, /second ran/);
      assert.equal(await nb.state(2), 'success', 'the cell queued behind it still ran');
      assert.match(text, /third ran/);
    } finally {
      await nb.close();
    }
  });

  void test('stop on a cell that waits for its kernel to start cancels it', async () => {
    const nb = await vs.openNotebook('stop-starting.ipynb');
    try {
      await nb.selectKernel();
      await nb.runCell(0);
      await nb.waitForState(0, 'executing', 10_000);
      await stopCell(nb, 0);
      await nb.waitForState(0, ['idle', 'success', 'error'], 60_000);
      // The kernel, once up, must not run it later either.
      await new Promise((r) => setTimeout(r, 6000));
      const text = await vs.outputText().catch(() => '');
      await vs.screenshot('stop-starting');
      assert.doesNotMatch(text, new RegExp(`it ran ${vs.nonce}`));
      assert.notEqual(await nb.state(0), 'success');
    } finally {
      await nb.close();
    }
  });
});
