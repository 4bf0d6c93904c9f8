/**
 * Display of a dataset: the per-class counts and contact matrix (`ds.stats()`), the dataset summary output
 * (`ds.summary()`) and the outputs of one pair (`ds.show(i)`), built with the renderers' payload builders of
 * `../viz` and displayed in the cell.
 */
import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { display, DISPLAY_HANDLE } from '../../display';
import { CONTACT_CHANNELS, type DatasetThumbnail } from '../../protocol';
import { datasetOutput, datasetThumbnails, type ThumbnailCandidate } from '../viz/dataset';
import { heatmapOutput } from '../viz/heatmap';
import { channelMaps } from '../viz/quantize';
import { keypointsOutput } from '../viz/keypoints';
import type { VizOutput } from '../viz/output';
import { CAL_CLASSES } from './classes';
import type { CalDataset } from './dataset';
import { CalDataError } from './errors';
import type { CalImageRecord } from './layout';
import type { PairRef } from './pairing';

/** The result of `ds.stats()`. */
export interface DatasetStats {
  classes: { name: string; interactive: number; nonInteractive: number; pairs: number }[];
  parts: string[];
  contactMatrix: number[][];
}

/** Per-class counts (classes present, in the paper's order) and the part x class contact matrix. */
export function datasetStats(interactiveImages: readonly CalImageRecord[], nonInteractiveImages: readonly CalImageRecord[], pairs: readonly PairRef[]): DatasetStats {
  const present = CAL_CLASSES.filter((c) => interactiveImages.some((r) => r.classIndex === c.index) || nonInteractiveImages.some((r) => r.classIndex === c.index));
  const classes = present.map((c) => ({
    name: c.name,
    interactive: interactiveImages.filter((r) => r.classIndex === c.index).length,
    nonInteractive: nonInteractiveImages.filter((r) => r.classIndex === c.index).length,
    pairs: pairs.filter((p) => p.inter.classIndex === c.index).length,
  }));
  const all = [...interactiveImages, ...nonInteractiveImages];
  const contactMatrix = CONTACT_CHANNELS.map((_, ch) => present.map((c) => all.filter((r) => r.classIndex === c.index && r.contacts[ch].length > 0).length));
  return { classes, parts: [...CONTACT_CHANNELS], contactMatrix };
}

/**
 * The dataset output of `ds.summary()`; displays it and returns it. A thumbnail that cannot be decoded is left
 * out and passed to `report`.
 */
export async function datasetSummary(ds: CalDataset, report: (e: CalDataError) => void, options: { thumbnails?: number; title?: string }): Promise<VizOutput<'application/vnd.affordance-lab.dataset.v1+json'>> {
  const st = ds.stats();
  // A few images of every class (two interactive, one non-interactive), within the output's size budget.
  const classes = st.classes.slice(0, options.thumbnails ?? st.classes.length);
  const paths = new Map<ThumbnailCandidate, string>();
  const pick = (list: readonly CalImageRecord[], cls: string, n: number, kind: DatasetThumbnail['kind']): ThumbnailCandidate[] =>
    list
      .filter((r) => r.className === cls)
      .slice(0, n)
      .map((rec) => {
        const c: ThumbnailCandidate = { className: cls, kind, label: `${rec.object}/${rec.rel.split('/').pop() ?? ''}`, image: () => sharp(rec.path).toBuffer() };
        paths.set(c, rec.path);
        return c;
      });
  const candidates = classes.flatMap((c) => [...pick(ds.interactiveImages, c.name, 2, 'interactive'), ...pick(ds.nonInteractiveImages, c.name, 1, 'non_interactive')]);
  const thumbnails: DatasetThumbnail[] = await datasetThumbnails(candidates, {
    perClass: 3,
    maxSide: 96,
    onError: (c, e) => report(new CalDataError(paths.get(c) ?? c.label, `cannot decode image for a thumbnail (${e.message}); expected a JPEG or PNG file`)),
  });
  const out = await datasetOutput({
    title: options.title ?? `CAL ${ds.split} / ${ds.subset}: ${ds.length} pairs`,
    root: ds.root,
    split: ds.split,
    subset: ds.subset,
    classes: st.classes,
    parts: st.parts,
    contactMatrix: st.contactMatrix,
    thumbnails,
    errors: [...ds.issues],
  });
  display(out);
  return markShown(out);
}

/** The four outputs of `ds.show(i)`; displays them and returns them. */
export async function showPair(ds: CalDataset, i: number): Promise<VizOutput<'application/vnd.affordance-lab.keypoints.v1+json' | 'application/vnd.affordance-lab.heatmap.v1+json'>[]> {
  const info = ds.pairInfo(i);
  const p = { inter: info.interactive, non: info.nonInteractive };
  const pair = await ds.get(i);
  try {
    const [imgIn, imgNon] = await Promise.all([readFile(p.inter.path), readFile(p.non.path)]);
    const label = `#${i} ${p.inter.className}`;
    // GT maps travel at 112 x 112 (a quarter of the bytes); the fallback PNG is drawn from the full maps.
    const outs = [
      await keypointsOutput({ image: imgIn, width: p.inter.width, height: p.inter.height, keypoints: p.inter.pose ?? [], contacts: CONTACT_CHANNELS.map((channel, c) => ({ channel, points: p.inter.contacts[c] })), title: `${label}: interactive ${p.inter.object}` }),
      await keypointsOutput({ image: imgNon, width: p.non.width, height: p.non.height, keypoints: [], contacts: CONTACT_CHANNELS.map((channel, c) => ({ channel, points: p.non.contacts[c] })), title: `${label}: non-interactive ${p.non.object}` }),
      await heatmapOutput({ image: imgIn, maps: await channelMaps(pair.interactive.gt), maxMapSide: 112, title: `${label}: interactive GT` }),
      await heatmapOutput({ image: imgNon, maps: await channelMaps(pair.nonInteractive.gt), maxMapSide: 112, title: `${label}: non-interactive GT${pair.maskedChannels.length ? ` (masked: ${pair.maskedChannels.map((c) => CONTACT_CHANNELS[c]).join(', ')})` : ''}` }),
    ];
    for (const o of outs) display(o);
    return markShown(outs);
  } finally {
    pair.dispose();
  }
}

/**
 * Marks a value returned after it was displayed, so that a cell ending with `await ds.summary()` does not show
 * it a second time as the cell's result (the kernel skips values carrying DISPLAY_HANDLE). It stays displayable.
 */
function markShown<T extends object>(v: T): T {
  Object.defineProperty(v, DISPLAY_HANDLE, { value: true, enumerable: false });
  return v;
}
