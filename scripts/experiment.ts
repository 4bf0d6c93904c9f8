// Evidence that PIAL-Net learns and whether pose helps: on SynCAL, trains `small` and its no-KHP ablation the same
// way (same steps, same data order) over several seeds, evaluates both on the test split next to a mean-prior and
// a center-prior baseline, and reports mean +- std over the seeds and a paired t-test over the test entries (each
// pair x body part scored by both models). Writes out/experiment/results.md and results.json.
//
// Usage: npm run experiment            (environment knobs below)
//   EXPERIMENT_SEEDS       comma-separated seeds (weights and data order), default 0,1,2
//   EXPERIMENT_STEPS       training steps of each model, default 300
//   EXPERIMENT_SIZE        input size of `small`, default 96
//   EXPERIMENT_BATCH       batch size, default 8
//   EXPERIMENT_LR          encoder learning rate (the rest at 10x), default 3e-4
//   EXPERIMENT_SPLIT       Seen or Unseen, default Unseen
//   EXPERIMENT_TRAIN_MASK  masking rule (openCAL `mask`) of training pairs: 'test' (default, the paper's protocol:
//                          training pairs keep their whole non-interactive GT) or 'always'
//   EXPERIMENT_REGION_MASK 1 to restrict the masked training GT to SynCAL's named regions (openCAL `regionMask`),
//                          default 0; test pairs always follow the paper's protocol
//   SYNCAL_DIR             dataset folder, default out/syncal: used when it holds the default SynCAL, generated
//                          into when missing or empty; any other folder is left untouched and a fresh one beside
//                          it is used
//   EXPERIMENT_OUT         output folder, default out/experiment
//   AFFORDANCE_LAB_BACKEND backend, default wasm
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { initRuntime, runtimeInfo, tf } from '../kernel/runtime/index';
import { ensureSynCAL, openCAL, type CalDataset } from '../kernel/ml/data/index';
import { PIALNet } from '../kernel/ml/model/index';
import { train, MeanPrior, centerPrior, releaseTrainingState, type TrainResult } from '../kernel/ml/train/index';
import { evaluate, metricsOutput, metricsMarkdown, meanStd, pairedTTest, EVAL_METRICS, type EvaluationResult, type PairedTest } from '../kernel/ml/metrics/index';
import type { MetricName } from '../kernel/protocol';
import type { SplitName } from '../kernel/protocol';

const env = (k: string, d: number): number => (process.env[k] ? Number(process.env[k]) : d);
const trainMin = process.env.EXPERIMENT_TRAIN_MIN ? Number(process.env.EXPERIMENT_TRAIN_MIN) : undefined;
const size = env('EXPERIMENT_SIZE', 96);
const batchSize = env('EXPERIMENT_BATCH', 8);
const lr = env('EXPERIMENT_LR', 3e-4);
const split = (process.env.EXPERIMENT_SPLIT ?? 'Unseen') as SplitName;
const trainMask = (process.env.EXPERIMENT_TRAIN_MASK ?? 'test') as 'always' | 'test';
const regionMask = process.env.EXPERIMENT_REGION_MASK === '1';
const seeds = (process.env.EXPERIMENT_SEEDS ?? '0,1,2').split(',').map((x) => Number(x.trim()));
const askedRoot = resolve(process.env.SYNCAL_DIR ?? 'out/syncal');
const outDir = resolve(process.env.EXPERIMENT_OUT ?? 'out/experiment');

function log(msg: string): void {
  console.log(`[${new Date().toISOString().slice(11, 19)}] ${msg}`);
}

/** Seconds per training step of the full model: the median step of a throwaway copy's first 7 steps (the first two are not timed). */
async function calibrate(ds: CalDataset): Promise<number> {
  const model = PIALNet.create({ base: 'small', inputSize: size, seed: 0 });
  const times: number[] = [];
  let last = 0;
  await train(model, (epoch) => ds.batches({ batchSize, seed: 1000 + epoch, augment: true }), {
    steps: 7,
    lr,
    display: false,
    onBatchEnd: () => {
      const now = Date.now();
      if (last) times.push((now - last) / 1000);
      last = now;
    },
  });
  releaseTrainingState(model);
  model.dispose();
  const timed = times.slice(1).sort((a, b) => a - b);
  return timed[Math.floor(timed.length / 2)];
}

async function trainModel(name: string, khp: boolean, ds: CalDataset, steps: number, seed: number): Promise<{ model: PIALNet; result: TrainResult }> {
  const model = PIALNet.create({ base: 'small', name, khp, inputSize: size, seed });
  log(`${name}: ${model.toString()}`);
  const t0 = Date.now();
  const result = await train(model, (epoch) => ds.batches({ batchSize, seed: seed * 1000 + epoch, augment: true }), {
    steps,
    lr,
    warmupSteps: Math.min(20, Math.round(steps / 10)),
    display: false,
    onBatchEnd: (i) => {
      if (i.step % 20 === 0) log(`${name} step ${i.step}: loss ${i.loss.toFixed(4)} (in ${i.lossIn.toFixed(4)}, non ${i.lossNon.toFixed(4)}), ${i.pairsPerSec.toFixed(2)} pairs/s`);
    },
  });
  log(`${name}: ${result.step} steps in ${((Date.now() - t0) / 1000).toFixed(0)} s, final loss ${result.finalLoss.toFixed(4)}`);
  return { model, result };
}

/** Per test pair, each metric averaged over the pair's scored body parts (the parts of one pair are not independent). */
type Entries = Record<MetricName, number[]>;
const emptyEntries = (): Entries => ({ KLD: [], SIM: [], NSS: [], CC: [] });
/** Lower is better for KLD only. */
const better = (m: MetricName, a: number, b: number): boolean => (m === 'KLD' ? a < b : a > b);
const f3 = (x: number): string => (Number.isFinite(x) ? x.toFixed(3) : '—');
const pm = (xs: number[]): string => {
  const s = meanStd(xs);
  return xs.length > 1 ? `${f3(s.mean)} ± ${f3(s.std)}` : f3(s.mean);
};
const fp = (p: number): string => (p < 1e-4 ? p.toExponential(1) : p.toFixed(4));

async function evaluateWithEntries(model: Parameters<typeof evaluate>[0], data: () => AsyncIterable<unknown>, name: string): Promise<{ res: EvaluationResult; entries: Entries }> {
  const sums: { n: number; v: Record<MetricName, number> }[] = [];
  const res = await evaluate(model, data, {
    split,
    name,
    onEntry: (e) => {
      const s = (sums[e.pair] ??= { n: 0, v: { KLD: 0, SIM: 0, NSS: 0, CC: 0 } });
      s.n++;
      EVAL_METRICS.forEach((m) => (s.v[m] += e.values[m]));
    },
  });
  const entries = emptyEntries();
  for (const s of sums) if (s) EVAL_METRICS.forEach((m) => entries[m].push(s.v[m] / s.n));
  log(res.toString());
  return { res, entries };
}

async function main(): Promise<void> {
  const backend = (process.env.AFFORDANCE_LAB_BACKEND as 'wasm' | undefined) ?? 'wasm';
  await initRuntime({ backend, notebookDir: process.cwd() });
  const info = runtimeInfo();
  if (seeds.length === 0 || seeds.some((x) => !Number.isInteger(x) || x < 0)) throw new Error(`EXPERIMENT_SEEDS must list non-negative integers, got ${JSON.stringify(process.env.EXPERIMENT_SEEDS)}`);
  log(`backend ${info.backend} (${info.device}), split ${split}, input ${size} px, batch ${batchSize}, lr ${lr} (encoder) / ${Number((lr * 10).toPrecision(6))} (rest), seeds ${seeds.join(', ')}, ${trainMin !== undefined ? `training budget ${trainMin} min` : `${env('EXPERIMENT_STEPS', 300)} steps per model`}`);
  const data = await ensureSynCAL(askedRoot, { seed: 0 });
  if (data.note) log(data.note);
  if (data.generated) log(`generated SynCAL (seed 0) in ${data.root}: ${data.generated.images} images in ${data.generated.seconds.toFixed(1)} s`);
  const root = data.root;
  const trainDs = await openCAL(root, { split, subset: 'trainset', size, mask: trainMask, regionMask });
  // Test GT at the protocol's 224 x 224; images are resized to the model's input inside evaluate().
  // The test pairs always follow the paper's protocol, so that runs trained on other targets are scored alike.
  const testDs = await openCAL(root, { split, subset: 'testset', size: 224 });
  log(`${split}: ${trainDs.length} training pairs, ${testDs.length} test pairs`);
  const testData = (): AsyncIterable<unknown> => testDs.batches({ batchSize: 6 });

  // Every model trains the same number of steps with the same schedule and, for a seed, the same data order.
  let steps = env('EXPERIMENT_STEPS', 300);
  if (trainMin !== undefined) {
    const sPerStep = await calibrate(trainDs);
    steps = Math.max(10, Math.floor((trainMin * 60) / sPerStep));
    log(`calibration: ${sPerStep.toFixed(2)} s per step of ${batchSize} pairs -> ${steps} steps in ${trainMin} min`);
  }
  const runs = [
    { name: 'PIAL-Net small', khp: true },
    { name: 'no KHP (ablation)', khp: false },
  ];
  const perSeed: { seed: number; name: string; res: EvaluationResult; train: TrainResult; entries: Entries }[] = [];
  for (const seed of seeds) {
    for (const r of runs) {
      const t = await trainModel(`${r.name} seed ${seed}`, r.khp, trainDs, steps, seed);
      const e = await evaluateWithEntries(t.model, testData, `${r.name} seed ${seed}`);
      perSeed.push({ seed, name: r.name, res: e.res, train: t.result, entries: e.entries });
      releaseTrainingState(t.model);
      t.model.dispose();
    }
  }
  const prior = await MeanPrior.fit(() => trainDs.batches({ batchSize: 16, shuffle: false }), { size: 56 });
  const center = centerPrior(56);
  const baselines = [
    { name: 'mean prior', ...(await evaluateWithEntries(prior, testData, 'mean prior')) },
    { name: 'center prior', ...(await evaluateWithEntries(center, testData, 'center prior')) },
  ];
  prior.dispose();
  center.dispose();

  const of = (name: string) => perSeed.filter((r) => r.name === name);
  const seedMean = (name: string): Entries => {
    // Per test pair, the mean over seeds (the same pairs in the same order for every run).
    const list = of(name);
    const out = emptyEntries();
    for (const m of EVAL_METRICS) out[m] = list[0].entries[m].map((_, i) => list.reduce((a, r) => a + r.entries[m][i], 0) / list.length);
    return out;
  };
  const [full, abl] = [seedMean(runs[0].name), seedMean(runs[1].name)];
  const tests = Object.fromEntries(EVAL_METRICS.map((m) => [m, pairedTTest(full[m], abl[m])])) as Record<MetricName, PairedTest>;
  const seedWins = Object.fromEntries(EVAL_METRICS.map((m) => [m, seeds.filter((s) => better(m, of(runs[0].name).find((r) => r.seed === s)!.res.overall[m]!, of(runs[1].name).find((r) => r.seed === s)!.res.overall[m]!)).length])) as Record<MetricName, number>;

  const rows = [
    ...runs.map((r) => `| ${r.name} | ${EVAL_METRICS.map((m) => pm(of(r.name).map((x) => x.res.overall[m]!))).join(' | ')} |`),
    ...baselines.map((b) => `| ${b.name} | ${EVAL_METRICS.map((m) => f3(b.res.overall[m]!)).join(' | ')} |`),
  ];
  const classes = Object.keys(of(runs[0].name)[0].res.perClass);
  const classRows = classes.map((c) => `| ${c} | ${runs.map((r) => pm(of(r.name).map((x) => x.res.perClass[c]?.KLD ?? NaN))).join(' | ')} |`);
  const classWins = classes.filter((c) => {
    const [a, b] = runs.map((r) => meanStd(of(r.name).map((x) => x.res.perClass[c]?.KLD ?? NaN)).mean);
    return a < b;
  }).length;
  const testLines = EVAL_METRICS.map((m) => {
    const t = tests[m];
    const dir = m === 'KLD' ? (t.meanDiff < 0 ? 'lower (better)' : 'higher (worse)') : t.meanDiff > 0 ? 'higher (better)' : 'lower (worse)';
    return `| ${m} | ${t.meanDiff >= 0 ? '+' : ''}${t.meanDiff.toFixed(4)} (${dir}) | ${t.t.toFixed(2)} | ${fp(t.p)} | ${m === 'KLD' ? t.losses : t.wins} / ${t.n} | ${seedWins[m]} / ${seeds.length} |`;
  });
  const md = [
    `# Experiment: PIAL-Net small vs its no-KHP ablation on SynCAL (${split})`,
    '',
    `Backend ${info.backend} (${info.device}); input ${size} px; batch ${batchSize}; ${steps} steps per model (${((steps * batchSize) / trainDs.length).toFixed(1)} epochs of ${trainDs.length} training pairs); AdamW lr ${lr} (encoder) / ${Number((lr * 10).toPrecision(6))} (rest), linear warm-up then poly(0.9); augmentation on; masking rule on ${trainMask === 'test' ? 'test pairs only (the paper\'s protocol)' : 'training and test pairs'}; region masking of training pairs ${regionMask ? 'on' : 'off'}; test pairs as the paper builds them.`,
    `Seeds ${seeds.join(', ')} (weights and data order); test: ${testDs.length} pairs (${full.KLD.length} with GT), ${perSeed[0].res.count} scored entries (pair x body part with GT), GT at 224 x 224.`,
    '',
    `## Overall (mean ± std over ${seeds.length} seeds)`,
    '',
    `| Method | ${EVAL_METRICS.join(' | ')} |`,
    `|---|${EVAL_METRICS.map(() => '---').join('|')}|`,
    ...rows,
    '',
    `## PIAL-Net vs no KHP, paired over the ${full.KLD.length} test pairs (each pair's value: the mean over its scored body parts and over the seeds)`,
    '',
    '| Metric | mean difference (PIAL-Net - ablation) | t | p (two-sided) | pairs where PIAL-Net is better | seeds where PIAL-Net is better overall |',
    '|---|---|---|---|---|---|',
    ...testLines,
    '',
    `## Per-class KLD (mean ± std over seeds; PIAL-Net lower in ${classWins} of ${classes.length} classes)`,
    '',
    `| Class | ${runs.map((r) => r.name).join(' | ')} |`,
    `|---|${runs.map(() => '---').join('|')}|`,
    ...classRows,
    '',
    `## Per seed`,
    '',
    `| Seed | Method | ${EVAL_METRICS.join(' | ')} | final loss | train s |`,
    `|---|---|${EVAL_METRICS.map(() => '---').join('|')}|---|---|`,
    ...perSeed.map((r) => `| ${r.seed} | ${r.name} | ${EVAL_METRICS.map((m) => f3(r.res.overall[m]!)).join(' | ')} | ${r.train.finalLoss.toFixed(4)} | ${r.train.elapsedSec.toFixed(0)} |`),
    '',
  ].join('\n');
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'results.md'), md);
  const table = metricsMarkdown(metricsOutput([...perSeed.map((r) => ({ name: `${r.name} seed ${r.seed}`, results: r.res })), ...baselines.map((b) => ({ name: b.name, results: b.res }))], { title: `SynCAL ${split} test split` }).payload);
  writeFileSync(join(outDir, 'results-table.md'), table + '\n');
  writeFileSync(
    join(outDir, 'results.json'),
    JSON.stringify(
      {
        split,
        backend: info.backend,
        device: info.device,
        inputSize: size,
        batchSize,
        lr,
        steps,
        seeds,
        trainMask,
        regionMask,
        dataset: root,
        trainPairs: trainDs.length,
        testPairs: testDs.length,
        pairsScored: full.KLD.length,
        pairedTests: tests,
        seedWins,
        runs: perSeed.map((r) => ({ seed: r.seed, name: r.name, overall: r.res.overall, perClass: r.res.perClass, perPart: r.res.perPart, count: r.res.count, train: { steps: r.train.step, elapsedSec: r.train.elapsedSec, finalLoss: r.train.finalLoss } })),
        baselines: baselines.map((b) => ({ name: b.name, overall: b.res.overall, perClass: b.res.perClass, perPart: b.res.perPart })),
      },
      null,
      1,
    ) + '\n',
  );
  log(`wrote ${join(outDir, 'results.md')}, results-table.md and results.json`);
  console.log('\n' + md);
  log(`tensors left: ${tf.memory().numTensors}`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
