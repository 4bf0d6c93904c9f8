/**
 * Drives a real VS Code: code-server (the web build of VS Code, installed by scripts/install-code-server.sh)
 * in headless Debian Chromium through playwright-core, the way a person uses it: the packaged .vsix is
 * installed, a workspace of fresh notebook copies is opened, notebooks are opened with Ctrl+P, cells run
 * from the notebook toolbar, and outputs are read inside the notebook's output webview.
 *
 * Every session starts from nothing: a new user-data folder (autosave, telemetry, update checks, trust
 * prompts and the start page off), a new extensions folder, a scratch HOME/XDG/TMPDIR, and new copies of
 * the fixture notebooks with a per-run nonce written into their sources, so an output that shows the
 * nonce can only come from this run.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { chromium, type Browser, type FrameLocator, type Locator, type Page } from 'playwright-core';

/** Repository root (this file is test/e2e/harness.ts; `__filename` is right under tsx whether imported from ESM or CJS). */
export const ROOT = resolve(__filename, '..', '..', '..');
/** Where scripts/install-code-server.sh puts code-server. */
export const CODE_SERVER_BIN = join(ROOT, '.vscode-test', 'code-server', 'node_modules', '.bin', 'code-server');
/** The packaged extension that `npm run package` writes (E2E_VSIX names another). */
export const VSIX = process.env.E2E_VSIX ?? join(ROOT, 'out', 'affordance-lab.vsix');
/** Screenshots and the code-server log, kept as CI artifacts. */
export const ARTIFACTS = join(ROOT, 'out', 'e2e');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** The notebook controller contributed by extension/ and the extension's id. */
export const CONTROLLER = { id: 'affordance-lab-kernel', extension: 'affordance-lab.affordance-lab' } as const;
export const CONTROLLER_LABEL = 'Affordance Lab (TypeScript)';

/**
 * Commands bound to keys in the fresh profile. The command palette cannot pass arguments (kernel
 * selection needs them), and a key press is what a person does; these chords are free in VS Code.
 */
export const KEYS = {
  selectKernel: 'Control+Alt+Shift+K',
  runAll: 'Control+Alt+Shift+R',
  interrupt: 'Control+Alt+Shift+I',
  revertAndClose: 'Control+Alt+Shift+W',
  reloadWindow: 'Control+Alt+Shift+L',
  save: 'Control+Alt+Shift+S',
} as const;

function keybindings(): unknown[] {
  const chord = (k: string): string => k.toLowerCase().replace('control', 'ctrl');
  return [
    { key: chord(KEYS.selectKernel), command: 'notebook.selectKernel', args: { id: CONTROLLER.id, extension: CONTROLLER.extension } },
    { key: chord(KEYS.runAll), command: 'notebook.execute' },
    { key: chord(KEYS.interrupt), command: 'notebook.cancelExecution' },
    { key: chord(KEYS.revertAndClose), command: 'workbench.action.revertAndCloseActiveEditor' },
    { key: chord(KEYS.reloadWindow), command: 'workbench.action.reloadWindow' },
    { key: chord(KEYS.save), command: 'workbench.action.files.save' },
  ];
}

const SETTINGS: Record<string, unknown> = {
  // VS Code web autosaves outputs back into the .ipynb; a later run could then "pass" on stale outputs.
  'files.autoSave': 'off',
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'security.workspace.trust.enabled': false,
  'security.workspace.trust.startupPrompt': 'never',
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'workbench.enableExperiments': false,
  'workbench.editor.enablePreview': false,
  'window.restoreWindows': 'none',
  'git.enabled': false,
  'typescript.disableAutomaticTypeAcquisition': true,
  'chat.commandCenter.enabled': false,
  'notebook.confirmDeleteRunningCell': false,
  // Outputs are drawn at full height so that a screenshot shows them.
  'notebook.output.scrolling': false,
};

/** Polls `probe` until it returns a value other than undefined; the error names what was awaited and the last state seen. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000, intervalMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
      last = undefined;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      const why = last instanceof Error ? `: last error: ${last.message.split('\n')[0]}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

const groups = new Set<number>();
let exitHooks = false;

/**
 * code-server runs in its own process group, so it would outlive a test process that is killed (a timeout,
 * Ctrl+C): on exit and on SIGINT/SIGTERM every group still registered is killed.
 */
function killOnExit(pid: number): void {
  groups.add(pid);
  if (exitHooks) return;
  exitHooks = true;
  const killAll = (): void => {
    for (const g of groups) {
      try {
        process.kill(-g, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  };
  process.on('exit', killAll);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      killAll();
      process.kill(process.pid, sig);
    });
  }
}

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => res(port));
    });
  });
}

function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Signals a whole process group and waits until it is empty (SIGKILL after `graceMs`). */
export async function killGroup(pid: number, graceMs = 5000): Promise<void> {
  if (!groupAlive(pid)) return;
  try {
    process.kill(-pid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + graceMs;
  while (groupAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  if (groupAlive(pid)) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
    while (groupAlive(pid)) await new Promise((r) => setTimeout(r, 50));
  }
}

/** A notebook to copy into the workspace: `__E2E_NONCE__` and `__E2E_DIR__` in its text are replaced. */
export interface Fixture {
  /** Path of the source notebook. */
  path: string;
  /** Name in the workspace; defaults to the file's own name. */
  name?: string;
}

export interface StartOptions {
  fixtures: Fixture[];
  /** Extra user settings on top of the fresh-profile defaults. */
  settings?: Record<string, unknown>;
  /** Prefix of screenshot names, e.g. the suite's name. */
  label?: string;
}

/** One code-server + one Chromium page, shared by the scenarios of a suite. */
export class VsCodeSession {
  readonly startedAt = Date.now();
  private shot = 0;
  private constructor(
    /** Written into every notebook copy; an output that shows it comes from this run. */
    readonly nonce: string,
    readonly scratch: string,
    readonly workspace: string,
    readonly url: string,
    private readonly server: ChildProcess,
    private readonly browser: Browser,
    readonly page: Page,
    private readonly label: string,
    readonly logFile: string,
    private readonly profileArgs: string[],
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  /** Installs the .vsix into a fresh profile, starts code-server and opens the workspace in Chromium. */
  static async start(options: StartOptions): Promise<VsCodeSession> {
    if (!existsSync(CODE_SERVER_BIN)) throw new Error(`code-server is not installed at ${CODE_SERVER_BIN}: run \`bash scripts/install-code-server.sh\` first`);
    if (!existsSync(VSIX)) throw new Error(`${VSIX} is missing: run \`npm run package\` first (npm run test:e2e does)`);
    if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: install Debian's chromium package or set CHROMIUM_PATH`);
    mkdirSync(ARTIFACTS, { recursive: true });
    const label = options.label ?? 'e2e';
    const scratch = mkdtempSync(join(tmpdir(), 'affordance-lab-e2e-'));
    const dirs = {
      home: join(scratch, 'home'),
      tmp: join(scratch, 'tmp'),
      userData: join(scratch, 'user-data'),
      extensions: join(scratch, 'extensions'),
      workspace: join(scratch, 'workspace'),
    };
    for (const d of Object.values(dirs)) mkdirSync(d, { recursive: true });
    mkdirSync(join(dirs.userData, 'User'), { recursive: true });
    writeFileSync(join(dirs.userData, 'User', 'settings.json'), JSON.stringify({ ...SETTINGS, ...options.settings }, null, 2));
    writeFileSync(join(dirs.userData, 'User', 'keybindings.json'), JSON.stringify(keybindings(), null, 2));

    const env: NodeJS.ProcessEnv = {
      ...process.env,
      HOME: dirs.home,
      XDG_CONFIG_HOME: join(dirs.home, '.config'),
      XDG_DATA_HOME: join(dirs.home, '.local', 'share'),
      XDG_CACHE_HOME: join(dirs.home, '.cache'),
      XDG_RUNTIME_DIR: join(dirs.tmp, 'run'),
      TMPDIR: dirs.tmp,
    };
    mkdirSync(env.XDG_RUNTIME_DIR as string, { recursive: true, mode: 0o700 });
    // The test process itself may run under `npm run`, whose variables would leak into the kernel.
    for (const k of Object.keys(env)) if (k.startsWith('npm_')) delete env[k];

    const nonce = randomBytes(6).toString('hex');
    for (const f of options.fixtures) {
      const text = readFileSync(f.path, 'utf8').replaceAll('__E2E_NONCE__', nonce).replaceAll('__E2E_DIR__', dirs.workspace);
      writeFileSync(join(dirs.workspace, f.name ?? basename(f.path)), text);
    }

    const common = ['--user-data-dir', dirs.userData, '--extensions-dir', dirs.extensions];
    const inst = spawnSync(CODE_SERVER_BIN, ['--install-extension', VSIX, ...common], { env, encoding: 'utf8', timeout: 60_000 });
    if (inst.status !== 0 || !/successfully installed/i.test(inst.stdout + inst.stderr)) {
      throw new Error(`installing ${VSIX} into code-server failed (exit ${inst.status}):\n${inst.stdout}\n${inst.stderr}`);
    }

    const port = await freePort();
    const logFile = join(ARTIFACTS, `${label}-code-server.log`);
    const log = createWriteStream(logFile);
    const server = spawn(
      CODE_SERVER_BIN,
      ['--bind-addr', `127.0.0.1:${port}`, '--auth', 'none', '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust', '--disable-getting-started-override', ...common, dirs.workspace],
      { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    server.stdout?.pipe(log);
    server.stderr?.pipe(log);
    if (server.pid) killOnExit(server.pid);
    const url = `http://127.0.0.1:${port}`;
    let browser: Browser | undefined;
    try {
      await waitFor(
        `code-server /healthz on ${url} (log: ${logFile})`,
        async () => {
          if (server.exitCode !== null) throw new Error(`code-server exited with ${server.exitCode}; see ${logFile}`);
          const r = await fetch(`${url}/healthz`);
          return r.ok ? true : undefined;
        },
        30_000,
      );
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        headless: true,
        env,
        args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      });
      const context = await browser.newContext({ viewport: { width: 1440, height: 1000 } });
      const page = await context.newPage();
      const s = new VsCodeSession(nonce, scratch, dirs.workspace, url, server, browser, page, label, logFile, common, env);
      await s.loadWorkbench();
      return s;
    } catch (e) {
      await browser?.close().catch(() => undefined);
      if (server.pid) await killGroup(server.pid);
      rmSync(scratch, { recursive: true, force: true });
      throw e;
    }
  }

  /** Opens the workspace in the page and waits for the workbench. */
  async loadWorkbench(): Promise<void> {
    await this.page.goto(`${this.url}/?folder=${encodeURIComponent(this.workspace)}`);
    await this.page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
    await this.waitForWorkbenchIdle();
  }

  /**
   * Reloads the window with the "Developer: Reload Window" command and waits for the new workbench. A marker
   * set on the old page must be gone afterwards: the page really was loaded again.
   */
  async reloadWindow(): Promise<void> {
    const page = this.page;
    await page.evaluate(() => {
      (window as unknown as { e2eBeforeReload?: boolean }).e2eBeforeReload = true;
    });
    await page.keyboard.press(KEYS.reloadWindow);
    await waitFor(
      'the window to load again',
      async () => ((await page.evaluate(() => (window as unknown as { e2eBeforeReload?: boolean }).e2eBeforeReload).catch(() => true)) ? undefined : true),
      60_000,
      250,
    );
    await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
    await this.waitForWorkbenchIdle();
  }

  private async waitForWorkbenchIdle(): Promise<void> {
    // The explorer shows the workspace once the window has restored its state.
    await this.page.locator('.explorer-folders-view, .explorer-viewlet').first().waitFor({ timeout: 60_000 }).catch(() => undefined);
  }

  /** Saves a screenshot of the page as out/e2e/<label>-<nn>-<step>.png and returns its path. */
  async screenshot(step: string): Promise<string> {
    const file = join(ARTIFACTS, `${this.label}-${String(++this.shot).padStart(2, '0')}-${step.replace(/[^a-z0-9-]+/gi, '-')}.png`);
    await this.page.screenshot({ path: file }).catch(() => undefined);
    return file;
  }

  /** Opens a workspace file with Ctrl+P and waits until its notebook editor shows its cells. */
  async openNotebook(name: string): Promise<Notebook> {
    await this.quickPick('Control+P', name, name, `the quick open box for ${name}`);
    return this.visibleNotebook(name);
  }

  /** Runs a command by its title from the command palette (F1), e.g. "Create: New Jupyter Notebook". */
  async runCommand(title: string): Promise<void> {
    await this.quickPick('F1', `>${title}`, title, `the command palette to offer "${title}"`);
  }

  /** Creates a notebook with a command (see runCommand) and waits for its editor, whose tab starts with `name` (Untitled-). */
  async newNotebook(command: string, name: string): Promise<Notebook> {
    await this.runCommand(command);
    await this.page.locator('.tabs-container .tab.active', { hasText: name }).first().waitFor({ timeout: 30_000 });
    return this.visibleNotebook(name);
  }

  /** Opens the quick input with `key`, types `text`, and picks the first row that shows `row`. */
  private async quickPick(key: string, text: string, row: string, what: string): Promise<void> {
    const page = this.page;
    await waitFor(
      what,
      async () => {
        await page.keyboard.press('Escape');
        await page.keyboard.press(key);
        const input = page.locator('.quick-input-widget input');
        await input.waitFor({ state: 'visible', timeout: 3000 });
        await input.fill(text);
        await page.locator('.quick-input-list .monaco-list-row', { hasText: row }).first().waitFor({ state: 'visible', timeout: 5000 });
        await page.keyboard.press('Enter');
        return true;
      },
      30_000,
      500,
    );
  }

  /** The visible notebook editor, once it shows a cell. */
  private async visibleNotebook(name: string): Promise<Notebook> {
    const editor = this.page.locator('.notebook-editor').filter({ visible: true }).first();
    // A row may be laid out with no box yet (markdown rows render late): wait for any visible one.
    await editor.locator('.cell-list-container .monaco-list-row').filter({ visible: true }).first().waitFor({ timeout: 30_000 });
    return new Notebook(this, name, editor);
  }

  /** The document inside the notebook's output webview (two iframes down), where renderers draw. */
  outputs(): FrameLocator {
    return this.page.frameLocator('iframe.webview').frameLocator('#active-frame');
  }

  /** Text of every output in the visible notebook's webview ('' before the webview exists). */
  async outputText(): Promise<string> {
    const frames = this.page.locator('iframe.webview');
    if ((await frames.count()) === 0) return '';
    return (await this.outputs().locator('body').innerText({ timeout: 2000 })) ?? '';
  }

  /** Waits until the outputs' text matches `re`; returns the match. */
  async waitForOutput(re: RegExp, timeoutMs = 60_000): Promise<RegExpMatchArray> {
    let last = '';
    try {
      return await waitFor(
        `an output matching ${re}`,
        async () => {
          last = await this.outputText();
          return last.match(re) ?? undefined;
        },
        timeoutMs,
      );
    } catch (e) {
      throw new Error(`${(e as Error).message}\noutputs were:\n${last.slice(0, 4000)}`);
    }
  }

  /** `code-server --list-extensions --show-versions` for this session's profile, e.g. ["affordance-lab.affordance-lab@0.1.0"]. */
  listExtensions(): string[] {
    const r = spawnSync(CODE_SERVER_BIN, ['--list-extensions', '--show-versions', ...this.profileArgs], { env: this.env, encoding: 'utf8', timeout: 60_000 });
    if (r.status !== 0) throw new Error(`code-server --list-extensions failed (exit ${r.status}): ${r.stderr}`);
    return r.stdout.split('\n').map((l) => l.trim()).filter((l) => /^[\w.-]+@[\w.-]+$/.test(l));
  }

  /** Closes the browser and the whole code-server process group, waits for it, removes the scratch folder. */
  async close(): Promise<void> {
    await this.browser.close().catch(() => undefined);
    if (this.server.pid) {
      await killGroup(this.server.pid);
      groups.delete(this.server.pid);
    }
    // E2E_KEEP=1 keeps the profile (its logs: user-data/logs/) for a look after a failure.
    if (process.env.E2E_KEEP === '1') console.log(`e2e profile kept in ${this.scratch}`);
    else rmSync(this.scratch, { recursive: true, force: true });
  }
}

export type CellState = 'success' | 'error' | 'executing' | 'pending' | 'idle';

/** One open notebook editor. */
export class Notebook {
  constructor(
    readonly session: VsCodeSession,
    readonly name: string,
    readonly editor: Locator,
  ) {}

  /** Row of the cell at `index` (0-based) in the notebook list. */
  cell(index: number): Locator {
    return this.editor.locator(`.cell-list-container .monaco-list-row[data-index="${index}"]`);
  }

  /** Selects the Affordance Lab controller and waits until the toolbar names it. */
  async selectKernel(): Promise<void> {
    const page = this.session.page;
    const toolbar = this.editor.locator('.notebook-toolbar-container');
    const named = async (): Promise<boolean> => ((await toolbar.innerText({ timeout: 2000 }).catch(() => '')) ?? '').includes(CONTROLLER_LABEL);
    // The notebook's metadata declares TypeScript, so the controller's affinity usually selects it by itself:
    // give that a moment before selecting it by command (which also fails while the notebook is still loading).
    if (await waitFor('affinity', async () => ((await named()) ? true : undefined), 5000).catch(() => false)) return;
    await waitFor(
      `the notebook toolbar to show the kernel "${CONTROLLER_LABEL}"`,
      async () => {
        if (await named()) return true;
        await this.focus();
        await page.keyboard.press(KEYS.selectKernel);
        await page.waitForTimeout(1000);
        return undefined;
      },
      30_000,
      500,
    );
  }

  /** Gives the notebook's editor group focus (its tab), so that commands act on this notebook. */
  async focus(): Promise<void> {
    const page = this.session.page;
    await page.keyboard.press('Escape');
    await page.locator('.tabs-container .tab.active').first().click({ timeout: 5000 });
  }

  /** Runs every cell with the toolbar's "Run All". */
  async runAll(): Promise<void> {
    const button = this.editor.locator('.notebook-toolbar-container [aria-label^="Run All"]').first();
    if (await button.isVisible().catch(() => false)) await button.click();
    else {
      await this.focus();
      await this.session.page.keyboard.press(KEYS.runAll);
    }
  }

  /**
   * Scrolls the notebook until the cell's row is rendered and visible. The cell list is virtualised: rows
   * far from the viewport (below a tall output, say) are not in the DOM at all.
   */
  async reveal(index: number): Promise<Locator> {
    const page = this.session.page;
    const row = this.cell(index);
    const list = await this.editor.locator('.cell-list-container').first().boundingBox();
    if (!list) throw new Error(`the cell list of ${this.name} is not laid out`);
    // Wheel over the list's left gutter: over an output's webview the wheel events are forwarded by the
    // webview and get lost while a tall output is being laid out.
    await page.mouse.move(list.x + 6, list.y + list.height / 2);
    // Tall outputs (the samples' dataset views) are laid out as they come into view and push the list
    // down while it scrolls: allow many steps, and log where it got stuck.
    let lastTop = -1;
    let stuck = 0;
    for (let i = 0; i < 400; i++) {
      const top = await this.editor.locator('.cell-list-container .monaco-scrollable-element').first().evaluate((e) => e.scrollTop).catch(() => -1);
      stuck = top === lastTop ? stuck + 1 : 0;
      lastTop = top;
      if (stuck === 10) await page.mouse.move(list.x + list.width / 2, list.y + list.height / 2);
      // Scroll until the row's top (where its run button and status are) sits inside the viewport.
      const box = (await row.count()) > 0 ? await row.boundingBox() : null;
      let delta: number;
      if (box && box.y >= list.y && box.y + 60 <= list.y + list.height) return row;
      if (box) delta = box.y < list.y ? -200 : 200;
      else {
        const shown = await this.editor.locator('.cell-list-container .monaco-list-row').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-index'))));
        // The row is not rendered yet: move by most of a page at a time.
        const page80 = Math.round(list.height * 0.8);
        delta = shown.length === 0 || Math.max(...shown) < index ? page80 : -page80;
      }
      await page.mouse.wheel(0, delta);
      await page.waitForTimeout(100);
    }
    throw new Error(`cell ${index} of ${this.name} could not be scrolled into view`);
  }

  /** Runs one cell through its own run button. */
  async runCell(index: number): Promise<void> {
    const row = await this.reveal(index);
    await row.hover();
    const button = row.locator('.run-button-container [aria-label^="Execute Cell"], .run-button-container .codicon-notebook-execute').first();
    await button.click({ timeout: 10_000 });
  }

  /** Interrupts the running cells with the toolbar's "Interrupt" button (the command when the button is hidden). */
  async interrupt(): Promise<void> {
    const button = this.editor.locator('.notebook-toolbar-container [aria-label^="Interrupt"]').first();
    if (await button.isVisible().catch(() => false)) await button.click();
    else {
      await this.session.page.keyboard.press(KEYS.interrupt);
    }
  }

  /** The run state that the cell's status bar shows. */
  async state(index: number): Promise<CellState> {
    const row = (await this.cell(index).count()) > 0 ? this.cell(index) : await this.reveal(index);
    const has = async (sel: string): Promise<boolean> => (await row.locator(sel).count()) > 0;
    if (await has('.codicon-notebook-state-executing, .codicon-modifier-spin')) return 'executing';
    if (await has('.codicon-notebook-state-pending')) return 'pending';
    if (await has('.codicon-notebook-state-error')) return 'error';
    if (await has('.codicon-notebook-state-success')) return 'success';
    return 'idle';
  }

  /** Waits until the cell shows `want` and returns it. */
  async waitForState(index: number, want: CellState | CellState[], timeoutMs = 60_000): Promise<CellState> {
    const wanted = Array.isArray(want) ? want : [want];
    let last: CellState = 'idle';
    try {
      return await waitFor(
        `cell ${index} of ${this.name} to be ${wanted.join(' or ')}`,
        async () => {
          last = await this.state(index);
          return wanted.includes(last) ? last : undefined;
        },
        timeoutMs,
      );
    } catch (e) {
      throw new Error(`${(e as Error).message} (it is ${last})`);
    }
  }

  /** Saves with the save command (what Ctrl+S runs). */
  async save(): Promise<void> {
    await this.focus();
    await this.session.page.keyboard.press(KEYS.save);
  }

  /** Closes the editor, dropping unsaved changes, so that the next notebook's webview is the only one. */
  async close(): Promise<void> {
    await this.focus().catch(() => undefined);
    await this.session.page.keyboard.press(KEYS.revertAndClose);
    await waitFor(`${this.name} to close`, async () => ((await this.session.page.locator('iframe.webview').count()) === 0 ? true : undefined), 15_000).catch(() => undefined);
  }
}
