/**
 * Status bar item: the active notebook's kernel state and backend; a click shows runtime info.
 */
import * as vscode from 'vscode';
import type { NotebookKernels } from './kernels';
import { statusBarText, statusBarTooltip } from '../host/statusText';

/** Shows the item while a notebook using this kernel is active. */
export function registerStatusBar(kernels: NotebookKernels, controller: vscode.NotebookController): vscode.Disposable {
  const item = vscode.window.createStatusBarItem('affordance-lab.kernelStatus', vscode.StatusBarAlignment.Left, 100);
  item.name = 'Affordance Lab kernel';
  item.command = 'affordance-lab.showRuntimeInfo';
  const selected = new Set<vscode.NotebookDocument>();

  const refresh = (): void => {
    const nb = vscode.window.activeNotebookEditor?.notebook;
    if (!nb || !selected.has(nb)) {
      item.hide();
      return;
    }
    const status = kernels.status(nb);
    item.text = statusBarText(status.state, status.backend);
    item.tooltip = statusBarTooltip(status.state, status.info);
    item.backgroundColor = status.state === 'dead' ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
    item.show();
  };

  const subscriptions = [
    item,
    controller.onDidChangeSelectedNotebooks(({ notebook, selected: isSelected }) => {
      if (isSelected) selected.add(notebook);
      else selected.delete(notebook);
      refresh();
    }),
    vscode.window.onDidChangeActiveNotebookEditor(refresh),
    vscode.workspace.onDidCloseNotebookDocument((nb) => {
      selected.delete(nb);
      refresh();
    }),
    kernels.onDidChangeStatus(refresh),
  ];
  refresh();
  return vscode.Disposable.from(...subscriptions);
}
