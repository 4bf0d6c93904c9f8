import { MIME, type DatasetPayload, type DatasetThumbnail } from '../../protocol';
import { toImageRef, type ImageInput } from './image';
import { VizOutput } from './output';
import { displayPath } from './paths';

/** Base64 characters of thumbnails one dataset output carries at most (about 2 MB in the saved notebook). */
export const THUMBNAIL_BUDGET = 2_000_000;

/**
 * Keeps thumbnails within `budget` base64 characters, fairly across classes: the first thumbnail of every
 * class, then the second of every class, and so on, until the next one would not fit. Order is kept.
 */
export function fitThumbnails(thumbnails: readonly DatasetThumbnail[], budget = THUMBNAIL_BUDGET): { kept: DatasetThumbnail[]; omitted: number } {
  const rank = new Map<DatasetThumbnail, number>();
  const seen = new Map<string, number>();
  for (const t of thumbnails) {
    const k = seen.get(t.className) ?? 0;
    rank.set(t, k);
    seen.set(t.className, k + 1);
  }
  const byRank = [...thumbnails].sort((a, b) => (rank.get(a) ?? 0) - (rank.get(b) ?? 0));
  const keep = new Set<DatasetThumbnail>();
  let used = 0;
  for (const t of byRank) {
    const size = t.image.data.length + t.label.length + t.className.length + 80;
    if (used + size > budget) break;
    used += size;
    keep.add(t);
  }
  return { kept: thumbnails.filter((t) => keep.has(t)), omitted: thumbnails.length - keep.size };
}

/** One image a dataset output may show as a thumbnail; `image` may be loaded on demand. */
export interface ThumbnailCandidate {
  className: string;
  kind: DatasetThumbnail['kind'];
  label: string;
  image: ImageInput | (() => Promise<ImageInput>);
}

/**
 * Thumbnails for a dataset output: up to `perClass` of each class (interactive first, then
 * non-interactive, in the order given), downscaled to `maxSide` px JPEGs, stopping at the budget.
 * Candidates whose image does not decode are passed to `onError` and skipped.
 * @param options.perClass - thumbnails per class @default 3
 * @param options.maxSide - longer side in px @default 96
 * @param options.budget - base64 characters in all @default {@link THUMBNAIL_BUDGET}
 */
export async function datasetThumbnails(candidates: Iterable<ThumbnailCandidate>, options: { perClass?: number; maxSide?: number; budget?: number; onError?: (c: ThumbnailCandidate, e: Error) => void } = {}): Promise<DatasetThumbnail[]> {
  const perClass = options.perClass ?? 3;
  const budget = options.budget ?? THUMBNAIL_BUDGET;
  const chosen = new Map<string, ThumbnailCandidate[]>();
  for (const c of candidates) {
    const list = chosen.get(c.className) ?? [];
    if (list.length >= perClass) continue;
    list.push(c);
    chosen.set(c.className, list);
  }
  const out: DatasetThumbnail[] = [];
  let used = 0;
  // Round robin over the classes, so a budget that runs out still leaves every class its first ones.
  for (let k = 0; k < perClass; k++) {
    for (const list of chosen.values()) {
      const c = list[k];
      if (!c) continue;
      try {
        const input = typeof c.image === 'function' ? await c.image() : c.image;
        const image = await toImageRef(input, { maxSide: options.maxSide ?? 96 });
        const size = image.data.length + c.label.length + c.className.length + 80;
        if (used + size > budget) return sortByClass(out, chosen);
        used += size;
        out.push({ className: c.className, kind: c.kind, label: c.label, image });
      } catch (e) {
        options.onError?.(c, e instanceof Error ? e : new Error(String(e)));
      }
    }
  }
  return sortByClass(out, chosen);
}

function sortByClass(thumbs: DatasetThumbnail[], order: Map<string, unknown>): DatasetThumbnail[] {
  const rank = new Map([...order.keys()].map((c, i) => [c, i]));
  return thumbs.map((t, i) => ({ t, i })).sort((a, b) => (rank.get(a.t.className) ?? 0) - (rank.get(b.t.className) ?? 0) || a.i - b.i).map((x) => x.t);
}

/** Input of {@link datasetOutput}: the dataset payload without its version; thumbnails optional. */
export type DatasetOutputInput = Omit<DatasetPayload, 'version' | 'thumbnails'> & { thumbnails?: DatasetThumbnail[] };

/** Markdown cells must not break the table: pipes and newlines are escaped. */
const cell = (s: string | number): string => String(s).replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');

/** The text/markdown fallback of a dataset output: counts per class, the part x class matrix, errors. */
export function datasetMarkdown(p: DatasetOutputInput): string {
  const lines: string[] = [];
  lines.push(`### ${cell(p.title ?? 'Dataset')}`, '', `\`${cell(p.root)}\` - ${p.split} / ${p.subset}`, '');
  const withPairs = p.classes.some((c) => c.pairs !== undefined);
  lines.push(`| class | interactive | non-interactive${withPairs ? ' | pairs' : ''} |`, `|---|---:|---:|${withPairs ? '---:|' : ''}`);
  let ti = 0, tn = 0, tp = 0;
  for (const c of p.classes) {
    ti += c.interactive;
    tn += c.nonInteractive;
    tp += c.pairs ?? 0;
    lines.push(`| ${cell(c.name)} | ${c.interactive} | ${c.nonInteractive}${withPairs ? ` | ${c.pairs ?? ''}` : ''} |`);
  }
  lines.push(`| **total** | **${ti}** | **${tn}**${withPairs ? ` | **${tp}**` : ''} |`, '');
  if (p.parts.length > 0) {
    lines.push('Images with contacts, body part x class:', '');
    lines.push(`| class | ${p.parts.map(cell).join(' | ')} |`, `|---|${p.parts.map(() => '---:').join('|')}|`);
    p.classes.forEach((c, j) => lines.push(`| ${cell(c.name)} | ${p.parts.map((_, i) => p.contactMatrix[i]?.[j] ?? 0).join(' | ')} |`));
    lines.push('');
  }
  const thumbs = (p.thumbnails ?? []).slice(0, 12);
  if (thumbs.length > 0) {
    // Small JPEG thumbnails inline as data URIs, so the fallback still shows what the images look like.
    lines.push(thumbs.map((t) => `![${cell(`${t.className} ${t.kind === 'interactive' ? 'interactive' : 'non-interactive'}`).replace(/[[\]]/g, '')}](data:${t.image.mime};base64,${t.image.data})`).join(' '), '');
  }
  if (p.errors.length > 0) {
    lines.push(`**${p.errors.length} problem${p.errors.length === 1 ? '' : 's'} skipped:**`, '');
    for (const e of p.errors.slice(0, 50)) lines.push(`- \`${cell(e.file)}${e.line !== undefined ? `:${e.line}` : ''}\`: ${cell(e.message)}`);
    if (p.errors.length > 50) lines.push(`- ... and ${p.errors.length - 50} more`);
    lines.push('');
  } else {
    lines.push('No problems found.', '');
  }
  return lines.join('\n');
}

/**
 * A dataset output (MIME `application/vnd.affordance-lab.dataset.v1+json`) with a text/markdown fallback.
 * Thumbnails beyond {@link THUMBNAIL_BUDGET} are left out (fairly across classes, see {@link fitThumbnails})
 * and counted in `thumbnailsOmitted`; `root` is printed relative to the notebook's folder (see {@link displayPath}).
 * Async like the other builders, so callers treat every viz builder the same way.
 * @throws when contactMatrix does not have parts.length rows of classes.length numbers
 */
export async function datasetOutput(input: DatasetOutputInput): Promise<VizOutput<typeof MIME.dataset>> {
  if (input.contactMatrix.length !== input.parts.length || input.contactMatrix.some((r) => r.length !== input.classes.length)) {
    throw new Error(`datasetOutput: contactMatrix must be ${input.parts.length} rows (parts) x ${input.classes.length} columns (classes)`);
  }
  const { kept, omitted } = fitThumbnails(input.thumbnails ?? []);
  // The root as the notebook sees it (relative to its folder), not the machine's absolute path.
  input = { ...input, root: displayPath(input.root) };
  const payload: DatasetPayload = { version: 1, ...input, thumbnails: kept, ...(omitted ? { thumbnailsOmitted: omitted, thumbnailBudget: THUMBNAIL_BUDGET } : {}) };
  return Promise.resolve(new VizOutput(MIME.dataset, payload, { 'text/markdown': datasetMarkdown(input) }));
}
