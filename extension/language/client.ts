/**
 * The extension host's side of the language worker (plain Node, no `vscode`): starts the worker thread
 * on first use, matches responses to requests, and when the worker dies fails what was pending with the
 * reason and starts a fresh one on the next request (re-opening the notebooks it knew).
 */
import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { NotebookLanguageServiceOptions } from './core/service';
import type { CellInput } from './core/types';
import type { LanguageMethod, LanguageMethods, LanguageRequest, LanguageResponse } from './protocol';

type Pending = { resolve: (value: unknown) => void; reject: (error: Error) => void };

/** Distributes a request type over the union so each variant keeps its own fields. */
type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

export class LanguageWorkerClient {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  /** Notebooks and their options, re-opened in a fresh worker. */
  private readonly notebooks = new Map<string, NotebookLanguageServiceOptions>();
  private openInWorker = new Set<string>();
  private disposed = false;

  /** @param workerFile the bundled worker (dist/types/language-worker.js) */
  constructor(
    private readonly workerFile: string,
    private readonly log: (message: string) => void = () => undefined,
  ) {}

  /** Declares a notebook; its service is created in the worker with the first call. */
  open(notebook: string, options: NotebookLanguageServiceOptions): void {
    this.notebooks.set(notebook, options);
    this.openInWorker.delete(notebook);
  }

  /** Whether {@link open} was called for the notebook (and not closed since). */
  isOpen(notebook: string): boolean {
    return this.notebooks.has(notebook);
  }

  /** Calls a method of the notebook's service, after bringing its cells up to date when given. */
  async call<K extends LanguageMethod>(notebook: string, method: K, args: Parameters<LanguageMethods[K]>, cells?: readonly CellInput[]): Promise<ReturnType<LanguageMethods[K]>> {
    const options = this.notebooks.get(notebook);
    if (!options) throw new Error(`language worker: notebook ${notebook} was not opened`);
    const worker = this.start();
    if (!this.openInWorker.has(notebook)) {
      this.openInWorker.add(notebook);
      this.send(worker, { kind: 'open', notebook, options }).catch((e: unknown) => {
        this.openInWorker.delete(notebook);
        this.log(`language worker: opening ${notebook} failed: ${e instanceof Error ? e.message : String(e)}`);
      });
    }
    return (await this.send(worker, { kind: 'call', notebook, method, args, cells })) as ReturnType<LanguageMethods[K]>;
  }

  /** Forgets a notebook and frees its service in the worker. */
  close(notebook: string): void {
    this.notebooks.delete(notebook);
    if (this.worker && this.openInWorker.delete(notebook)) {
      this.send(this.worker, { kind: 'close', notebook }).catch(() => undefined);
    }
  }

  /** Stops the worker; pending requests fail. */
  async dispose(): Promise<void> {
    this.disposed = true;
    const w = this.worker;
    this.worker = undefined;
    this.failPending(new Error('language worker: stopped'));
    if (w) await w.terminate();
  }

  private start(): Worker {
    if (this.disposed) throw new Error('language worker: the client was disposed');
    if (this.worker) return this.worker;
    if (!existsSync(this.workerFile)) throw new Error(`language worker: ${this.workerFile} not found; build it with \`node scripts/build-types.mjs\` (part of \`npm run build\`)`);
    const worker = new Worker(this.workerFile);
    // The editor's features are never a reason to keep a process alive.
    worker.unref();
    this.worker = worker;
    this.openInWorker = new Set();
    worker.on('message', (response: LanguageResponse) => {
      const p = this.pending.get(response.id);
      if (!p) return;
      this.pending.delete(response.id);
      if (response.ok) p.resolve(response.value);
      else p.reject(new Error(response.error));
    });
    const gone = (reason: string): void => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      this.log(`language worker: ${reason}; a new one starts with the next request`);
      this.failPending(new Error(`language worker: ${reason}`));
    };
    worker.on('error', (e) => gone(`failed: ${e.message}`));
    worker.on('exit', (code) => gone(`exited with code ${code}`));
    return worker;
  }

  private send(worker: Worker, request: WithoutId<LanguageRequest>): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ ...request, id });
    });
  }

  private failPending(error: Error): void {
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) p.reject(error);
  }
}
