/**
 * A notebook's kernel as the hosts (the VS Code controller and the CLI) use it: starts the process on
 * first use, runs cells one at a time in the order submitted, escalates interrupts, and starts a fresh
 * process on the next run after the old one died or was restarted.
 */
import type { ExecuteParams, ExecuteResult, KernelInfo, RuntimeInfo } from '../protocol';
import { KernelClient, type CellCallbacks, type KernelClientOptions } from './kernelClient';
import { CellCancelledError, KernelProcessExitedError, KernelRestartedError } from './errors';

/** Options of {@link KernelSession}: those of the client, plus the interrupt grace period. */
export interface KernelSessionOptions extends KernelClientOptions {
  /** How long an interrupt waits for the running cell before the kernel is killed. @default 3000 */
  interruptGraceMs?: number;
}

/** Kernel states shown to the user. */
export type KernelState = 'starting' | 'idle' | 'busy' | 'dead';

interface QueuedCell {
  params: ExecuteParams;
  sink: CellCallbacks;
  resolve(r: ExecuteResult): void;
  reject(e: Error): void;
}

/**
 * Runs the cells of one notebook on one kernel process at a time.
 *
 * - `execute` queues a cell; the kernel starts on first use (and again after it died or was restarted).
 * - When the process dies, the running cell fails with a {@link KernelProcessExitedError} (exit code,
 *   signal, stderr tail) and queued cells fail with {@link CellCancelledError}.
 * - `interrupt` cancels queued cells and stops the running cell cooperatively; if it has not finished
 *   after `interruptGraceMs`, the kernel is killed and the cell fails with a {@link KernelRestartedError}
 *   saying that state was lost.
 */
export class KernelSession {
  private client: KernelClient | undefined;
  private starting: Promise<KernelClient> | undefined;
  private readonly queue: QueuedCell[] = [];
  private runningCell: { cell: QueuedCell; done: Promise<void> } | undefined;
  private pumping = false;
  private currentState: KernelState = 'dead';
  private readonly stateListeners = new Set<(s: KernelState) => void>();
  /** Why the current client is being killed on purpose (the error its running cell gets instead). */
  private killReason: Error | undefined;
  private disposed = false;

  constructor(readonly options: KernelSessionOptions) {}

  /** What the kernel reported when it became ready (undefined while none is running). */
  get info(): KernelInfo | undefined {
    return this.client && !this.client.exited ? this.client.info : undefined;
  }

  /** The current state. */
  get state(): KernelState {
    return this.currentState;
  }

  /** State changes (starting, idle, busy, dead). Returns a function that unsubscribes. */
  onState(listener: (state: KernelState) => void): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  /** Starts the kernel if none is running and resolves when it is ready. */
  async start(): Promise<KernelInfo> {
    return (await this.ensureClient()).info;
  }

  /**
   * Queues a cell; resolves with its result after it ran.
   * @throws KernelProcessExitedError when the kernel died while the cell ran
   * @throws KernelRestartedError when an interrupt had to kill the kernel
   * @throws CellCancelledError when the cell never ran
   * @throws KernelStartError when the kernel could not be started
   */
  execute(params: ExecuteParams, sink: CellCallbacks): Promise<ExecuteResult> {
    if (this.disposed) return Promise.reject(new CellCancelledError('the kernel session was closed'));
    return new Promise<ExecuteResult>((resolve, reject) => {
      this.queue.push({ params, sink, resolve, reject });
      void this.pump();
    });
  }

  /**
   * Interrupts the running cell and cancels the cells queued behind it. Resolves when the running cell
   * stopped; if it does not stop within the grace period, the kernel is killed (the cell says that
   * state was lost).
   */
  async interrupt(): Promise<void> {
    const running = this.runningCell;
    const client = this.client;
    // Interrupting a run stops it: cells queued behind the running one do not start.
    this.cancelQueued('an earlier cell was interrupted');
    if (!running || !client) return;
    client.interrupt();
    const grace = this.options.interruptGraceMs ?? 3000;
    let timer: NodeJS.Timeout | undefined;
    const stopped = await Promise.race([running.done.then(() => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), grace)))]);
    clearTimeout(timer);
    if (stopped || this.client !== client) return;
    const seconds = (grace / 1000).toFixed(grace % 1000 === 0 ? 0 : 1);
    this.cancelQueued('the kernel was restarted after an interrupt');
    await this.killClient(
      client,
      new KernelRestartedError(`The cell did not stop within ${seconds} s of the interrupt, so the kernel was restarted: all variables and imports of earlier cells are lost. Queued cells were cancelled.`),
    );
  }

  /** Stops the kernel (cancelling queued cells and failing the running one) and starts a fresh one. */
  async restart(): Promise<void> {
    this.cancelQueued('the kernel was restarted');
    if (this.client) await this.stopClient(this.client, new KernelRestartedError('The kernel was restarted while the cell was running; its state was lost.'));
    await this.ensureClient();
  }

  /** How many timers the cells left scheduled; 0 when no kernel runs. */
  async pending(): Promise<number> {
    const client = this.client;
    if (!client || client.exited) return 0;
    return client.pending().catch(() => 0);
  }

  /** Runtime snapshot of the running kernel (starts one if needed). */
  async runtimeInfo(): Promise<RuntimeInfo> {
    return (await this.ensureClient()).runtimeInfo();
  }

  /** Cancels queued cells, stops the kernel and waits until its process has exited. */
  async dispose(): Promise<void> {
    this.disposed = true;
    this.cancelQueued('the kernel session was closed');
    const starting = this.starting;
    if (starting) await starting.catch(() => undefined);
    if (this.client) await this.stopClient(this.client, new CellCancelledError('the kernel session was closed'));
    this.setState('dead');
  }

  private setState(s: KernelState): void {
    if (s === this.currentState) return;
    this.currentState = s;
    for (const l of this.stateListeners) l(s);
  }

  private ensureClient(): Promise<KernelClient> {
    if (this.client && !this.client.exited) return Promise.resolve(this.client);
    if (this.disposed) return Promise.reject(new CellCancelledError('the kernel session was closed'));
    if (!this.starting) {
      this.setState('starting');
      this.starting = KernelClient.start(this.options).then(
        (client) => {
          this.starting = undefined;
          this.client = client;
          this.killReason = undefined;
          client.onStatus((s) => {
            if (this.client === client) this.setState(s.state);
          });
          client.onExit(() => {
            if (this.client === client) {
              this.client = undefined;
              this.setState('dead');
            }
          });
          this.setState(this.runningCell ? 'busy' : 'idle');
          return client;
        },
        (e: unknown) => {
          this.starting = undefined;
          this.setState('dead');
          throw e;
        },
      );
    }
    return this.starting;
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.queue.length > 0) {
        const cell = this.queue.shift() as QueuedCell;
        let client: KernelClient;
        try {
          client = await this.ensureClient();
        } catch (e) {
          // The kernel could not start: this cell and the ones behind it cannot run.
          cell.reject(e as Error);
          this.cancelQueued('the kernel could not be started');
          continue;
        }
        let finished!: () => void;
        const done = new Promise<void>((r) => (finished = r));
        this.runningCell = { cell, done };
        try {
          cell.resolve(await client.execute(cell.params, cell.sink));
        } catch (e) {
          const reason = this.killReason;
          if (e instanceof KernelProcessExitedError) {
            cell.reject(reason ?? e);
            if (!reason) this.cancelQueued('the kernel died while an earlier cell was running');
          } else cell.reject(e as Error);
        } finally {
          this.runningCell = undefined;
          finished();
        }
      }
    } finally {
      this.pumping = false;
    }
  }

  private cancelQueued(reason: string): void {
    const cancelled = this.queue.splice(0);
    for (const c of cancelled) c.reject(new CellCancelledError(reason));
  }

  private async killClient(client: KernelClient, reason: Error): Promise<void> {
    this.killReason = reason;
    await client.kill();
    if (this.client === client) this.client = undefined;
    this.setState('dead');
  }

  private async stopClient(client: KernelClient, reason: Error): Promise<void> {
    this.killReason = reason;
    await client.dispose();
    if (this.client === client) this.client = undefined;
  }
}
