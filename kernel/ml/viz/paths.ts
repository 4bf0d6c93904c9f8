import { homedir } from 'node:os';
import { isAbsolute, relative, resolve, sep } from 'node:path';

/** A relative path climbs at most this many folders above the notebook's (`../../data`) to stay relative. */
const MAX_UP = 2;

/**
 * A path as outputs print it, so that a saved notebook holds no absolute path of the machine it ran on:
 * relative to `base` (the notebook's folder, the kernel's working directory) when it lies inside it or at
 * most two folders above it (`out/syncal`, `../out/syncal`), under the home folder as `~/…`, and as given
 * otherwise.
 */
export function displayPath(path: string, base: string = process.cwd()): string {
  const abs = resolve(base, path);
  const rel = relative(resolve(base), abs);
  if (rel === '') return '.';
  const parts = rel.split(sep);
  const up = parts.findIndex((p) => p !== '..');
  if (!isAbsolute(rel) && (up === -1 ? parts.length : up) <= MAX_UP) return parts.join('/');
  const home = homedir();
  const fromHome = relative(home, abs);
  if (home && fromHome && !fromHome.startsWith('..') && !isAbsolute(fromHome)) return `~/${fromHome.split(sep).join('/')}`;
  return abs;
}
