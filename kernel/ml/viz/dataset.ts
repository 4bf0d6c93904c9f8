import { MIME, type DatasetPayload, type DatasetThumbnail } from '../../protocol';
import { VizOutput } from './output';

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
 * Async like the other builders, so callers treat every viz builder the same way.
 * @throws when contactMatrix does not have parts.length rows of classes.length numbers
 */
export async function datasetOutput(input: DatasetOutputInput): Promise<VizOutput<typeof MIME.dataset>> {
  if (input.contactMatrix.length !== input.parts.length || input.contactMatrix.some((r) => r.length !== input.classes.length)) {
    throw new Error(`datasetOutput: contactMatrix must be ${input.parts.length} rows (parts) x ${input.classes.length} columns (classes)`);
  }
  const payload: DatasetPayload = { version: 1, ...input, thumbnails: input.thumbnails ?? [] };
  return Promise.resolve(new VizOutput(MIME.dataset, payload, { 'text/markdown': datasetMarkdown(input) }));
}
