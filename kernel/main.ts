/**
 * The kernel child process (bundled to dist/kernel.js).
 *
 * It talks JSON-RPC (vscode-jsonrpc) with its host over Node's IPC channel, with the methods of
 * kernel/protocol.ts `Methods`; interrupt bytes arrive on the pipe at fd 3 (read by the interrupt
 * worker). It opens no network port. When the host goes away (the IPC channel closes) it exits.
 */
import { createMessageConnection, IPCMessageReader, IPCMessageWriter } from 'vscode-jsonrpc/node';
import { dirname, join } from 'node:path';
import { writeSync } from 'node:fs';
import { Methods, type ExecuteParams, type ExecuteResult, type InitializeParams, type KernelInfo, type RuntimeInfo, type StatusParams } from './protocol';
import { initRuntime, runtimeInfo, tf } from './runtime/index';
import { CellRunner } from './session/runner';
import { compileCell } from './session/compile';

function log(text: string): void {
  try {
    writeSync(2, `[kernel] ${text}\n`);
  } catch {
    // stderr closed
  }
}

if (!process.send) {
  log('dist/kernel.js is started by the Affordance Lab host (it needs an IPC channel); run notebooks with `affordance-lab run` or VS Code');
  process.exit(2);
}

// Node's ESM loader used for packages of the notebook's folder is flagged experimental; the notice is
// noise in a cell's output.
const emitWarning = process.emitWarning.bind(process);
process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
  const text = typeof warning === 'string' ? warning : warning.message;
  if (text.includes('USE_MAIN_CONTEXT_DEFAULT_LOADER')) return;
  (emitWarning as (w: string | Error, ...r: unknown[]) => void)(warning, ...rest);
}) as typeof process.emitWarning;

const connection = createMessageConnection(new IPCMessageReader(process), new IPCMessageWriter(process));
let runner: CellRunner | undefined;
let exiting = false;

function memory(): StatusParams['memory'] {
  try {
    const m = tf.memory();
    return { numTensors: m.numTensors, numBytes: m.numBytes };
  } catch {
    return undefined;
  }
}

function sendStatus(state: StatusParams['state']): void {
  void connection.sendNotification(Methods.status, { state, memory: memory() } satisfies StatusParams);
}

connection.onRequest(Methods.initialize, async (params: InitializeParams): Promise<KernelInfo> => {
  if (runner) throw new Error('the kernel is already initialized');
  if (typeof params?.notebookDir !== 'string' || params.notebookDir === '') throw new Error(`initialize: notebookDir must be a folder path, got ${JSON.stringify(params?.notebookDir)}`);
  const runtime = await initRuntime({ backend: params.backend, notebookDir: params.notebookDir, nativeModulesPath: params.nativeModulesPath });
  const here = typeof __dirname === 'string' ? __dirname : dirname(process.argv[1] ?? '.');
  runner = new CellRunner({
    notebookDir: params.notebookDir,
    fallbackDir: join(here, '..'),
    maxOutputChars: params.maxOutputChars > 0 ? params.maxOutputChars : 1_000_000,
    channel: {
      stream: (p) => void connection.sendNotification(Methods.stream, p),
      display: (p) => void connection.sendNotification(Methods.display, p),
      clearDisplay: (p) => void connection.sendNotification(Methods.clearDisplay, p),
    },
    kernelFiles: [join(here, 'kernel.js'), join(here, 'kernel-interrupt-worker.js'), __filename],
    workerScript: join(here, 'kernel-interrupt-worker.js'),
  });
  const loaded = runner;
  // Warm up what the first cells need, after the host has its answer.
  setTimeout(() => {
    loaded.loader.loadLibrary().catch((e: unknown) => log(`affordance-lab failed to load: ${(e as Error).message}`));
    // Starts esbuild's service process so that the first cell does not wait for it.
    compileCell('0', 'typescript', 'warm-up', 'warm-up').catch((e: unknown) => log(`the cell compiler failed to start: ${(e as Error).message}`));
  }, 50).unref();
  return { pid: process.pid, nodeVersion: process.version, runtime, readyMs: performance.now() };
});

connection.onRequest(Methods.execute, async (params: ExecuteParams): Promise<ExecuteResult> => {
  if (!runner) throw new Error('execute before initialize');
  sendStatus('busy');
  try {
    return await runner.execute(params);
  } finally {
    sendStatus('idle');
  }
});

connection.onRequest(Methods.interrupt, () => {
  runner?.interrupt();
});

connection.onRequest(Methods.runtimeInfo, (): RuntimeInfo => runtimeInfo());

// The kernel's own timers are unref'd (or brief, while output is flushed): what is left is the cells'.
connection.onRequest(Methods.pending, (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout' || r === 'Immediate').length);

connection.onRequest(Methods.shutdown, () => {
  setImmediate(() => void shutdown(0));
});

async function shutdown(code: number): Promise<void> {
  if (exiting) return;
  exiting = true;
  try {
    await runner?.dispose();
  } catch (e) {
    log(`shutdown: ${(e as Error).message}`);
  }
  connection.dispose();
  process.exit(code);
}

// The host is gone: no orphans.
process.on('disconnect', () => void shutdown(0));
connection.onClose(() => void shutdown(0));
connection.listen();
