/**
 * Runs cells in the kernel's main context.
 *
 * A compiled cell is evaluated through an in-process inspector session with
 * `Runtime.evaluate({ replMode: true, awaitPromise: true })`: V8's REPL mode lets a re-run cell declare
 * its `const`/`let`/`class` again, supports top-level await (also in loops) and keeps every top-level
 * declaration visible to later cells, while a declaration repeated inside one cell stays an error.
 *
 * Interrupts: the cell's AbortSignal aborts and every `await` of cell code (see rewrite.ts) rejects with
 * an InterruptedError. A busy synchronous loop is stopped by the interrupt worker with
 * `Runtime.terminateExecution`; the shared state (interruptState.ts) makes sure that a termination only
 * ever lands in cell code: when the main thread leaves cell code while one is in flight, it lets it land
 * in a throw-away evaluation instead.
 */
import { Session } from 'node:inspector';
import { Worker } from 'node:worker_threads';
import { inspect } from 'node:util';
import { StringDecoder } from 'node:string_decoder';
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { existsSync, writeSync } from 'node:fs';
import type { CellError, ExecuteParams, ExecuteResult, MimeBundle, StreamName } from '../protocol';
import { display, DISPLAY_HANDLE, isDisplayable, MIME_BUNDLE, setDisplaySink } from '../display';
import { tf } from '../runtime/index';
import { compileCell, CellCompileError, mapPosition } from './compile';
import type { TraceMap } from '@jridgewell/trace-mapping';
import { cleanFrames, cleanStack, registerCell } from './stack';
import { ModuleLoader, type ModuleNamespace } from './importer';
import { OutputRouter, type OutputChannel } from './output';
import { CellState, Slot, SLOT_COUNT, type WorkerData, type WorkerMessage } from './interruptState';
import { InterruptedError, mimeDisplayable, type KernelGlobal } from './globals';
import { HELPER, type DeclarationKind } from './rewrite';
import { globalEval } from '../intrinsics';

/** Options of {@link CellRunner}. */
export interface CellRunnerOptions {
  notebookDir: string;
  /** Searched for packages after the notebook's folder (the extension's folder). */
  fallbackDir: string;
  maxOutputChars: number;
  channel: OutputChannel;
  /** Files of the kernel itself, whose frames are removed from cell stacks. */
  kernelFiles: string[];
  /** dist/kernel-interrupt-worker.js; without it only cooperative interrupts work. */
  workerScript?: string;
  /** Descriptor of the interrupt pipe. @default 3 */
  interruptFd?: number;
}

interface RunningCell {
  seq: number;
  params: ExecuteParams;
  controller: AbortController;
  lastValue: unknown;
  hasLastValue: boolean;
  /** A termination landed in a throw-away evaluation on behalf of this cell. */
  absorbed: boolean;
  settle?: (o: Outcome) => void;
}

type Outcome =
  | { kind: 'evaluated'; error: Error | null; result: { exceptionDetails?: { exception?: RemoteObject; text: string; lineNumber?: number; columnNumber?: number } } | undefined }
  | { kind: 'terminated' };

interface RemoteObject {
  type: string;
  value?: unknown;
  description?: string;
  objectId?: string;
  className?: string;
}

const TERMINATED = 'Execution was terminated';
/** What an interrupted cell says: the kernel lives on with its variables. */
export const INTERRUPTED_MESSAGE = "Interrupted: the cell was stopped; the kernel's state was kept (the variables of earlier cells, and what this cell had set before it stopped).";
const interrupted = (message = INTERRUPTED_MESSAGE): CellError => ({ name: 'InterruptedError', message, stack: `InterruptedError: ${message}` });
/** How long an interrupted cell may take to settle before it is given up on (the state is kept). */
const ABANDON_AFTER_MS = 1500;

/** Formats a value as the text/plain of a result. */
function plainText(value: unknown): string {
  if (value instanceof tf.Tensor) return value.toString();
  // The async-context bookkeeping Node keeps on promises and timers is not the value's.
  return inspect(value, { depth: 4, maxArrayLength: 100, maxStringLength: 10_000, breakLength: 100 }).replace(/,?\n\s*\[Symbol\((?:async_id_symbol|trigger_async_id_symbol|kResourceStore)\)\]: [^\n]*?(?=,?\n)/g, '');
}

/** Bundle for `display(value)`: displayables as they are, strings as text, anything else inspected. */
function bundleFor(value: unknown, asResult: boolean): MimeBundle {
  if (isDisplayable(value)) return value[MIME_BUNDLE]();
  if (typeof value === 'string' && !asResult) return { 'text/plain': value };
  return { 'text/plain': plainText(value) };
}

export class CellRunner {
  readonly output: OutputRouter;
  readonly loader: ModuleLoader;
  private readonly session = new Session();
  private readonly shared = new Int32Array(new SharedArrayBuffer(SLOT_COUNT * 4));
  private readonly worker: Worker | undefined;
  private seq = 0;
  private current: RunningCell | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private disposed = false;
  private readonly restoreStreams: () => void;
  /** Kinds of the names cells have declared so far (const or let), for the const check of later cells. */
  private readonly kinds = new Map<string, DeclarationKind>();
  /** Cell ids by the sequence number in their sourceURL (`cell-<seq>`), to attribute late errors. */
  private readonly cellIds = new Map<number, string>();

  constructor(private readonly options: CellRunnerOptions) {
    this.output = new OutputRouter(options.channel, { maxOutputChars: options.maxOutputChars, origin: () => this.originCell() });
    this.loader = new ModuleLoader(options.notebookDir, options.fallbackDir);
    this.session.connect();
    // A session still connected at exit makes Node wait for "the debugger" and say so on stderr.
    process.once('exit', () => this.disconnectSessions());
    this.installGlobals();
    this.restoreStreams = this.captureStreams();
    setDisplaySink({
      display: (bundle, id, update) => this.output.display(bundle, id, update),
      clear: (id) => this.output.clear(id),
      toBundle: (v) => bundleFor(v, false),
    });
    if (options.workerScript && existsSync(options.workerScript)) {
      const data: WorkerData = { shared: this.shared.buffer as SharedArrayBuffer, fd: options.interruptFd ?? 3, ackTimeoutMs: 250 };
      this.worker = new Worker(options.workerScript, { workerData: data, stdout: false, stderr: false });
      this.worker.on('message', (m: WorkerMessage) => this.onWorkerMessage(m));
      this.worker.on('error', (e) => this.log(`interrupt worker failed: ${e.message}`));
      this.worker.unref();
    }
  }

  /** Runs a cell after the cells submitted before it. */
  execute(params: ExecuteParams): Promise<ExecuteResult> {
    const run = this.queue.then(() => this.run(params));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Cooperative interrupt of the running cell (its AbortSignal aborts). */
  interrupt(): void {
    const cell = this.current;
    if (!cell) return;
    cell.controller.abort(new InterruptedError());
    // Every await of cell code rejects at once; a cell that still has not settled waits on something the
    // kernel cannot reach. It is stopped here (its pending work is abandoned, the state is kept) well
    // before the host's grace period would restart the kernel.
    setTimeout(() => {
      if (this.current === cell && cell.settle) {
        this.log('the interrupted cell did not settle: it is stopped, its pending work abandoned');
        Atomics.store(this.shared, Slot.state, CellState.idle);
        cell.settle({ kind: 'terminated' });
      }
    }, ABANDON_AFTER_MS).unref();
  }

  /** Disconnects the inspector sessions and stops the worker. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.interrupt();
    setDisplaySink(undefined);
    this.restoreStreams();
    this.disconnectSessions();
    if (this.worker) await this.worker.terminate();
  }

  private disconnectSessions(): void {
    try {
      this.worker?.postMessage('close');
      this.session.disconnect();
    } catch {
      // already disconnected
    }
  }

  private log(text: string): void {
    try {
      writeSync(2, `[kernel] ${text}\n`);
    } catch {
      // stderr closed: nothing left to tell
    }
  }

  private onWorkerMessage(m: WorkerMessage): void {
    const cell = this.current;
    if (m.type === 'log') this.log(m.text);
    else if (m.type === 'interrupt') {
      if (cell && cell.seq === m.seq) {
        Atomics.store(this.shared, Slot.ack, m.seq);
        this.interrupt();
      }
    } else if (m.type === 'terminated') {
      // A termination that landed in an async continuation of the cell: its promise never settles.
      if (cell && cell.seq === m.seq && !cell.absorbed && cell.settle) {
        Atomics.store(this.shared, Slot.state, CellState.idle);
        cell.settle({ kind: 'terminated' });
      }
    }
  }

  /** Cell code is about to run (again). */
  private enterCellCode(cell: RunningCell): void {
    if (this.current === cell) Atomics.compareExchange(this.shared, Slot.state, CellState.idle, CellState.running);
  }

  /**
   * Cell code yields or ends. When a termination is in flight it must not hit the kernel's own code:
   * it is let to land in a throw-away evaluation. Returns true when that happened.
   */
  private leaveCellCode(cell: RunningCell): boolean {
    const prev = Atomics.compareExchange(this.shared, Slot.state, CellState.running, CellState.idle);
    if (prev !== CellState.terminating) return false;
    cell.absorbed = true;
    cell.controller.abort(new InterruptedError());
    this.session.post('Runtime.evaluate', { expression: 'for (const end = Date.now() + 2000; Date.now() < end;) {}' }, () => undefined);
    Atomics.store(this.shared, Slot.state, CellState.idle);
    return true;
  }

  private installGlobals(): void {
    const current = (): RunningCell | undefined => this.current;
    const filename = join(this.options.notebookDir, '[notebook]');
    const meta = { url: pathToFileURL(filename).href, dirname: this.options.notebookDir, filename };
    const helper = {
      /** `await x` in cell code: x raced against the cell's AbortSignal. */
      w: (value: unknown): Promise<unknown> => {
        const cell = this.current;
        if (!cell) return Promise.resolve(value);
        const signal = cell.controller.signal;
        if (signal.aborted) return Promise.reject(new InterruptedError());
        if (this.leaveCellCode(cell)) return Promise.reject(new InterruptedError());
        return new Promise((resolve, reject) => {
          const onAbort = (): void => reject(new InterruptedError());
          signal.addEventListener('abort', onAbort, { once: true });
          Promise.resolve(value).then(
            (v) => {
              signal.removeEventListener('abort', onAbort);
              this.enterCellCode(cell);
              resolve(v);
            },
            (e: unknown) => {
              signal.removeEventListener('abort', onAbort);
              this.enterCellCode(cell);
              reject(e as Error);
            },
          );
        });
      },
      /** `for await (x of it)`: each next() raced against the cell's AbortSignal, like an await. */
      iter: (iterable: unknown): unknown => this.interruptible(iterable, helper.w),
      /** Assignment target for a const of an earlier cell: reads it, refuses to write it. */
      cc: new Proxy(
        {},
        {
          get: (_t, name) => (typeof name === 'string' ? globalEval(name) : undefined),
          set: () => {
            throw new TypeError('Assignment to constant variable.');
          },
        },
      ),
      import: (spec: unknown, names?: readonly string[]): Promise<ModuleNamespace> => {
        // The loader's errors happen after its own awaits: the cell's frames come from the call site.
        const site = new Error();
        return this.loader.import(spec, names).catch((e: unknown) => {
          if (e instanceof Error && site.stack) e.stack = `${e.name}: ${e.message}\n${site.stack.split('\n').slice(1).join('\n')}`;
          throw e;
        });
      },
      d: (ns: ModuleNamespace): ModuleNamespace => this.loader.withDefaultExport(ns),
      last: (value: unknown): void => {
        const cell = this.current;
        if (!cell) return;
        cell.lastValue = value;
        cell.hasLastValue = true;
      },
      meta,
    };
    const kernel: KernelGlobal = {
      get signal(): AbortSignal {
        return current()?.controller.signal ?? new AbortController().signal;
      },
      display,
      sleep(ms: number): Promise<void> {
        if (typeof ms !== 'number' || !(ms >= 0)) return Promise.reject(new RangeError(`kernel.sleep: expected milliseconds >= 0, got ${String(ms)}`));
        const signal = current()?.controller.signal;
        return new Promise((resolve, reject) => {
          if (signal?.aborted) return reject(new InterruptedError());
          const t = setTimeout(() => {
            signal?.removeEventListener('abort', onAbort);
            resolve();
          }, ms);
          const onAbort = (): void => {
            clearTimeout(t);
            reject(new InterruptedError());
          };
          signal?.addEventListener('abort', onAbort, { once: true });
        });
      },
      mime: mimeDisplayable,
      notebookDir: this.options.notebookDir,
    };
    const define = (name: string, value: unknown): void => {
      Object.defineProperty(globalThis, name, { value, configurable: true, writable: true, enumerable: false });
    };
    define(HELPER, helper);
    define('kernel', kernel);
    define('display', display);
    define('require', Object.assign((spec: string) => this.loader.require(spec), { resolve: (spec: string) => require.resolve(spec, { paths: [this.options.notebookDir] }) }));
  }

  /** console.* and process.stdout/stderr.write of cells become stream notifications. */
  private captureStreams(): () => void {
    const patch = (stream: NodeJS.WriteStream, name: StreamName): (() => void) => {
      const original = stream.write;
      // Bytes may split a UTF-8 character between two writes.
      const decoder = new StringDecoder('utf8');
      const write = (chunk: unknown, encoding?: unknown, cb?: unknown): boolean => {
        const callback = typeof encoding === 'function' ? encoding : cb;
        const enc = typeof encoding === 'string' ? (encoding as BufferEncoding) : undefined;
        let text: string;
        if (typeof chunk === 'string') text = enc && !/^utf-?8$/i.test(enc) ? decoder.write(Buffer.from(chunk, enc)) : chunk;
        else if (chunk instanceof Uint8Array) text = decoder.write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        else text = String(chunk);
        if (!this.output.write(name, text)) return original.call(stream, chunk as string, encoding as BufferEncoding, cb as () => void);
        if (typeof callback === 'function') process.nextTick(callback as () => void);
        return true;
      };
      stream.write = write as typeof stream.write;
      return () => {
        stream.write = original;
      };
    };
    const a = patch(process.stdout, 'stdout');
    const b = patch(process.stderr, 'stderr');
    const onError = (e: unknown, kind: string): void => {
      const raw = e instanceof Error ? (e.stack ?? String(e)) : undefined;
      const text = raw !== undefined ? cleanStack(raw, this.options.kernelFiles) : inspect(e);
      // The cell whose code threw (its frame in the stack), else the one whose work this is.
      const seq = raw ? /\bcell-(\d+):\d+:\d+/.exec(raw)?.[1] : undefined;
      const cellId = (seq ? this.cellIds.get(Number(seq)) : undefined) ?? this.output.currentCellId;
      if (!this.output.write('stderr', `${kind}: ${text}\n`, cellId)) this.log(`${kind}: ${text}`);
    };
    const onException = (e: unknown): void => onError(e, 'Uncaught exception');
    const onRejection = (e: unknown): void => onError(e, 'Unhandled promise rejection');
    process.on('uncaughtException', onException);
    process.on('unhandledRejection', onRejection);
    return () => {
      a();
      b();
      process.off('uncaughtException', onException);
      process.off('unhandledRejection', onRejection);
    };
  }

  private async run(params: ExecuteParams): Promise<ExecuteResult> {
    const started = performance.now();
    const seq = ++this.seq;
    const cell: RunningCell = { seq, params, controller: new AbortController(), lastValue: undefined, hasLastValue: false, absorbed: false };
    this.current = cell;
    this.output.beginCell(params.cellId);
    const finish = (status: ExecuteResult['status'], error?: CellError): ExecuteResult => {
      this.output.endCell();
      Atomics.store(this.shared, Slot.seq, 0);
      Atomics.store(this.shared, Slot.state, CellState.idle);
      return { status, error, durationMs: performance.now() - started };
    };
    try {
      const url = `cell-${seq}`;
      let compiled;
      try {
        compiled = await compileCell(params.code, params.language, params.cellLabel, url, { consts: this.constNames() });
      } catch (e) {
        if (e instanceof CellCompileError) return finish('error', { name: e.name, message: e.message, stack: e.cellStack });
        throw e;
      }
      registerCell(url, params.cellLabel, () => compiled.traceMap());
      this.cellIds.set(seq, params.cellId);
      if (this.cellIds.size > 500) this.cellIds.delete(this.cellIds.keys().next().value as number);
      for (const [name, kind] of compiled.declared) this.kinds.set(name, kind);
      // Interrupted while it was being compiled: it never starts.
      if (cell.controller.signal.aborted) return finish('interrupted', interrupted("Interrupted before the cell started; the kernel's state was kept."));
      const outcome = await this.evaluate(cell, compiled.code);
      const failure = this.failureOf(cell, outcome, params.cellLabel, compiled.traceMap);
      if (failure) return finish(failure.status, failure.error);
      if (cell.hasLastValue && cell.lastValue !== undefined && !(typeof cell.lastValue === 'object' && cell.lastValue !== null && DISPLAY_HANDLE in cell.lastValue)) {
        try {
          const bundle = bundleFor(cell.lastValue, true);
          // A rejected promise shows its reason's stack: mapped to the cell, without the kernel's frames.
          if (cell.lastValue instanceof Promise && typeof bundle['text/plain'] === 'string') bundle['text/plain'] = cleanFrames(bundle['text/plain'], this.options.kernelFiles);
          this.output.display(bundle, `result-${seq}`, false, true);
        } catch (e) {
          return finish('error', this.cellError(e));
        }
      }
      return finish('ok');
    } catch (e) {
      return finish('error', this.cellError(e));
    } finally {
      this.session.post('Runtime.releaseObjectGroup', { objectGroup: 'cell' }, () => undefined);
    }
  }

  private evaluate(cell: RunningCell, code: string): Promise<Outcome> {
    return new Promise<Outcome>((resolve) => {
      let settled = false;
      const settle = (o: Outcome): void => {
        if (settled) return;
        settled = true;
        cell.settle = undefined;
        resolve(o);
      };
      cell.settle = settle;
      Atomics.store(this.shared, Slot.seq, cell.seq);
      Atomics.store(this.shared, Slot.state, CellState.running);
      let terminatedSync = false;
      this.session.post('Runtime.evaluate', { expression: code, replMode: true, awaitPromise: true, objectGroup: 'cell', includeCommandLineAPI: false }, (error, result) => {
        if (error?.message.includes(TERMINATED)) {
          terminatedSync = !settled;
          Atomics.store(this.shared, Slot.state, CellState.idle);
          settle({ kind: 'terminated' });
          return;
        }
        // The cell's code has finished (successfully or not).
        if (this.current === cell && !terminatedSync) this.leaveCellCode(cell);
        settle({ kind: 'evaluated', error, result: result as Outcome extends { result: infer R } ? R : never });
      });
      // The synchronous part has run; the rest (if any) continues at the cell's first await.
      if (!settled) this.leaveCellCode(cell);
    });
  }

  private failureOf(cell: RunningCell, outcome: Outcome, label: string, traceMap: () => TraceMap): { status: ExecuteResult['status']; error: CellError } | undefined {
    if (outcome.kind === 'terminated') {
      this.resetEngineScopes();
      return { status: 'interrupted', error: interrupted() };
    }
    if (outcome.error) return { status: 'error', error: { name: 'Error', message: outcome.error.message, stack: outcome.error.message } };
    const details = outcome.result?.exceptionDetails;
    if (!details) return undefined;
    const thrown = this.thrownValue(details.exception);
    if (cell.controller.signal.aborted && (thrown instanceof InterruptedError || cell.absorbed)) {
      return { status: 'interrupted', error: interrupted() };
    }
    const error = this.cellError(thrown);
    // An error V8 raises before the cell's code runs (a SyntaxError of the script) has no cell frame: it
    // is located from the exception's position in the script.
    if (!/\n\s+at /.test(error.stack ?? '') && typeof details.lineNumber === 'number') {
      const pos = mapPosition(traceMap(), details.lineNumber + 1, (details.columnNumber ?? 0) + 1);
      if (pos) error.stack = `${(error.stack ?? `${error.name}: ${error.message}`).split('\n')[0]}\n    at ${label}:${pos.line}:${pos.column}`;
    }
    return { status: 'error', error };
  }

  /**
   * The cell whose code is writing: the nearest cell frame on the stack (a timer's callback or a
   * promise's continuation written in cell 1 writes to cell 1, also while cell 2 runs). Node's async
   * context tracking (AsyncLocalStorage) would follow work without a cell frame too, but with it a busy
   * loop stopped by terminateExecution inside a timer's callback aborts the process (Node 20 asserts on
   * the async id stack), so the stack it is.
   */
  private originCell(): string | undefined {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 40;
    const holder: { stack?: string } = {};
    Error.captureStackTrace(holder);
    Error.stackTraceLimit = limit;
    const seq = /\bcell-(\d+):\d+:\d+/.exec(holder.stack ?? '')?.[1];
    return seq === undefined ? undefined : this.cellIds.get(Number(seq));
  }

  private constNames(): Set<string> {
    const out = new Set<string>();
    for (const [name, kind] of this.kinds) if (kind === 'const') out.add(name);
    return out;
  }

  /** Wraps an iterable of `for await` so that waiting for its next value honours an interrupt. */
  private interruptible(iterable: unknown, w: (value: unknown) => Promise<unknown>): unknown {
    if (!this.current || iterable === null || iterable === undefined) return iterable;
    const source = iterable as { [Symbol.asyncIterator]?: () => AsyncIterator<unknown>; [Symbol.iterator]?: () => Iterator<unknown> };
    let open: () => AsyncIterator<unknown>;
    if (typeof source[Symbol.asyncIterator] === 'function') open = () => (source[Symbol.asyncIterator] as () => AsyncIterator<unknown>).call(source);
    else if (typeof source[Symbol.iterator] === 'function') {
      open = () =>
        (async function* (): AsyncGenerator<unknown> {
          yield* source as Iterable<unknown>;
        })();
    } else return iterable; // for await reports that it is not iterable
    return {
      [Symbol.asyncIterator]: (): AsyncIterator<unknown> => {
        const it = open();
        const close = (): void => {
          try {
            void Promise.resolve(it.return?.()).catch(() => undefined);
          } catch {
            // the iterator's own return() failed: nothing more to release
          }
        };
        return {
          next: (...args: [] | [unknown]) =>
            (w(it.next(...args)) as Promise<IteratorResult<unknown>>).catch((e: unknown) => {
              // An interrupted loop does not call return(): release the source (timers, generators) here.
              if (e instanceof InterruptedError) close();
              throw e;
            }),
          return: (value?: unknown) => (it.return ? it.return(value) : Promise.resolve({ done: true as const, value })),
          throw: (e?: unknown) => (it.throw ? it.throw(e) : Promise.reject(e as Error)),
        };
      },
    };
  }

  /** The value a cell threw, fetched from the inspector's handle to it. */
  private thrownValue(exception: RemoteObject | undefined): unknown {
    if (!exception) return new Error('the cell failed without an exception');
    if (!exception.objectId) return 'value' in exception ? exception.value : exception.description;
    let value: unknown = new Error(exception.description ?? 'unknown error');
    const holder = globalThis as unknown as Record<string, unknown>;
    const key = '__kernelThrown';
    this.session.post('Runtime.callFunctionOn', { objectId: exception.objectId, functionDeclaration: `function () { globalThis.${key} = this; }` }, () => {
      value = holder[key];
      delete holder[key];
    });
    return value;
  }

  private cellError(e: unknown): CellError {
    if (e instanceof Error) {
      const stack = cleanStack(e.stack ?? `${e.name}: ${e.message}`, this.options.kernelFiles);
      return { name: e.name, message: e.message, stack };
    }
    const text = inspect(e);
    return { name: 'Error', message: `Uncaught ${text}`, stack: `Uncaught ${text}` };
  }

  /** A termination may have cut a tf.tidy short; close the scopes it left open. */
  private resetEngineScopes(): void {
    try {
      const engine = tf.engine();
      while (engine.state.scopeStack.length > 0) engine.endScope();
      engine.state.kernelDepth = 0;
      engine.state.gradientDepth = 0;
    } catch (e) {
      this.log(`could not reset the tensor engine after an interrupt: ${(e as Error).message}`);
    }
  }
}
