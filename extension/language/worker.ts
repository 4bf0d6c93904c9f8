/**
 * The language worker: a worker thread holding one NotebookLanguageService per open notebook. Requests
 * are handled one at a time, in order (see protocol.ts). Bundled on its own (with TypeScript) into
 * dist/types/language-worker.js by scripts/build-types.mjs.
 */
import { parentPort } from 'node:worker_threads';
import { NotebookLanguageService } from './core/service';
import type { LanguageMethod, LanguageMethods, LanguageRequest, LanguageResponse } from './protocol';

const services = new Map<string, NotebookLanguageService>();

function handle(request: LanguageRequest): unknown {
  switch (request.kind) {
    case 'open': {
      services.get(request.notebook)?.dispose();
      services.set(request.notebook, new NotebookLanguageService(request.options));
      return null;
    }
    case 'close': {
      services.get(request.notebook)?.dispose();
      services.delete(request.notebook);
      return null;
    }
    case 'call': {
      const service = services.get(request.notebook);
      if (!service) throw new Error(`language worker: notebook ${request.notebook} is not open`);
      if (request.cells) service.setCells(request.cells);
      const method = service[request.method] as (...args: unknown[]) => ReturnType<LanguageMethods[LanguageMethod]>;
      return method.apply(service, [...request.args]);
    }
  }
}

if (!parentPort) throw new Error('language worker: must run as a worker thread');
const port = parentPort;
port.on('message', (request: LanguageRequest) => {
  let response: LanguageResponse;
  try {
    response = { id: request.id, ok: true, value: handle(request) ?? null };
  } catch (e) {
    response = { id: request.id, ok: false, error: e instanceof Error ? e.message : String(e) };
  }
  port.postMessage(response);
});
