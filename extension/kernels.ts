/**
 * One kernel per notebook: started on the first run, stopped when the notebook closes, on restart and
 * when the extension deactivates (awaited, so no kernel process outlives the editor).
 */
import * as vscode from 'vscode';
import * as path from 'node:path';
import type { KernelInfo } from '../kernel/protocol';
import { kernelLaunch, resolveKernelSettings, type KernelSettings } from '../host/settings';
import type { HostSession, KernelState } from '../host/kernelPort';
import { startHostSession } from '../host/session';

/** What the status bar shows for a notebook. */
export interface KernelStatus {
  state: KernelState | 'not started';
  backend?: string;
  info?: KernelInfo;
}

interface Entry {
  session?: HostSession;
  starting?: Promise<HostSession>;
  status: KernelStatus;
  /** Execution counter shown in the cell gutter; reset when the kernel restarts, as in Jupyter. */
  executionCount: number;
  /** The settings the session was started with, to tell whether a restart must pick up new ones. */
  settings?: string;
  /** True while the session restarts its process on purpose: its passing 'dead' state is not a death. */
  restarting?: boolean;
  /** The kernel died: the next cell that runs says that it runs on a fresh one. */
  died?: boolean;
}

/** The kernels of all open notebooks. */
export class NotebookKernels implements vscode.Disposable {
  private readonly entries = new Map<string, Entry>();
  private stopping: Promise<void> = Promise.resolve();
  private readonly changed = new vscode.EventEmitter<vscode.NotebookDocument>();
  /** Fires when a notebook's kernel state changes. */
  readonly onDidChangeStatus = this.changed.event;

  private readonly configWatch: vscode.Disposable;

  constructor(
    private readonly extensionPath: string,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.configWatch = vscode.workspace.onDidChangeConfiguration((e) => {
      if (!e.affectsConfiguration('affordanceLab')) return;
      this.offerRestart().catch((err: unknown) => void vscode.window.showErrorMessage(`Affordance Lab: ${err instanceof Error ? err.message : String(err)}`));
    });
  }

  /** Settings apply when a kernel starts: running kernels keep theirs until they are restarted. */
  private async offerRestart(): Promise<void> {
    const running = vscode.workspace.notebookDocuments.filter((nb) => this.current(nb));
    if (running.length === 0) return;
    const choice = await vscode.window.showInformationMessage(
      `Affordance Lab settings changed. ${running.length === 1 ? 'The running kernel keeps' : `${running.length} running kernels keep`} the old settings until restarted.`,
      'Restart Kernels',
    );
    if (choice !== 'Restart Kernels') return;
    await Promise.all(running.map((nb) => this.restart(nb)));
  }

  status(nb: vscode.NotebookDocument): KernelStatus {
    return this.entries.get(key(nb))?.status ?? { state: 'not started' };
  }

  /** Next execution order number of the notebook. */
  nextExecutionOrder(nb: vscode.NotebookDocument): number {
    return ++this.entry(nb).executionCount;
  }

  /** The running kernel of the notebook, if any (never starts one). */
  current(nb: vscode.NotebookDocument): HostSession | undefined {
    return this.entries.get(key(nb))?.session;
  }

  /** The notebook's kernel, started (with progress in the status bar) if there is none. */
  async ensure(nb: vscode.NotebookDocument): Promise<HostSession> {
    const e = this.entry(nb);
    if (e.session) return e.session;
    e.starting ??= this.start(nb, e).finally(() => (e.starting = undefined));
    return e.starting;
  }

  /** Restarts the notebook's kernel: its state is lost and the execution counter starts again. */
  async restart(nb: vscode.NotebookDocument): Promise<void> {
    const e = this.entries.get(key(nb));
    if (e) e.executionCount = 0;
    if (!e?.session) return;
    if (e.settings !== settingsKey(readSettings())) {
      // Changed settings need a new session: the old one would restart with the options it was made with.
      await this.shutdown(nb);
      await this.ensure(nb);
      return;
    }
    this.setStatus(nb, e, { ...e.status, state: 'starting' });
    e.restarting = true;
    try {
      await e.session.restart();
    } finally {
      e.restarting = false;
    }
    this.setStatus(nb, e, { ...e.status, state: 'idle', info: e.session.info });
  }

  async interrupt(nb: vscode.NotebookDocument): Promise<void> {
    await this.entries.get(key(nb))?.session?.interrupt();
  }

  /** Marks the kernel as gone so that the next run starts a fresh one (after it died). */
  forget(nb: vscode.NotebookDocument): void {
    const e = this.entries.get(key(nb));
    if (!e) return;
    const old = e.session;
    e.session = undefined;
    e.executionCount = 0;
    if (old) e.died = true;
    this.setStatus(nb, e, { ...e.status, state: 'dead' });
    // The process is already gone; dispose only releases the client's resources.
    if (old) void old.dispose().catch((err: unknown) => this.log.warn(`dispose after exit: ${String(err)}`));
  }

  /** Whether the notebook's kernel died since the last cell ran (reading it clears it). */
  takeDeath(nb: vscode.NotebookDocument): boolean {
    const e = this.entries.get(key(nb));
    const died = e?.died === true;
    if (e) e.died = false;
    return died;
  }

  /** Stops the notebook's kernel and waits for its process to exit. */
  async shutdown(nb: vscode.NotebookDocument): Promise<void> {
    const k = key(nb);
    const e = this.entries.get(k);
    this.entries.delete(k);
    if (!e) return;
    const session = e.session ?? (await e.starting?.catch(() => undefined));
    await session?.dispose();
  }

  /**
   * Stops every kernel and waits for all of them (deactivate). A second call (dispose after deactivate)
   * waits for the same processes instead of returning early.
   */
  shutdownAll(): Promise<void> {
    const all = [...this.entries.values()];
    this.entries.clear();
    const stopping = Promise.allSettled(
      all.map(async (e) => {
        const s = e.session ?? (await e.starting?.catch(() => undefined));
        await s?.dispose();
      }),
    );
    this.stopping = Promise.all([this.stopping, stopping]).then(() => undefined);
    return this.stopping;
  }

  dispose(): void {
    void this.shutdownAll();
    this.configWatch.dispose();
    this.changed.dispose();
  }

  private entry(nb: vscode.NotebookDocument): Entry {
    const k = key(nb);
    let e = this.entries.get(k);
    if (!e) {
      e = { status: { state: 'not started' }, executionCount: 0 };
      this.entries.set(k, e);
    }
    return e;
  }

  private async start(nb: vscode.NotebookDocument, e: Entry): Promise<HostSession> {
    const settings = readSettings();
    const launch = kernelLaunch(settings, process.execPath);
    this.setStatus(nb, e, { state: 'starting', backend: settings.backend });
    const notebookDir = nb.uri.scheme === 'file' ? path.dirname(nb.uri.fsPath) : (vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? this.extensionPath);
    this.log.info(`starting kernel for ${nb.uri.toString()} (backend ${settings.backend} from ${settings.backendSource}, node ${launch.nodePath})`);
    try {
      const session = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Window, title: 'Affordance Lab: starting kernel' },
        (progress) =>
          startHostSession({
            notebookDir,
            backend: settings.backend,
            kernelScript: path.join(this.extensionPath, 'dist', 'kernel.js'),
            nodePath: launch.nodePath,
            env: launch.env,
            startTimeoutMs: settings.startTimeoutMs,
            interruptGraceMs: settings.interruptGraceMs,
            maxOutputChars: settings.maxOutputChars,
            nativeModulesPath: settings.nativeModulesPath,
            onProgress: (message) => {
              progress.report({ message });
              this.log.info(message);
            },
          }),
      );
      if (this.entries.get(key(nb)) !== e) {
        // The notebook closed while its kernel was starting.
        await session.dispose();
        throw new Error('the notebook was closed while its kernel was starting');
      }
      e.session = session;
      e.settings = settingsKey(settings);
      session.onState((state) => {
        if (e.session !== session) return;
        if (state === 'dead') {
          if (!e.restarting) this.forget(nb);
        } else this.setStatus(nb, e, { ...e.status, state, info: session.info, backend: session.info?.runtime.backend ?? e.status.backend });
      });
      this.setStatus(nb, e, { state: 'idle', info: session.info, backend: session.info?.runtime.backend ?? settings.backend });
      this.log.info(`kernel ready: pid ${session.info?.pid}, backend ${session.info?.runtime.backend}, ${session.info?.readyMs} ms`);
      return session;
    } catch (err) {
      this.setStatus(nb, e, { state: 'dead', backend: settings.backend });
      // The cell shows the whole message; the notification makes a failed start visible from anywhere.
      const message = err instanceof Error ? err.message : String(err);
      this.log.error(`kernel start failed: ${message}`);
      void vscode.window.showErrorMessage(`Affordance Lab: the kernel did not start. ${message.split('\n')[0]}`);
      throw err;
    }
  }

  private setStatus(nb: vscode.NotebookDocument, e: Entry, status: KernelStatus): void {
    e.status = status;
    this.changed.fire(nb);
  }
}

function settingsKey(s: KernelSettings): string {
  return JSON.stringify(s);
}

function key(nb: vscode.NotebookDocument): string {
  return nb.uri.toString();
}

/** Current settings; throws a SettingsError naming a bad value. */
export function readSettings(): KernelSettings {
  const config = vscode.workspace.getConfiguration('affordanceLab');
  return resolveKernelSettings((k) => config.get(k), process.env);
}
