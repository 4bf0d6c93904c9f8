/**
 * `ensureSynCAL(dir, options)`: a SynCAL set with the given options, generated only where nothing would be lost.
 * A folder that already holds a SynCAL of the same options is used as it is; a missing or empty folder is
 * generated into; anything else (a real CAL folder, a SynCAL of other options, the user's files) is never
 * changed or deleted: a fresh sibling folder named after the options is used instead.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { generateSynCAL, type SynCALOptions, type SynCALResult } from './generate';

export interface EnsuredSynCAL {
  /** The folder that holds the set. */
  root: string;
  /** Set when the set was generated now. */
  generated?: SynCALResult;
  /** Why `root` differs from the folder asked for (it held something else). */
  note?: string;
}

interface SynCALManifest {
  generator?: string;
  version?: number;
  seed?: number;
  perClass?: number;
  testPairs?: number;
  size?: number;
}

function manifest(dir: string): SynCALManifest | undefined {
  const file = join(dir, 'syncal.json');
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as SynCALManifest;
  } catch {
    return undefined;
  }
}

/** Whether `dir` holds a SynCAL generated with exactly these options. */
export function isSynCAL(dir: string, options: SynCALOptions = {}): boolean {
  const m = manifest(dir);
  return !!m && m.generator === 'SynCAL' && m.version === 1 && m.seed === (options.seed ?? 0) && m.perClass === (options.perClass ?? 6) && (m.testPairs ?? 0) === (options.testPairs ?? 100) && m.size === (options.size ?? 192);
}

/** A SynCAL with these options in `dir`, or beside it when `dir` holds anything else (see the module doc). */
export async function ensureSynCAL(dir: string, options: Omit<SynCALOptions, 'onProgress'> & { onProgress?: SynCALOptions['onProgress'] } = {}): Promise<EnsuredSynCAL> {
  const asked = resolve(dir);
  if (isSynCAL(asked, options)) return { root: asked };
  if (!existsSync(asked) || readdirSync(asked).length === 0) return { root: asked, generated: await generateSynCAL(asked, options) };
  const tag = `syncal-s${options.seed ?? 0}-p${options.perClass ?? 6}-t${options.testPairs ?? 100}-w${options.size ?? 192}`;
  const fresh = join(dirname(asked), `${basename(asked)}-${tag}`);
  const why = manifest(asked) ? 'a SynCAL generated with other options' : 'files that are not a SynCAL set';
  const note = `${asked} holds ${why}; it is left as it is and ${fresh} is used instead`;
  if (isSynCAL(fresh, options)) return { root: fresh, note };
  if (existsSync(fresh) && readdirSync(fresh).length > 0) throw new Error(`${note}, but ${fresh} holds other files too: move them, or name an empty folder`);
  return { root: fresh, generated: await generateSynCAL(fresh, options), note };
}
