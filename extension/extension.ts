/** Composition root: builds the services and registers everything in `context.subscriptions`. */
import * as vscode from 'vscode';
import { registerCommands } from './commands';
import { KernelController } from './controller';
import { registerNotebookLanguageFeatures } from './language/index';
import { NotebookKernels } from './kernels';
import { registerNewNotebookCommand } from './newNotebook';
import { registerStatusBar } from './statusBar';

let kernels: NotebookKernels | undefined;

export function activate(context: vscode.ExtensionContext): void {
  const log = vscode.window.createOutputChannel('Affordance Lab', { log: true });
  kernels = new NotebookKernels(context.extensionPath, log);
  const controller = new KernelController(kernels, log, context.extension.id);
  context.subscriptions.push(
    log,
    kernels,
    controller,
    registerStatusBar(kernels, controller.controller),
    registerCommands(kernels, controller, log),
    registerNotebookLanguageFeatures(context, controller.controller),
    registerNewNotebookCommand(controller.controller.id, context.extension.id, log),
  );
}

/** Stops every kernel and waits for the processes to exit, so none outlives the editor. */
export async function deactivate(): Promise<void> {
  await kernels?.shutdownAll();
  kernels = undefined;
}
