/**
 * The kernel commands: restart, restart and run all, interrupt, show runtime info. Each acts on the
 * notebook it was invoked from (the notebook toolbar passes it) or else the active notebook.
 */
import * as vscode from 'vscode';
import type { KernelController } from './controller';
import type { NotebookKernels } from './kernels';
import { formatRuntimeInfo } from '../host/statusText';

/** Finds the target notebook from a command argument (toolbar context or URI), else the active one. */
function targetNotebook(arg: unknown): vscode.NotebookDocument | undefined {
  let uri: vscode.Uri | undefined;
  if (arg instanceof vscode.Uri) uri = arg;
  else if (typeof arg === 'object' && arg !== null) {
    const ctx = arg as { notebookEditor?: { notebookUri?: unknown }; notebook?: { uri?: unknown } };
    const candidate = ctx.notebookEditor?.notebookUri ?? ctx.notebook?.uri;
    if (candidate instanceof vscode.Uri) uri = candidate;
  }
  if (uri) {
    const found = vscode.workspace.notebookDocuments.find((nb) => nb.uri.toString() === uri.toString());
    if (found) return found;
  }
  return vscode.window.activeNotebookEditor?.notebook;
}

function withNotebook(run: (nb: vscode.NotebookDocument) => Promise<void>): (arg: unknown) => Promise<void> {
  return async (arg) => {
    const nb = targetNotebook(arg);
    if (!nb) {
      void vscode.window.showWarningMessage('Affordance Lab: open a notebook first.');
      return;
    }
    try {
      await run(nb);
    } catch (e) {
      void vscode.window.showErrorMessage(`Affordance Lab: ${e instanceof Error ? e.message : String(e)}`);
    }
  };
}

/** Registers the four commands declared in package.json. */
export function registerCommands(kernels: NotebookKernels, controller: KernelController, log: vscode.LogOutputChannel): vscode.Disposable {
  return vscode.Disposable.from(
    vscode.commands.registerCommand('affordance-lab.restartKernel', withNotebook((nb) => kernels.restart(nb))),
    vscode.commands.registerCommand('affordance-lab.interruptKernel', withNotebook((nb) => kernels.interrupt(nb))),
    vscode.commands.registerCommand(
      'affordance-lab.restartAndRunAll',
      withNotebook(async (nb) => {
        await kernels.restart(nb);
        // A cell that was running fails on the restart; its execution must end before the cells are queued again.
        await controller.whenIdle(nb);
        const cells = nb.getCells().filter((c) => c.kind === vscode.NotebookCellKind.Code);
        await controller.runCells(cells, nb);
      }),
    ),
    vscode.commands.registerCommand(
      'affordance-lab.showRuntimeInfo',
      withNotebook(async (nb) => {
        const session = kernels.current(nb);
        if (!session) {
          void vscode.window.showInformationMessage('Affordance Lab: the kernel of this notebook is not running; it starts on the first run.');
          return;
        }
        const text = formatRuntimeInfo(await session.runtimeInfo(), session.info);
        log.info(`runtime info for ${nb.uri.toString()}\n${text}`);
        log.show(true);
        void vscode.window.showInformationMessage(text.split('\n').slice(0, 2).join(' · '));
      }),
    ),
  );
}
