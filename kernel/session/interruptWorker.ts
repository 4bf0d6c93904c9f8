/**
 * The kernel's interrupt worker (bundled to dist/kernel-interrupt-worker.js).
 *
 * A busy synchronous loop in a cell blocks the kernel's event loop, so nothing on the main thread can
 * notice an interrupt. This worker thread reads interrupt bytes from the pipe the host opened on fd 3,
 * tells the main thread (which aborts the cell's AbortSignal when its event loop is free), and when the
 * main thread does not acknowledge within a short time while it is running cell code, stops that code
 * with `Runtime.terminateExecution` through its own inspector session connected to the main thread.
 * V8 unwinds the cell's stack only; the session's variables stay.
 */
import { Session } from 'node:inspector';
import { Socket } from 'node:net';
import { parentPort, workerData } from 'node:worker_threads';
import { INTERRUPT_BYTE } from '../protocol';
import { CellState, Slot, type WorkerData, type WorkerMessage } from './interruptState';

const data = workerData as WorkerData;
const shared = new Int32Array(data.shared);
const port = parentPort;
if (!port) throw new Error('interruptWorker must run as a worker thread');

/** Connected only while a termination is under way: a session left connected at exit makes Node wait for it. */
function terminateMainThread(seq: number): void {
  const session = new Session();
  session.connectToMainThread();
  session.post('Runtime.terminateExecution', () => {
    session.disconnect();
    post({ type: 'terminated', seq });
  });
}

function post(message: WorkerMessage): void {
  port?.postMessage(message);
}

function requestInterrupt(): void {
  const seq = Atomics.load(shared, Slot.seq);
  if (seq === 0) return;
  post({ type: 'interrupt', seq });
  setTimeout(() => {
    if (Atomics.load(shared, Slot.ack) === seq) return; // the event loop is free: cooperative interrupt
    if (Atomics.load(shared, Slot.seq) !== seq) return; // that cell has finished
    if (Atomics.compareExchange(shared, Slot.state, CellState.running, CellState.terminating) !== CellState.running) return;
    terminateMainThread(seq);
  }, data.ackTimeoutMs);
}

/** Time the main thread has to shut down by itself after the host has gone. */
const HOST_GONE_GRACE_MS = 500;
let pipe: Socket | undefined;
/** The main thread is closing the pipe on purpose (shutdown). */
let closing = false;
try {
  pipe = new Socket({ fd: data.fd, readable: true, writable: false });
  pipe.on('data', (chunk: Buffer) => {
    if (chunk.includes(INTERRUPT_BYTE)) requestInterrupt();
  });
  pipe.on('error', (e) => post({ type: 'log', text: `interrupt pipe: ${e.message}` }));
  // The host's end of the pipe closes when the host dies, however it dies. The main thread exits on the
  // IPC channel's disconnect, but not while a cell spins in a busy loop: then this thread ends the
  // process, so that no kernel outlives its host.
  const hostGone = (): void => {
    if (closing) return;
    closing = true;
    setTimeout(() => process.kill(process.pid, 'SIGKILL'), HOST_GONE_GRACE_MS);
  };
  pipe.on('end', hostGone);
  pipe.on('close', hostGone);
} catch (e) {
  // Started without the host's pipe (e.g. by hand): interrupts then come only as requests.
  post({ type: 'log', text: `no interrupt pipe on fd ${data.fd}: ${(e as Error).message}` });
}

port.on('message', (m: string) => {
  if (m === 'close') {
    closing = true;
    pipe?.destroy();
    port.close();
  }
});
