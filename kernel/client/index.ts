/**
 * The kernel client (Node only, no vscode): start a kernel process, run cells, interrupt, restart.
 * The VS Code extension and the CLI both use {@link KernelSession}.
 */
export { KernelClient, type KernelClientOptions, type CellCallbacks } from './kernelClient';
export { KernelSession, type KernelSessionOptions, type KernelState } from './kernelSession';
export { KernelProcessExitedError, KernelStartError, KernelRestartedError, CellCancelledError, describeExit } from './errors';
export { OutputText } from './outputText';
