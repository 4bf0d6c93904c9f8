/**
 * The shared memory between the kernel's main thread and its interrupt worker. The worker may only
 * post `Runtime.terminateExecution` while the main thread is running a cell's JavaScript; a termination
 * that lands elsewhere would kill the kernel's own code.
 */

/** Int32 slots of the shared buffer. */
export const Slot = {
  /** One of {@link CellState}. */
  state: 0,
  /** Sequence number of the running cell (0: none). */
  seq: 1,
  /** Sequence number of the last interrupt request the main thread has handled. */
  ack: 2,
} as const;

export const CellState = {
  /** No cell code on the stack. */
  idle: 0,
  /** A cell's code is (or is about to be) on the stack. */
  running: 1,
  /** The worker has posted terminateExecution; the main thread must let it land in cell code. */
  terminating: 2,
} as const;

export const SLOT_COUNT = 3;

/** Messages from the worker to the main thread. */
export type WorkerMessage =
  | { type: 'interrupt'; seq: number }
  | { type: 'terminated'; seq: number }
  | { type: 'log'; text: string };

/** Data given to the worker when it starts. */
export interface WorkerData {
  shared: SharedArrayBuffer;
  /** File descriptor of the interrupt pipe opened by the host. */
  fd: number;
  /** How long the main thread may take to acknowledge an interrupt before the cell is terminated. */
  ackTimeoutMs: number;
}
