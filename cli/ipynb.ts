/**
 * Reading and writing .ipynb files the way VS Code's built-in ipynb serializer does, so that a notebook
 * run headless looks exactly like one run and saved in the editor: outputs as `stream` (text as a line
 * array), `display_data` (JSON MIME types as objects, raster images as base64, text as line arrays) and
 * `error` (ename, evalue, traceback); keys sorted recursively; one-space indentation; a trailing newline.
 * Cell ids, cell metadata and notebook metadata are kept as they are.
 */
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import type { CellLanguage } from '../kernel/protocol';
import { bundleToItems, isTextMime } from '../host/outputData';
import { cellLanguage, notebookLanguage } from '../host/languages';
import type { OutputEntry } from '../host/outputModel';

/** Input the runner cannot use; the CLI prints the message on one line and exits with code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

type Json = Record<string, unknown>;

/** A notebook cell as stored in the file; only the fields the runner reads are typed. */
export interface IpynbCell extends Json {
  cell_type: string;
  source: string | string[];
  metadata?: Json;
  outputs?: unknown[];
  execution_count?: number | null;
  id?: string;
}

/** An nbformat-4 notebook as stored in the file. */
export interface Ipynb extends Json {
  nbformat: number;
  nbformat_minor?: number;
  metadata?: Json;
  cells: IpynbCell[];
}

/** A code cell the kernel runs, with its position in the notebook. */
export interface CodeCell {
  /** Index in `cells` (0-based). */
  index: number;
  /** 1-based number among all cells, as people count them. */
  number: number;
  code: string;
  language: CellLanguage;
  cell: IpynbCell;
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A cell's source as one string (the file may hold a string or an array of lines). */
export function sourceText(source: string | string[]): string {
  return Array.isArray(source) ? source.join('') : source;
}

/**
 * Reads and validates a notebook.
 * @throws UsageError naming the file and what is wrong (missing, unreadable, not JSON, not nbformat 4)
 */
export function readNotebook(file: string): Ipynb {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UsageError(`${file}: no such file`);
    if (code === 'EISDIR') throw new UsageError(`${file}: is a folder, expected an .ipynb file`);
    throw new UsageError(`${file}: cannot be read (${(e as Error).message})`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${file}: not valid JSON (${(e as Error).message})`);
  }
  return validateNotebook(data, file);
}

/**
 * Checks the parsed JSON is an nbformat-4 notebook whose cells have a type and a source.
 * @throws UsageError naming the file and the first field that is wrong
 */
export function validateNotebook(data: unknown, file: string): Ipynb {
  if (!isObject(data)) throw new UsageError(`${file}: not a notebook (expected a JSON object with "cells", got ${Array.isArray(data) ? 'an array' : typeof data})`);
  if (!Array.isArray(data.cells)) throw new UsageError(`${file}: not a notebook ("cells" is missing or not an array)`);
  if (data.nbformat !== 4) throw new UsageError(`${file}: nbformat is ${JSON.stringify(data.nbformat)}; expected 4`);
  if (data.metadata !== undefined && !isObject(data.metadata)) throw new UsageError(`${file}: "metadata" is not an object`);
  data.cells.forEach((c: unknown, i) => {
    const where = `${file}: cell ${i + 1}`;
    if (!isObject(c)) throw new UsageError(`${where} is not an object`);
    if (typeof c.cell_type !== 'string') throw new UsageError(`${where} has no "cell_type"`);
    const src = c.source;
    if (!(typeof src === 'string' || (Array.isArray(src) && src.every((s) => typeof s === 'string')))) {
      throw new UsageError(`${where}: "source" must be a string or an array of strings`);
    }
    if (c.metadata !== undefined && !isObject(c.metadata)) throw new UsageError(`${where}: "metadata" is not an object`);
  });
  return data as Ipynb;
}

/**
 * The code cells to run, in order. A cell's language is its VS Code language id
 * (`metadata.vscode.languageId`), else the notebook's (language_info / kernelspec), else TypeScript.
 * @throws UsageError for a code cell in a language the kernel does not run
 */
export function codeCells(nb: Ipynb, file: string): CodeCell[] {
  const fallback = notebookLanguage(nb.metadata) ?? 'typescript';
  const cells: CodeCell[] = [];
  nb.cells.forEach((cell, index) => {
    if (cell.cell_type !== 'code') return;
    const vscodeMeta = isObject(cell.metadata?.vscode) ? cell.metadata.vscode : undefined;
    const id = typeof vscodeMeta?.languageId === 'string' ? vscodeMeta.languageId : fallback;
    const language = cellLanguage(id);
    if (!language) throw new UsageError(`${file}: cell ${index + 1} is ${id}; expected typescript or javascript`);
    cells.push({ index, number: index + 1, code: sourceText(cell.source), language, cell });
  });
  return cells;
}

/** Splits text into lines that keep their `\n`, dropping a trailing empty line, as Jupyter stores text. */
export function splitLines(text: string): string[] {
  if (text.length === 0) return [];
  const parts = text.split('\n');
  return parts.map((s, i) => (i < parts.length - 1 ? `${s}\n` : s)).filter((s) => s.length > 0);
}

/** One output in .ipynb form. */
export function toIpynbOutput(entry: OutputEntry): Json {
  switch (entry.kind) {
    case 'stream':
      return { output_type: 'stream', name: entry.name, text: splitLines(entry.buffer.text) };
    case 'error':
      return {
        output_type: 'error',
        ename: entry.error.name,
        evalue: entry.error.message,
        traceback: splitLines(entry.error.stack || entry.error.message),
      };
    case 'display': {
      const data: Json = {};
      const { items, problems } = bundleToItems(entry.bundle);
      for (const item of items) {
        if (item.kind === 'json') data[item.mime] = item.value;
        else if (item.kind === 'bytes') data[item.mime] = Buffer.from(item.value).toString('base64');
        else data[item.mime] = isTextMime(item.mime) ? splitLines(item.value) : item.value;
      }
      if (problems.length && data['text/plain'] === undefined) data['text/plain'] = splitLines(problems.join('\n'));
      if (entry.executionCount !== undefined) return { output_type: 'execute_result', data, metadata: {}, execution_count: entry.executionCount };
      return { output_type: 'display_data', data, metadata: {} };
    }
  }
}

/**
 * nbformat 4.5 requires an `id` on every cell (1-64 letters, digits, `-` or `_`, unique in the
 * notebook). Cells without one get an id derived from their position and source, so that running the
 * same notebook twice writes the same ids; ids already there are kept. Notebooks older than 4.5 do not
 * allow ids and are left as they are.
 */
export function withCellIds(nb: Ipynb): Ipynb {
  if (nb.nbformat !== 4 || (nb.nbformat_minor ?? 0) < 5) return nb;
  const used = new Set(nb.cells.map((c) => c.id).filter((id): id is string => typeof id === 'string'));
  return {
    ...nb,
    cells: nb.cells.map((cell, index) => {
      if (typeof cell.id === 'string' && /^[a-zA-Z0-9-_]{1,64}$/.test(cell.id)) return cell;
      const base = createHash('sha256').update(`${index}\n${sourceText(cell.source)}`).digest('hex').slice(0, 8);
      let id = base;
      for (let n = 1; used.has(id); n++) id = `${base}-${n}`;
      used.add(id);
      return { ...cell, id };
    }),
  };
}

/** Sorts object keys recursively, as VS Code does before writing, so files diff cleanly. */
export function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (!isObject(value)) return value;
  const out: Json = {};
  for (const k of Object.keys(value).sort()) out[k] = sortKeys(value[k]);
  return out;
}

/** The file text: keys sorted, one-space indentation, trailing newline. */
export function serializeNotebook(nb: Ipynb): string {
  return JSON.stringify(sortKeys(nb), undefined, 1) + '\n';
}
