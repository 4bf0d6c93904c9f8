/**
 * MIME bundle -> output item data, shared by the notebook controller and the headless runner.
 *
 * The kernel sends a bundle as MIME type -> value: JSON MIME types carry objects, images carry base64
 * strings, text types carry strings. VS Code wants bytes per item, and the .ipynb file wants JSON
 * objects, base64 strings or line arrays; this module decides, once, which kind each MIME type is so
 * that both hosts agree. It imports nothing from `vscode`, so it is tested in plain Node.
 */
import type { MimeBundle } from '../kernel/protocol';

/** One output item, in the form the host turns into a `NotebookCellOutputItem` or .ipynb data. */
export type OutputItemData =
  | { mime: string; kind: 'json'; value: unknown }
  | { mime: string; kind: 'bytes'; value: Uint8Array }
  | { mime: string; kind: 'text'; value: string };

/** Result of {@link bundleToItems}: the items, and one message per entry that could not be used. */
export interface ConvertedBundle {
  items: OutputItemData[];
  problems: string[];
}

/** True for `application/json` and any `+json` / `json`-named MIME type (the custom payload types). */
export function isJsonMime(mime: string): boolean {
  return mime.toLowerCase().includes('json');
}

/** True for raster image types stored as base64 (every image/* but SVG, which is text). */
export function isBinaryImageMime(mime: string): boolean {
  const m = mime.toLowerCase();
  return m.startsWith('image/') && m !== 'image/svg+xml';
}

/** True for MIME types whose value is text: text/*, SVG, and the JavaScript / LaTeX types Jupyter uses. */
export function isTextMime(mime: string): boolean {
  const m = mime.toLowerCase();
  return m.startsWith('text/') || m === 'image/svg+xml' || m === 'application/javascript' || m === 'application/x-latex';
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Decodes base64 strictly: Node's decoder silently drops characters it does not know, which would turn
 * a corrupt payload into a broken picture instead of a message.
 * @returns the bytes, or undefined when `text` is not base64
 */
export function decodeBase64(text: string): Uint8Array | undefined {
  const compact = text.replace(/\s+/g, '');
  if (compact.length % 4 === 1 || !BASE64.test(compact)) return undefined;
  return new Uint8Array(Buffer.from(compact, 'base64'));
}

/** Jupyter stores multi-line strings as arrays of lines; both forms are accepted. */
function asText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value.join('');
  return undefined;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/**
 * Converts a MIME bundle into output items, custom JSON payloads first so that the richest view wins.
 * An entry whose value does not fit its MIME type is left out and named in `problems`, so that one bad
 * entry does not hide the fallbacks beside it.
 * @param bundle MIME type -> value, as the kernel's `cell/display` notification carries it
 */
export function bundleToItems(bundle: MimeBundle): ConvertedBundle {
  const items: OutputItemData[] = [];
  const problems: string[] = [];
  for (const [mime, value] of Object.entries(bundle)) {
    if (value === undefined) continue;
    if (isBinaryImageMime(mime)) {
      const text = asText(value);
      const bytes = text === undefined ? undefined : decodeBase64(text);
      if (bytes) items.push({ mime, kind: 'bytes', value: bytes });
      else problems.push(`${mime}: expected a base64 string, got ${text === undefined ? describe(value) : 'text that is not base64'}`);
    } else if (isJsonMime(mime)) {
      if (typeof value === 'string') {
        // A JSON payload sent as text (e.g. read back from a file) is parsed so that renderers get an object.
        try {
          items.push({ mime, kind: 'json', value: JSON.parse(value) as unknown });
        } catch (e) {
          problems.push(`${mime}: expected JSON, got a string that does not parse (${(e as Error).message})`);
        }
      } else {
        items.push({ mime, kind: 'json', value });
      }
    } else {
      const text = asText(value);
      if (text !== undefined) items.push({ mime, kind: 'text', value: text });
      else if (isTextMime(mime)) problems.push(`${mime}: expected a string, got ${describe(value)}`);
      else items.push({ mime, kind: 'json', value });
    }
  }
  // Stable sort: custom JSON payloads (rendered by this extension) before their fallbacks.
  const rank = (i: OutputItemData): number => (i.kind === 'json' && i.mime.includes('vnd.') ? 0 : 1);
  items.sort((a, b) => rank(a) - rank(b));
  return { items, problems };
}

/** The bytes VS Code stores for an item (UTF-8 JSON / text, raw image bytes). */
export function itemBytes(item: OutputItemData): Uint8Array {
  if (item.kind === 'bytes') return item.value;
  const text = item.kind === 'json' ? JSON.stringify(item.value) : item.value;
  return new Uint8Array(Buffer.from(text, 'utf8'));
}
