/**
 * New notebooks: the command that creates one for this kernel, and the blank notebooks VS Code itself
 * creates ("New Jupyter Notebook") that this kernel takes where no other extension provides kernels.
 */
import * as vscode from 'vscode';
import { AFFORDANCE_TS_LANGUAGE_ID, claimsBlankNotebook, JUPYTER_NOTEBOOK_TYPE, kernelProviders, NEW_NOTEBOOK_METADATA } from '../host/languages';

/** Installed extensions other than this one that may provide Jupyter kernels (computed per call: extensions come and go). */
export function otherKernelProviders(selfId: string): string[] {
  return kernelProviders(
    vscode.extensions.all.map((e) => {
      const pkg = e.packageJSON as { activationEvents?: unknown; isBuiltin?: unknown };
      const events = Array.isArray(pkg.activationEvents) ? pkg.activationEvents.filter((x): x is string => typeof x === 'string') : [];
      // VS Code's own extensions carry isBuiltin in their description and the publisher `vscode`.
      return { id: e.id, builtin: pkg.isBuiltin === true || e.id.startsWith('vscode.'), activationEvents: events };
    }),
    selfId,
  );
}

/** Whether VS Code has just created this notebook blank and this kernel is the only one it can show for it. */
export function isBlankForThisKernel(nb: vscode.NotebookDocument, selfId: string): boolean {
  // Saved notebooks never qualify: checked first, so that their edits do not list the installed extensions.
  if (nb.notebookType !== JUPYTER_NOTEBOOK_TYPE || nb.uri.scheme !== 'untitled') return false;
  const cells = nb.getCells().map((c) => ({ code: c.kind === vscode.NotebookCellKind.Code, text: c.document.getText() }));
  return claimsBlankNotebook(nb.uri.scheme, nb.metadata, cells, otherKernelProviders(selfId));
}

/**
 * `affordance-lab.newNotebook` (also under File > New File...): an untitled notebook with one notebook-aware
 * TypeScript cell, this kernel declared in its metadata and selected for it.
 */
export function registerNewNotebookCommand(controllerId: string, selfId: string, log: vscode.LogOutputChannel): vscode.Disposable {
  return vscode.commands.registerCommand('affordance-lab.newNotebook', async () => {
    const data = new vscode.NotebookData([new vscode.NotebookCellData(vscode.NotebookCellKind.Code, '', AFFORDANCE_TS_LANGUAGE_ID)]);
    // The ipynb serializer keeps notebook-level Jupyter metadata under `metadata`.
    data.metadata = { cells: [], metadata: structuredClone(NEW_NOTEBOOK_METADATA), nbformat: 4, nbformat_minor: 5 };
    const doc = await vscode.workspace.openNotebookDocument(JUPYTER_NOTEBOOK_TYPE, data);
    const editor = await vscode.window.showNotebookDocument(doc);
    try {
      await vscode.commands.executeCommand('notebook.selectKernel', { notebookEditor: editor, id: controllerId, extension: selfId });
    } catch (e) {
      // The metadata still preselects the kernel; selecting it here only saves the first run a step.
      log.warn(`new notebook: could not select the kernel: ${e instanceof Error ? e.message : String(e)}`);
    }
  });
}
