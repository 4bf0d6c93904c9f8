/**
 * The notebook controller: runs TypeScript and JavaScript cells of .ipynb notebooks in the notebook's
 * kernel, in order, with execution order, timing, streaming outputs and interrupts.
 */
import * as vscode from 'vscode';
import type { CellError } from '../kernel/protocol';
import { cellLanguage, JUPYTER_NOTEBOOK_TYPE, prefersThisKernel, SUPPORTED_LANGUAGE_IDS } from '../host/languages';
import { cellLabel, FRESH_KERNEL_NOTICE, hostError, kernelFailure } from '../host/failures';
import { isBlankForThisKernel } from './newNotebook';
import { NotebookOutputView } from './outputView';
import { DEFAULTS } from '../host/settings';
import { readSettings, type NotebookKernels } from './kernels';

export const CONTROLLER_ID = 'affordance-lab-kernel';

interface NotebookRun {
  view: NotebookOutputView;
  /** Runs are chained so that cells run in the order they were asked for, across separate requests. */
  chain: Promise<void>;
  /** Executions created but not finished; cancelled together when a cell fails or the kernel dies. */
  pending: Set<vscode.NotebookCellExecution>;
  /** Executions that have started (a stop on them interrupts the kernel). */
  started: WeakSet<vscode.NotebookCellExecution>;
}

/** Creates the controller and keeps one output view and run queue per notebook. */
export class KernelController implements vscode.Disposable {
  readonly controller: vscode.NotebookController;
  private readonly runs = new Map<vscode.NotebookDocument, NotebookRun>();
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly kernels: NotebookKernels,
    private readonly log: vscode.LogOutputChannel,
    /** This extension's id: blank notebooks are taken only where no other extension provides kernels. */
    private readonly extensionId: string,
  ) {
    const c = vscode.notebooks.createNotebookController(CONTROLLER_ID, JUPYTER_NOTEBOOK_TYPE, 'Affordance Lab (TypeScript)');
    this.controller = c;
    c.supportedLanguages = [...SUPPORTED_LANGUAGE_IDS];
    c.supportsExecutionOrder = true;
    c.description = 'TypeScript cells on TensorFlow.js';
    c.detail = 'Runs cells in a Node process next to the notebook; `affordance-lab` and `@tensorflow/tfjs` are built in.';
    c.executeHandler = (cells, nb) => this.runCells(cells, nb);
    // No interruptHandler: with one, VS Code sends every stop (also on a queued cell, or on a cell waiting
    // for the kernel to start) to it and never cancels the cells' own tokens. Without it, stop reaches the
    // cell it was pressed on: the running cell interrupts the kernel, a queued one is just taken off the
    // queue, and the toolbar's Interrupt cancels them all.
    this.disposables.push(
      c,
      vscode.workspace.onDidOpenNotebookDocument((nb) => this.updateAffinity(nb)),
      // A notebook that gains TypeScript cells (or TypeScript metadata) prefers this kernel from then on.
      vscode.workspace.onDidChangeNotebookDocument((e) => {
        if (e.contentChanges.length > 0 || e.metadata) this.updateAffinity(e.notebook);
      }),
      vscode.workspace.onDidCloseNotebookDocument((nb) => void this.closed(nb)),
    );
    for (const nb of vscode.workspace.notebookDocuments) this.updateAffinity(nb);
  }

  /** Queues cells to run after those already queued for the notebook. */
  runCells(cells: readonly vscode.NotebookCell[], nb: vscode.NotebookDocument): Promise<void> {
    const run = this.run(nb);
    const executions = cells.flatMap((cell) => {
      try {
        const exec = this.controller.createNotebookCellExecution(cell);
        run.pending.add(exec);
        // Stop on a cell that has not started: it leaves the queue at once, the others stay.
        const sub = exec.token.onCancellationRequested(() => {
          sub.dispose();
          if (!run.started.has(exec) && run.pending.delete(exec)) endQuietly(exec, undefined);
        });
        return [exec];
      } catch (e) {
        // The cell is already queued or running: it is not queued twice.
        this.log.info(`cell ${cell.index + 1} not queued: ${e instanceof Error ? e.message : String(e)}`);
        return [];
      }
    });
    const next = run.chain.then(async () => {
      for (const exec of executions) {
        if (!run.pending.has(exec)) continue; // cancelled after an earlier failure
        await this.runCell(exec, nb, run);
      }
    });
    run.chain = next.catch((e: unknown) => this.log.error(`run failed: ${String(e)}`));
    return run.chain;
  }

  dispose(): void {
    for (const run of this.runs.values()) run.view.dispose();
    for (const d of this.disposables) d.dispose();
  }

  private async runCell(exec: vscode.NotebookCellExecution, nb: vscode.NotebookDocument, run: NotebookRun): Promise<void> {
    const cell = exec.cell;
    const cellId = cell.document.uri.toString();
    if (exec.token.isCancellationRequested) {
      // Cancelled while queued: VS Code shows it as never run.
      run.pending.delete(exec);
      endQuietly(exec, undefined);
      return;
    }
    run.started.add(exec);
    exec.executionOrder = this.kernels.nextExecutionOrder(nb);
    exec.start(Date.now());
    await run.view.begin(cellId, cell, exec);
    let success: boolean | undefined = false;
    const cancel = exec.token.onCancellationRequested(() => void this.kernels.interrupt(nb).catch((e: unknown) => this.log.warn(`interrupt: ${String(e)}`)));
    try {
      const problem = this.cannotRun(cell);
      if (problem) {
        run.view.error(cellId, problem);
        return;
      }
      const session = await this.kernels.ensure(nb);
      if (exec.token.isCancellationRequested) {
        // Stopped while the kernel was starting: the cell does not run (the kernel stays up for later runs).
        run.view.stream(cellId, 'stderr', 'Stopped before the kernel had started: the cell did not run.\n');
        success = undefined;
        return;
      }
      if (this.kernels.takeDeath(nb)) run.view.stream(cellId, 'stderr', FRESH_KERNEL_NOTICE);
      const result = await session.execute(
        { cellId, cellLabel: cellLabel(exec.executionOrder), code: cell.document.getText(), language: cellLanguage(cell.document.languageId) ?? 'typescript' },
        {
          onStream: (name, text) => run.view.stream(cellId, name, text),
          onDisplay: (displayId, bundle, update, result) => run.view.display(cellId, displayId, bundle, update, result ? exec.executionOrder : undefined),
          onClearDisplay: (displayId) => run.view.clearDisplay(displayId),
        },
      );
      if (result.status === 'ok') success = true;
      else run.view.error(cellId, result.error ?? hostError('Interrupted', 'The cell was interrupted.'));
    } catch (e) {
      const failure = kernelFailure(e);
      run.view.error(cellId, failure.error);
      if (failure.kernelGone) this.kernels.forget(nb);
    } finally {
      cancel.dispose();
      await run.view.finish(cellId);
      run.pending.delete(exec);
      endQuietly(exec, success, Date.now());
      // As in Jupyter: after a failure the cells queued behind it do not run on a state they did not expect.
      if (success !== true) this.cancelPending(run);
    }
  }

  /** Why a cell cannot run here at all, as the error shown in the cell. */
  private cannotRun(cell: vscode.NotebookCell): CellError | undefined {
    if (!vscode.workspace.isTrusted) {
      return hostError(
        'WorkspaceNotTrusted',
        'Cells are not executed in an untrusted workspace: running a cell runs code on this machine. Trust the workspace (Workspaces: Manage Workspace Trust) to run it.',
      );
    }
    if (!cellLanguage(cell.document.languageId)) {
      return hostError('UnsupportedLanguage', `This kernel runs TypeScript and JavaScript cells; this cell is ${cell.document.languageId}.`);
    }
    return undefined;
  }

  /** Resolves when every cell queued so far for the notebook has finished or was cancelled. */
  async whenIdle(nb: vscode.NotebookDocument): Promise<void> {
    await this.runs.get(nb)?.chain;
  }

  private cancelPending(run: NotebookRun): void {
    for (const exec of run.pending) endQuietly(exec, undefined);
    run.pending.clear();
  }

  private run(nb: vscode.NotebookDocument): NotebookRun {
    let run = this.runs.get(nb);
    if (!run) {
      run = { view: new NotebookOutputView(this.controller, maxOutputChars(), (m) => this.log.warn(m)), chain: Promise.resolve(), pending: new Set(), started: new WeakSet() };
      this.runs.set(nb, run);
    }
    return run;
  }

  private updateAffinity(nb: vscode.NotebookDocument): void {
    if (nb.notebookType !== JUPYTER_NOTEBOOK_TYPE) return;
    const languages = nb.getCells().filter((c) => c.kind === vscode.NotebookCellKind.Code).map((c) => c.document.languageId);
    if (prefersThisKernel(nb.metadata, languages) || isBlankForThisKernel(nb, this.extensionId)) this.controller.updateNotebookAffinity(nb, vscode.NotebookControllerAffinity.Preferred);
  }

  private async closed(nb: vscode.NotebookDocument): Promise<void> {
    const run = this.runs.get(nb);
    this.runs.delete(nb);
    if (run) {
      this.cancelPending(run);
      run.view.dispose();
    }
    await this.kernels.shutdown(nb).catch((e: unknown) => this.log.warn(`shutdown: ${String(e)}`));
  }
}

/** The output limit from the settings, or the default when a setting is invalid (the run reports that). */
function maxOutputChars(): number {
  try {
    return readSettings().maxOutputChars;
  } catch {
    return DEFAULTS.maxOutputChars;
  }
}

/** Ends an execution; when its notebook was closed meanwhile there is nothing left to update. */
function endQuietly(exec: vscode.NotebookCellExecution, success: boolean | undefined, endTime?: number): void {
  try {
    exec.end(success, endTime);
  } catch {
    // The notebook is closed (or the execution already ended): nothing to show.
  }
}
