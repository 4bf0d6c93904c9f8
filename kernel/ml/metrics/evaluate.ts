/**
 * CAL evaluation (docs/paper.md section 3): only the non-interactive prediction is scored; all-zero GT channels
 * are skipped; the overall figure is the plain mean over every evaluated (pair x channel) entry, and the
 * per-class and per-body-part tables group those same entries (not a mean over classes).
 */
import { CONTACT_CHANNELS, MIME, type MetricName, type MetricValues, type MetricsPayload, type MetricsRun, type MimeBundle, type SplitName, type SplitResult } from '../../protocol';
import { MIME_BUNDLE, type Displayable } from '../../display';
import { tf } from '../model/tf';
import { disposeBatch, imagesAt, iterateSource, toPairBatch, type BatchAdapter, type BatchSource, type PairBatch, type Predictor } from '../model/batch';
import { DEFAULT_NSS_THRESHOLD, metricsBatch } from './metrics';
import paper from '../../../data/pial-cvpr2023.json';

export interface EvaluateOptions {
  /** Split the data belongs to (labels the result). @default 'Unseen' */
  split?: SplitName;
  /** NSS threshold on minmax(GT). @default 0.1 */
  nssThreshold?: number;
  /** Pairs per forward pass; larger batches from the source are cut; a dataset with `batches()` is asked for this size. @default the source's batch size (8 for a dataset) */
  batchSize?: number;
  /** Stop after this many pairs (a validation subset). */
  maxPairs?: number;
  /** Name of the run in tables. @default the model's configuration name */
  name?: string;
  /** Called after each batch with the pairs done so far. */
  onProgress?: (p: { pairs: number; entries: number }) => void;
  /** Converts the source's items into batches. @default {@link toPairBatch} */
  adapt?: BatchAdapter;
  /** Dispose each batch after use. @default true unless the source is an array */
  disposeBatches?: boolean;
  /** Abort between batches. */
  signal?: AbortSignal;
  /**
   * Called for every evaluated (pair x channel) entry, in test order: the same entries in the same order for
   * every model on the same test data, so two runs can be compared entry by entry (paired tests).
   */
  onEntry?: (e: { pair: number; className: string; part: string; values: Record<MetricName, number> }) => void;
}

/** Metrics reported by {@link evaluate}. */
export const EVAL_METRICS: MetricName[] = ['KLD', 'SIM', 'NSS', 'CC'];

class Acc {
  n = 0;
  readonly sums: Record<MetricName, number> = { KLD: 0, SIM: 0, NSS: 0, CC: 0 };
  add(v: Record<MetricName, number>): void {
    this.n++;
    for (const m of EVAL_METRICS) this.sums[m] += v[m];
  }
  mean(): MetricValues {
    const out: MetricValues = {};
    for (const m of EVAL_METRICS) out[m] = this.n ? this.sums[m] / this.n : NaN;
    return out;
  }
}

/** Result of {@link evaluate}: plain fields, and displayable as a metrics table. */
export class EvaluationResult implements Displayable {
  constructor(
    readonly name: string,
    readonly split: SplitName,
    readonly nssThreshold: number,
    /** Mean over all evaluated entries. */
    readonly overall: MetricValues,
    /** Class -> mean over that class's entries. */
    readonly perClass: Record<string, MetricValues>,
    /** Contact channel -> mean over that channel's entries. */
    readonly perPart: Record<string, MetricValues>,
    /** Number of evaluated (pair x channel) entries. */
    readonly count: number,
    /** Number of pairs seen. */
    readonly pairs: number,
  ) {}

  /** The protocol's per-split record. */
  toSplitResult(): SplitResult {
    return { overall: this.overall, perClass: this.perClass, perPart: this.perPart, count: this.count };
  }

  [MIME_BUNDLE](): MimeBundle {
    return metricsOutput([{ name: this.name, results: this }])[MIME_BUNDLE]();
  }

  toString(): string {
    const o = this.overall;
    return `${this.name} on ${this.split} (${this.count} entries, NSS t=${this.nssThreshold}): KLD ${fmt(o.KLD)} SIM ${fmt(o.SIM)} NSS ${fmt(o.NSS)} CC ${fmt(o.CC)}`;
  }
}

const fmt = (x: number | undefined): string => (x === undefined || Number.isNaN(x) ? '—' : x.toFixed(3));

/** [B, H, W, 6] -> [B * 6, H, W] (pair-major, then channel). */
function channelMaps(t: tf.Tensor4D): tf.Tensor3D {
  const [b, h, w, c] = t.shape;
  return tf.reshape(tf.transpose(t, [0, 3, 1, 2]), [b * c, h, w]);
}

/**
 * Evaluates a model on test pairs with the CAL protocol.
 * @param model a {@link PIALNet} or any {@link Predictor}
 * @param testData batches with `classNames`: an array, an (async) iterable, or a function returning one
 * @returns overall, per-class and per-body-part tables (KLD, SIM, NSS, CC)
 */
export async function evaluate(model: Predictor, testData: BatchSource<unknown>, options: EvaluateOptions = {}): Promise<EvaluationResult> {
  const split = options.split ?? 'Unseen';
  if (split !== 'Seen' && split !== 'Unseen') throw new Error(`evaluate: split must be 'Seen' or 'Unseen', got ${JSON.stringify(split)}`);
  const threshold = options.nssThreshold ?? DEFAULT_NSS_THRESHOLD;
  const adapt = options.adapt ?? toPairBatch;
  const dispose = options.disposeBatches ?? !Array.isArray(testData);
  const overall = new Acc();
  const perClass = new Map<string, Acc>();
  const perPart = new Map<string, Acc>();
  let pairs = 0;
  const max = options.maxPairs ?? Infinity;
  for await (const item of iterateSource(testData, 0, { batchSize: options.batchSize ?? 8 })) {
    if (options.signal?.aborted) throw Object.assign(new Error('evaluate: interrupted'), { name: 'AbortError' });
    const batch: PairBatch = adapt(item);
    try {
      const n = batch.nonInteractive.shape[0];
      const step = Math.max(1, Math.min(options.batchSize ?? n, n));
      for (let s = 0; s < n && pairs < max; s += step) {
        const e = Math.min(n, s + step, s + (max - pairs));
        const cut = <T extends tf.Tensor>(t: T): T => (s === 0 && e === n ? t : (tf.slice(t, [s], [e - s]) as T));
        const [pred, gt] = tf.tidy(() => {
          // Images are brought to the model's input size; the GT stays at its own size (scored there).
          const size = (model.options as { inputSize?: number } | undefined)?.inputSize;
          const out = model.predict({ interactive: imagesAt(cut(batch.interactive), size), nonInteractive: imagesAt(cut(batch.nonInteractive), size), pose: cut(batch.pose) });
          return [channelMaps(out.dNon), channelMaps(cut(batch.gtNon))];
        });
        let r;
        try {
          r = await metricsBatch(pred, gt, { threshold }, 'evaluate');
        } finally {
          tf.dispose([pred, gt]);
        }
        const C = CONTACT_CHANNELS.length;
        for (let i = 0; i < (e - s) * C; i++) {
          if (!(r.gtMax[i] > 0)) continue;
          const v = { KLD: r.KLD[i], SIM: r.SIM[i], NSS: r.NSS[i], CC: r.CC[i] };
          const pair = s + Math.floor(i / C);
          const cls = batch.classNames?.[pair] ?? 'unknown';
          const part = CONTACT_CHANNELS[i % C];
          overall.add(v);
          options.onEntry?.({ pair: pairs + pair - s, className: cls, part, values: v });
          if (!perClass.has(cls)) perClass.set(cls, new Acc());
          perClass.get(cls)!.add(v);
          if (!perPart.has(part)) perPart.set(part, new Acc());
          perPart.get(part)!.add(v);
        }
        pairs += e - s;
      }
    } finally {
      if (dispose) disposeBatch(batch);
    }
    options.onProgress?.({ pairs, entries: overall.n });
    if (pairs >= max) break;
  }
  if (overall.n === 0) throw new Error(`evaluate: no entry to score (${pairs} pairs, all GT channels empty)`);
  const toRecord = (m: Map<string, Acc>, order: readonly string[]): Record<string, MetricValues> => {
    const keys = [...m.keys()].sort((a, b) => {
      const ia = order.indexOf(a);
      const ib = order.indexOf(b);
      return (ia < 0 ? 1e9 : ia) - (ib < 0 ? 1e9 : ib) || a.localeCompare(b);
    });
    return Object.fromEntries(keys.map((k) => [k, m.get(k)!.mean()]));
  };
  const name = options.name ?? model.options?.name ?? 'model';
  return new EvaluationResult(name, split, threshold, overall.mean(), toRecord(perClass, paper.perClassKLD.seen.classes), toRecord(perPart, CONTACT_CHANNELS), overall.n, pairs);
}

/** A run for {@link metricsOutput}: evaluation results (one per split), or the protocol's per-split records. */
export interface RunInput {
  name: string;
  results: EvaluationResult | EvaluationResult[] | Partial<Record<SplitName, SplitResult>>;
  kind?: 'run' | 'reference';
}

/** The paper's published rows (data/pial-cvpr2023.json) as reference runs: overall KLD/SIM/NSS and per-class KLD. */
export function paperReferenceRuns(methods?: string[]): MetricsRun[] {
  const overall = paper.overall as Record<string, { seen: MetricValues; unseen: MetricValues }>;
  const perClass = paper.perClassKLD as Record<'seen' | 'unseen', { classes: string[]; methods: Record<string, number[]> }>;
  return Object.keys(overall)
    .filter((m) => !methods || methods.includes(m))
    .map((m) => {
      const split = (key: 'seen' | 'unseen'): SplitResult => {
        const pc = perClass[key];
        const vals = pc.methods[m];
        return { overall: { ...overall[m][key] }, perClass: vals ? Object.fromEntries(pc.classes.map((c, i) => [c, { KLD: vals[i] }])) : {} };
      };
      return { name: `${m} (CVPR 2023)`, kind: 'reference' as const, results: { Seen: split('seen'), Unseen: split('unseen') } };
    });
}

function toRun(r: RunInput): { run: MetricsRun; threshold?: number } {
  const res = r.results;
  if (res instanceof EvaluationResult || Array.isArray(res)) {
    const list = Array.isArray(res) ? res : [res];
    const results: Partial<Record<SplitName, SplitResult>> = {};
    for (const e of list) results[e.split] = e.toSplitResult();
    return { run: { name: r.name, kind: r.kind ?? 'run', results }, threshold: list[0]?.nssThreshold };
  }
  return { run: { name: r.name, kind: r.kind ?? 'run', results: res } };
}

/** Markdown tables of a metrics payload: overall per split, then per class and per body part. */
export function metricsMarkdown(p: MetricsPayload): string {
  const lines: string[] = [];
  if (p.title) lines.push(`**${p.title}**`, '');
  const splits: SplitName[] = ['Seen', 'Unseen'].filter((s) => p.runs.some((r) => r.results[s as SplitName])) as SplitName[];
  const higher: Record<MetricName, string> = { KLD: '↓', SIM: '↑', NSS: '↑', CC: '↑' };
  const head = ['Method', ...splits.flatMap((s) => p.metrics.map((m) => `${s} ${m} ${higher[m]}`))];
  lines.push(`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`);
  for (const r of p.runs) {
    const cells = splits.flatMap((s) => p.metrics.map((m) => fmt(r.results[s]?.overall[m])));
    lines.push(`| ${r.kind === 'reference' ? `_${r.name}_` : r.name} | ${cells.join(' | ')} |`);
  }
  const runs = p.runs.filter((r) => r.kind === 'run');
  for (const s of splits) {
    for (const [table, label] of [['perClass', 'class'], ['perPart', 'body part']] as const) {
      const keys = [...new Set(runs.flatMap((r) => Object.keys(r.results[s]?.[table] ?? {})))];
      if (!keys.length) continue;
      lines.push('', `${s}, per ${label} (KLD / SIM / NSS):`, '', `| ${label} | ${runs.map((r) => r.name).join(' | ')} |`, `|---|${runs.map(() => '---').join('|')}|`);
      for (const k of keys) {
        const cells = runs.map((r) => {
          const v = r.results[s]?.[table]?.[k];
          return v ? `${fmt(v.KLD)} / ${fmt(v.SIM)} / ${fmt(v.NSS)}` : '—';
        });
        lines.push(`| ${k} | ${cells.join(' | ')} |`);
      }
    }
  }
  if (p.nssThreshold !== undefined) lines.push('', `NSS threshold ${p.nssThreshold} on minmax(GT). Mean over (pair x channel) entries with max(GT) > 0.`);
  return lines.join('\n');
}

/** A displayable metrics comparison. */
export class MetricsOutput implements Displayable {
  constructor(readonly payload: MetricsPayload) {}
  [MIME_BUNDLE](): MimeBundle {
    return { [MIME.metrics]: this.payload, 'text/markdown': metricsMarkdown(this.payload) };
  }
}

/**
 * Puts several runs side by side as one metrics output (chart + table in the notebook, markdown elsewhere).
 * @param runs `{ name, results }` with the results of {@link evaluate} (one per split) or per-split records
 * @param options.reference add the paper's published rows as reference runs (all methods, or those named)
 */
export function metricsOutput(runs: RunInput[], options: { reference?: boolean | string[]; title?: string; nssThreshold?: number; metrics?: MetricName[] } = {}): MetricsOutput {
  const converted = runs.map(toRun);
  const refs = options.reference ? paperReferenceRuns(Array.isArray(options.reference) ? options.reference : undefined) : [];
  const payload: MetricsPayload = {
    version: 1,
    title: options.title,
    metrics: options.metrics ?? (options.reference ? ['KLD', 'SIM', 'NSS'] : EVAL_METRICS),
    runs: [...converted.map((c) => c.run), ...refs],
    nssThreshold: options.nssThreshold ?? converted.find((c) => c.threshold !== undefined)?.threshold ?? DEFAULT_NSS_THRESHOLD,
  };
  // The rows' order as the runs list them, carried as arrays: a saved notebook sorts object keys.
  const order = (table: 'perClass' | 'perPart'): string[] => [...new Set(payload.runs.flatMap((r) => (['Seen', 'Unseen'] as const).flatMap((s) => Object.keys(r.results[s]?.[table] ?? {}))))];
  const classOrder = order('perClass');
  const partOrder = order('perPart');
  if (classOrder.length) payload.classOrder = classOrder;
  if (partOrder.length) payload.partOrder = partOrder;
  return new MetricsOutput(payload);
}
