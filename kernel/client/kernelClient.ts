/**
 * One kernel child process and the JSON-RPC connection to it (Node only; used by the VS Code
 * extension and by the CLI).
 *
 * The child is spawned with stdio ['ignore', 'pipe', 'pipe', 'pipe', 'ipc']: JSON-RPC runs over the IPC
 * channel, fd 3 carries interrupt bytes, and stdout/stderr carry only raw bytes from native code, which
 * go to the running cell. Every way the process can end (exit, crash by signal, out of memory, spawn
 * error, broken pipe) goes through one close path that fails the running and queued requests with a
 * {@link KernelProcessExitedError}.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { createMessageConnection, IPCMessageReader, IPCMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node';
import {
  INTERRUPT_BYTE,
  Methods,
  type BackendChoice,
  type ClearDisplayParams,
  type DisplayParams,
  type ExecuteParams,
  type ExecuteResult,
  type InitializeParams,
  type KernelInfo,
  type MimeBundle,
  type RuntimeInfo,
  type StatusParams,
  type StreamName,
  type StreamParams,
} from '../protocol';
import { KernelProcessExitedError, KernelStartError } from './errors';

/** Options of {@link KernelClient.start}. */
export interface KernelClientOptions {
  /** Folder of the notebook: the kernel's working directory and where modules are resolved from. */
  notebookDir: string;
  backend: BackendChoice;
  /** Path to dist/kernel.js. */
  kernelScript: string;
  /** Node executable. @default process.execPath (run with ELECTRON_RUN_AS_NODE=1 inside VS Code) */
  nodePath?: string;
  /** Extra environment variables for the kernel. */
  env?: NodeJS.ProcessEnv;
  /** How long start-up may take before the process is killed. @default 30000 */
  startTimeoutMs?: number;
  /** Stream text per cell beyond this is truncated. @default 1000000 */
  maxOutputChars?: number;
  /** Extra folder searched for native tfjs packages. */
  nativeModulesPath?: string;
  /** Start-up progress, as lines for a status message. */
  onProgress?: (message: string) => void;
}

/** Where a running cell's outputs go, as they happen. */
export interface CellCallbacks {
  onStream(name: StreamName, text: string): void;
  /** `executeResult`: the value of the cell's last expression (saved as Jupyter's execute_result). */
  onDisplay(displayId: string, bundle: MimeBundle, update: boolean, executeResult?: boolean): void;
  onClearDisplay(displayId: string): void;
}

interface PendingExecute {
  cellId: string;
  callbacks: CellCallbacks;
}

const STDERR_TAIL_LINES = 20;

/** Keeps the last lines written to a stream. */
class TailBuffer {
  private text = '';
  push(chunk: string): void {
    this.text += chunk;
    if (this.text.length > 64 * 1024) this.text = this.text.slice(-32 * 1024);
  }
  tail(lines = STDERR_TAIL_LINES): string {
    return this.text.split('\n').filter((l, i, all) => l !== '' || i < all.length - 1).slice(-lines).join('\n');
  }
}

/**
 * The kernel's environment: the host's, without the host's Node options (a debugger flag there would
 * open a port or stop the kernel at start-up), plus the caller's variables.
 */
function kernelEnv(extra: NodeJS.ProcessEnv | undefined): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.NODE_OPTIONS;
  delete env.VSCODE_INSPECTOR_OPTIONS;
  return { ...env, ...extra, ELECTRON_RUN_AS_NODE: '1' };
}

/** A started kernel process. Create it with {@link KernelClient.start}. */
export class KernelClient {
  private kernelInfo: KernelInfo | undefined;
  private readonly connection: MessageConnection;
  private readonly stderr = new TailBuffer();
  private readonly running: PendingExecute[] = [];
  private lastCallbacks: CellCallbacks | undefined;
  /** Callbacks of recent cells by id, for output that arrives after a cell's result. */
  private readonly recent = new Map<string, CellCallbacks>();
  private readonly statusListeners = new Set<(s: StatusParams) => void>();
  private readonly exitListeners = new Set<(e: KernelProcessExitedError) => void>();
  private closeError: KernelProcessExitedError | undefined;
  private readonly closedPromise: Promise<KernelProcessExitedError>;
  private resolveClosed!: (e: KernelProcessExitedError) => void;
  private readonly rejecters = new Set<(e: Error) => void>();

  private constructor(
    private readonly child: ChildProcess,
    private readonly options: KernelClientOptions,
  ) {
    this.closedPromise = new Promise((r) => (this.resolveClosed = r));
    this.connection = createMessageConnection(new IPCMessageReader(child), new IPCMessageWriter(child));
    this.connection.onNotification(Methods.stream, (p: StreamParams) => this.target(p.cellId)?.onStream(p.name, p.text));
    this.connection.onNotification(Methods.display, (p: DisplayParams) => this.target(p.cellId)?.onDisplay(p.displayId, p.bundle, p.update, p.executeResult === true));
    this.connection.onNotification(Methods.clearDisplay, (p: ClearDisplayParams) => this.target(p.cellId)?.onClearDisplay(p.displayId));
    this.connection.onNotification(Methods.status, (p: StatusParams) => {
      for (const l of this.statusListeners) l(p);
    });
    // A broken channel with a live process: the process is of no use any more.
    this.connection.onClose(() => {
      if (!this.closeError && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    this.connection.onError(() => undefined);

    child.stdout?.setEncoding('utf8');
    child.stderr?.setEncoding('utf8');
    child.stdout?.on('data', (t: string) => this.rawOutput('stdout', t));
    child.stderr?.on('data', (t: string) => {
      this.stderr.push(t);
      this.rawOutput('stderr', t);
    });
    const interruptPipe = child.stdio[3] as Writable | null | undefined;
    interruptPipe?.on('error', () => undefined);

    child.on('error', (e: NodeJS.ErrnoException) => {
      // Spawn failure (bad node path, missing permissions) or a failed kill: one close path.
      if (child.pid === undefined || e.code === 'ENOENT' || e.code === 'EACCES') {
        this.afterClose(null, null, `could not be started (${e.code ?? e.message}: ${this.nodePath}): ${e.message}`);
      }
    });
    child.on('exit', (code, signal) => {
      // Let the last stderr bytes arrive before the tail is taken.
      const done = (): void => this.afterClose(code, signal);
      if (child.stderr && !child.stderr.readableEnded) {
        const t = setTimeout(done, 200);
        child.stderr.once('end', () => {
          clearTimeout(t);
          done();
        });
      } else done();
    });
    this.connection.listen();
  }

  private get nodePath(): string {
    return this.options.nodePath || process.execPath;
  }

  /**
   * Spawns the kernel and waits until it is ready.
   * @throws KernelStartError for bad options, a failed spawn, a failed initialize or a start-up timeout
   */
  static async start(options: KernelClientOptions): Promise<KernelClient> {
    const started = performance.now();
    const progress = options.onProgress ?? (() => undefined);
    if (!options.notebookDir || !existsSync(options.notebookDir) || !statSync(options.notebookDir).isDirectory()) {
      throw new KernelStartError(`notebookDir: expected an existing folder, got "${options.notebookDir}"`);
    }
    if (!options.kernelScript || !existsSync(options.kernelScript)) {
      throw new KernelStartError(`kernelScript: no kernel bundle at "${options.kernelScript}" (run \`npm run build\` to create dist/kernel.js)`);
    }
    const nodePath = options.nodePath || process.execPath;
    if (options.nodePath && !existsSync(options.nodePath)) {
      throw new KernelStartError(`nodePath: no Node executable at "${options.nodePath}" (setting affordanceLab.nodePath)`);
    }
    const timeoutMs = options.startTimeoutMs ?? 30_000;
    progress(`starting the kernel process (${nodePath})`);
    let child: ChildProcess;
    try {
      child = spawn(nodePath, [options.kernelScript], {
        cwd: options.notebookDir,
        env: kernelEnv(options.env),
        stdio: ['ignore', 'pipe', 'pipe', 'pipe', 'ipc'],
        windowsHide: true,
      });
    } catch (e) {
      throw new KernelStartError(`could not start the kernel process with "${nodePath}": ${(e as Error).message}`);
    }
    const client = new KernelClient(child, options);
    progress(`loading TensorFlow.js (backend ${options.backend})`);
    const params: InitializeParams = {
      notebookDir: options.notebookDir,
      backend: options.backend,
      nativeModulesPath: options.nativeModulesPath,
      maxOutputChars: options.maxOutputChars ?? 1_000_000,
    };
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), timeoutMs)));
    try {
      const outcome = await Promise.race([client.request<KernelInfo>(Methods.initialize, params), timeout, client.closedPromise]);
      if (outcome === 'timeout') {
        await client.kill();
        throw new KernelStartError(
          `The kernel did not become ready within ${(timeoutMs / 1000).toFixed(1)} s (node ${nodePath}, script ${options.kernelScript}); it was stopped. ` +
            'Setting affordanceLab.kernelStartTimeoutSeconds raises the limit.',
          client.stderr.tail(),
        );
      }
      if (outcome instanceof KernelProcessExitedError) {
        throw new KernelStartError(`The kernel process did not start: ${outcome.message.replace(/^The kernel process died: /, '')}`);
      }
      client.kernelInfo = outcome;
      progress(`kernel ready: ${outcome.runtime.backend} on ${outcome.runtime.device} in ${Math.round(performance.now() - started)} ms`);
      return client;
    } catch (e) {
      if (e instanceof KernelStartError) throw e;
      if (e instanceof KernelProcessExitedError) throw new KernelStartError(`The kernel process did not start: ${e.message.replace(/^The kernel process died: /, '')}`);
      await client.kill();
      throw new KernelStartError(`The kernel failed to initialize: ${(e as Error).message}`, client.stderr.tail());
    } finally {
      clearTimeout(timer);
    }
  }

  /** What the kernel reported when it became ready. */
  get info(): KernelInfo {
    if (!this.kernelInfo) throw new Error('KernelClient.info before start() resolved');
    return this.kernelInfo;
  }

  /** Process id of the kernel (undefined when the spawn failed). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Whether the process has ended. */
  get exited(): boolean {
    return this.closeError !== undefined;
  }

  /** The last lines the kernel wrote to stderr. */
  stderrTail(): string {
    return this.stderr.tail();
  }

  /**
   * Runs a cell. Outputs reach `callbacks` as they happen; the promise resolves with the result once
   * every output of the cell has been delivered. Cells run one at a time in the order submitted.
   * @throws KernelProcessExitedError when the process ends first
   */
  execute(params: ExecuteParams, callbacks: CellCallbacks): Promise<ExecuteResult> {
    if (this.closeError) return Promise.reject(this.closeError);
    const entry: PendingExecute = { cellId: params.cellId, callbacks };
    this.running.push(entry);
    this.lastCallbacks = callbacks;
    this.recent.delete(params.cellId);
    this.recent.set(params.cellId, callbacks);
    if (this.recent.size > 100) this.recent.delete(this.recent.keys().next().value as string);
    return this.request<ExecuteResult>(Methods.execute, params).finally(() => {
      const i = this.running.indexOf(entry);
      if (i >= 0) this.running.splice(i, 1);
    });
  }

  /** Asks the kernel to interrupt the running cell (cooperatively, then by stopping its code). */
  interrupt(): void {
    if (this.closeError) return;
    const pipe = this.child.stdio[3] as Writable | null | undefined;
    if (pipe?.writable) pipe.write(Buffer.from([INTERRUPT_BYTE]));
    this.request(Methods.interrupt, undefined).catch(() => undefined);
  }

  /** How many timers the cells left scheduled (their output may still arrive). */
  pending(): Promise<number> {
    return this.request<number>(Methods.pending, undefined);
  }

  /** A fresh runtime snapshot (backend, device, live memory). */
  runtimeInfo(): Promise<RuntimeInfo> {
    return this.request<RuntimeInfo>(Methods.runtimeInfo, undefined);
  }

  /** Busy/idle notifications of the kernel (with tensor memory). Returns a function that unsubscribes. */
  onStatus(listener: (status: StatusParams) => void): () => void {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  }

  /** Called once when the process ends, however it ends. Returns a function that unsubscribes. */
  onExit(listener: (error: KernelProcessExitedError) => void): () => void {
    if (this.closeError) {
      const e = this.closeError;
      queueMicrotask(() => listener(e));
      return () => undefined;
    }
    this.exitListeners.add(listener);
    return () => this.exitListeners.delete(listener);
  }

  /** Resolves when the process has ended. */
  whenExited(): Promise<KernelProcessExitedError> {
    return this.closedPromise;
  }

  /** Asks the kernel to shut down, kills it if it does not, and waits until the process has exited. */
  async dispose(): Promise<void> {
    if (this.closeError) return;
    const graceful = this.request(Methods.shutdown, undefined).catch(() => undefined);
    const exited = await Promise.race([graceful.then(() => this.waitExit(2000)), this.waitExit(2500)]);
    if (!exited) await this.kill();
  }

  /** Kills the process at once (SIGKILL) and waits for it to be gone. */
  async kill(): Promise<void> {
    if (this.closeError) return;
    if (this.child.pid !== undefined) this.child.kill('SIGKILL');
    await this.closedPromise;
  }

  private waitExit(ms: number): Promise<boolean> {
    if (this.closeError) return Promise.resolve(true);
    return new Promise((resolve) => {
      const t = setTimeout(() => resolve(false), ms);
      void this.closedPromise.then(() => {
        clearTimeout(t);
        resolve(true);
      });
    });
  }

  /** A request that fails with the close error if the process ends before it is answered. */
  private request<R>(method: string, params: unknown): Promise<R> {
    if (this.closeError) return Promise.reject(this.closeError);
    return new Promise<R>((resolve, reject) => {
      const fail = (e: Error): void => reject(e);
      this.rejecters.add(fail);
      const p = params === undefined ? this.connection.sendRequest<R>(method) : this.connection.sendRequest<R>(method, params);
      p.then(
        (r) => {
          this.rejecters.delete(fail);
          resolve(r);
        },
        (e: unknown) => {
          this.rejecters.delete(fail);
          reject(this.closeError ?? (e instanceof Error ? e : new Error(String(e))));
        },
      );
    });
  }

  /** Output for a cell id: the running cell's callbacks, or the last cell's for late output. */
  private target(cellId: string): CellCallbacks | undefined {
    return this.running.find((r) => r.cellId === cellId)?.callbacks ?? this.recent.get(cellId) ?? this.lastCallbacks;
  }

  private rawOutput(name: StreamName, text: string): void {
    // Pipe bytes may arrive just after the cell's result (they travel apart from the IPC channel).
    const cell = this.running[0]?.callbacks ?? this.lastCallbacks;
    cell?.onStream(name, text);
  }

  /** The one close path. */
  private afterClose(exitCode: number | null, signal: NodeJS.Signals | null, reason?: string): void {
    if (this.closeError) return;
    const error = new KernelProcessExitedError(exitCode, signal, this.stderr.tail(), reason);
    this.closeError = error;
    for (const reject of [...this.rejecters]) reject(error);
    this.rejecters.clear();
    this.running.length = 0;
    this.connection.dispose();
    this.child.stdout?.destroy();
    this.child.stderr?.destroy();
    (this.child.stdio[3] as Writable | null | undefined)?.destroy();
    this.resolveClosed(error);
    for (const l of this.exitListeners) l(error);
    this.exitListeners.clear();
  }
}
