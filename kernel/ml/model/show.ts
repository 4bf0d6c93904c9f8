/**
 * Prediction-vs-GT heatmap output of one pair: the non-interactive image with the six predicted D_non maps and
 * the GT maps beside them (and optionally D_in over the interactive image).
 */
import { CONTACT_CHANNELS } from '../../protocol';
import { heatmapOutput } from '../viz/index';
import sharp from 'sharp';
import { tf } from './tf';
import { imagesAt, toPairBatch, type BatchAdapter, type Predictor } from './batch';

export interface PredictionOutputOptions {
  /** Pair of the batch to show. @default 0 */
  index?: number;
  /** 'non' (default): D_non over the non-interactive image with GT_non; 'in': D_in over the interactive image with GT_in. */
  which?: 'non' | 'in';
  title?: string;
  adapt?: BatchAdapter;
  /**
   * Size of the original image, so that the readout under the cursor is in its pixels. @default read from the
   * batch's image files when it has them (a dataset's batches do: `pathsNon` / `pathsIn`), else the tensor's size
   */
  imageSize?: { width: number; height: number };
}

/** Width and height of an image file as it is displayed (EXIF orientations 5-8 swap them). */
async function originalSize(path: string): Promise<{ width: number; height: number } | undefined> {
  try {
    const m = await sharp(path).metadata();
    if (!m.width || !m.height) return undefined;
    return (m.orientation ?? 1) >= 5 ? { width: m.height, height: m.width } : { width: m.width, height: m.height };
  } catch {
    return undefined;
  }
}

/**
 * Builds a heatmap output comparing a model's prediction with the GT for one pair of a batch. The batch is not
 * disposed; every temporary tensor is.
 * @returns a displayable (`display()` it or return it from a cell)
 */
export async function predictionOutput(model: Predictor, batchLike: unknown, options: PredictionOutputOptions = {}): Promise<Awaited<ReturnType<typeof heatmapOutput>>> {
  const batch = (options.adapt ?? toPairBatch)(batchLike);
  const n = batch.nonInteractive.shape[0];
  const i = options.index ?? 0;
  if (!Number.isInteger(i) || i < 0 || i >= n) throw new Error(`predictionOutput: index must be an integer in [0, ${n - 1}], got ${i}`);
  const which = options.which ?? 'non';
  const size = (model.options as { inputSize?: number } | undefined)?.inputSize;
  const [pred, gt, image] = tf.tidy(() => {
    const one = <T extends tf.Tensor>(t: T): T => tf.slice(t, [i], [1]) as T;
    const out = model.predict({ interactive: imagesAt(one(batch.interactive), size), nonInteractive: imagesAt(one(batch.nonInteractive), size), pose: one(batch.pose) });
    const d = which === 'in' ? out.dIn : out.dNon;
    if (!d) throw new Error('predictionOutput: this model has no interactive prediction (D_in)');
    return [tf.squeeze(d, [0]), tf.squeeze(one(which === 'in' ? batch.gtIn : batch.gtNon), [0]), tf.squeeze(one(which === 'in' ? batch.interactive : batch.nonInteractive), [0])];
  });
  try {
    const [p, g] = [(await pred.data()) as Float32Array, (await gt.data()) as Float32Array];
    const split = (values: Float32Array, shape: number[]) =>
      CONTACT_CHANNELS.map((name, c) => {
        const [h, w] = shape;
        const v = new Float32Array(h * w);
        for (let k = 0; k < h * w; k++) v[k] = values[k * 6 + c];
        return { name, values: v, width: w, height: h };
      });
    const cls = batch.classNames?.[i];
    const files = batchLike as { pathsIn?: unknown; pathsNon?: unknown };
    const list = which === 'in' ? files.pathsIn : files.pathsNon;
    const path = Array.isArray(list) && typeof list[i] === 'string' ? (list[i] as string) : undefined;
    const imageSize = options.imageSize ?? (path ? await originalSize(path) : undefined);
    return await heatmapOutput({
      image,
      imageSize,
      maps: split(p, pred.shape),
      gt: split(g, gt.shape),
      title: options.title ?? `${model.options?.name ?? 'model'}: ${which === 'in' ? 'D_in' : 'D_non'} vs GT${cls ? ` (${cls})` : ''}`,
    });
  } finally {
    tf.dispose([pred, gt, image]);
  }
}
