/**
 * Pairing: which (interactive, non-interactive) images form the pairs of a dataset, and which GT points a pair
 * keeps. Holds the seeded within-class pairing of training pairs, the parser of the test pairs file, the masking
 * rule and region masking.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CONTACT_CHANNELS } from '../../protocol';
import { CAL_CLASSES } from './classes';
import { CalDataError, type ProblemLog } from './errors';
import type { CalImageRecord, CalSubset } from './layout';
import { Rng } from './rng';

/** One pair of a dataset: the records of its two images. */
export interface PairRef {
  inter: CalImageRecord;
  non: CalImageRecord;
  /** Line in the pairs file (test pairs). */
  line?: number;
}

/** The `mask` option of {@link openCAL}: when the masking rule applies. */
export type MaskMode = 'test' | 'always' | 'never';

/** Records grouped by class index, each group in the order of `records`. */
export function groupByClass(records: readonly CalImageRecord[]): Map<number, CalImageRecord[]> {
  const by = new Map<number, CalImageRecord[]>();
  for (const r of records) {
    const l = by.get(r.classIndex) ?? [];
    l.push(r);
    by.set(r.classIndex, l);
  }
  return by;
}

/**
 * Training pairs: each interactive image with a non-interactive image of its class drawn with `seed`, in the
 * order of `interactive`. A class with interactive images but no non-interactive ones is reported once (to
 * `log`) and its images are left out.
 * @param subsetDir - `<root>/<split>/<subset>`, to name the empty class folder in the report
 */
export function pairWithinClass(interactive: readonly CalImageRecord[], nonInteractive: readonly CalImageRecord[], seed: number, subsetDir: string, log: ProblemLog): PairRef[] {
  const rng = new Rng(seed);
  const nonBy = groupByClass(nonInteractive);
  const pairs: PairRef[] = [];
  const reported = new Set<number>();
  for (const r of interactive) {
    const partners = nonBy.get(r.classIndex);
    if (!partners) {
      if (!reported.has(r.classIndex)) {
        reported.add(r.classIndex);
        log.report(new CalDataError(join(subsetDir, 'non_interactive', CAL_CLASSES[r.classIndex].folder), `empty class: ${CAL_CLASSES[r.classIndex].name} has interactive images but no non-interactive images to pair them with (expected at least one)`));
      }
      continue;
    }
    pairs.push({ inter: r, non: rng.pick(partners) });
  }
  return pairs;
}

/**
 * Test pairs: the lines of a pairs file, `interactive_rel_path,non_interactive_rel_path` each (relative to
 * `splitDir`, with or without the leading `testset/`; blank lines and `#` comments are ignored).
 * A bad line is reported to `log` with its line number (and left out with `onError: 'skip'`).
 * @param records - the indexed images of the subset, both kinds
 * @throws CalDataError when the file is missing
 */
export function readTestPairs(file: string, splitDir: string, records: readonly CalImageRecord[], log: ProblemLog): PairRef[] {
  const byRel = new Map<string, CalImageRecord>();
  for (const r of records) byRel.set(r.rel, r);
  return parsePairs(file, splitDir, byRel, log);
}

function parsePairs(file: string, splitDir: string, byRel: Map<string, CalImageRecord>, log: ProblemLog): PairRef[] {
  if (!existsSync(file)) throw new CalDataError(file, 'missing pairs file (expected one "interactive_rel_path,non_interactive_rel_path" per line)');
  const lines = readFileSync(file, 'utf8').split(/\r?\n/);
  const pairs: PairRef[] = [];
  lines.forEach((raw, k) => {
    const line = k + 1;
    const text = raw.trim();
    if (text === '' || text.startsWith('#')) return;
    try {
      const parts = text.split(',').map((s) => s.trim());
      if (parts.length !== 2 || !parts[0] || !parts[1]) throw new CalDataError(file, `expected "interactive_rel_path,non_interactive_rel_path", got "${text}"`, line);
      const [ri, rn] = parts.map((r, j) => {
        const rel = r.replace(/\\/g, '/').replace(/^\.\//, '');
        const rec = byRel.get(rel) ?? byRel.get(`testset/${rel}`);
        if (!rec) {
          const where = resolve(splitDir, rel);
          throw new CalDataError(file, `${j === 0 ? 'interactive' : 'non-interactive'} image "${r}" ${existsSync(where) ? 'was left out or is not in this subset' : 'does not exist'} (expected a path relative to ${splitDir} of an indexed ${j === 0 ? 'interactive' : 'non_interactive'} image)`, line);
        }
        return rec;
      });
      if (ri.kind !== 'interactive' || rn.kind !== 'non_interactive') throw new CalDataError(file, `expected an interactive image then a non-interactive image, got ${ri.kind} then ${rn.kind}`, line);
      if (ri.classIndex !== rn.classIndex) throw new CalDataError(file, `pair mixes classes ${ri.className} and ${rn.className} (expected the same affordance)`, line);
      pairs.push({ inter: ri, non: rn, line });
    } catch (e) {
      if (!(e instanceof CalDataError)) throw e;
      log.report(e);
    }
  });
  return pairs;
}

/** Whether the masking rule applies to the pairs of a subset under the `mask` option. */
export function maskingApplies(mask: MaskMode, subset: CalSubset): boolean {
  return !(mask === 'never' || (mask === 'test' && subset !== 'testset'));
}

/**
 * The masking rule: the channels of the non-interactive GT to zero, those the interactive image of the pair has
 * no points for (none when the rule does not apply).
 */
export function maskedChannels(p: PairRef, masking: boolean): number[] {
  if (!masking) return [];
  return CONTACT_CHANNELS.map((_, c) => c).filter((c) => p.inter.contacts[c].length === 0);
}

/**
 * The non-interactive points the GT is built from: all of them, or, with region masking, per channel the points
 * of the regions whose names the interactive image touches (all of the channel when no name matches).
 */
export function nonInteractiveContacts(p: PairRef, masking: boolean, regionMask: boolean): [number, number][][] {
  const inter = p.inter.regions, non = p.non.regions;
  if (!regionMask || !masking || !inter || !non) return p.non.contacts;
  return p.non.contacts.map((all, c) => {
    const names = new Set(inter.filter((r) => r.channel === c).map((r) => r.name));
    const kept = non.filter((r) => r.channel === c && names.has(r.name)).flatMap((r) => r.points);
    return kept.length > 0 ? kept : all;
  });
}
