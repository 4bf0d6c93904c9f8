// Evidence that PIAL-Net learns and that pose helps: on SynCAL (default generated set), trains `small` and its
// no-KHP ablation the same way (same steps, same data order) and compares them on the Unseen test split with a
// mean-prior and a center-prior baseline. Writes out/experiment/results.md and results.json.
//
// Usage: npm run experiment            (environment knobs below; defaults fit ~20 minutes on 2 cores)
//   EXPERIMENT_STEPS       training steps of each model, default 300 (4-5 minutes each on this machine when it is not busy)
//   EXPERIMENT_TRAIN_MIN   instead of a step count: minutes of training, turned into steps by timing a few steps
//                          (on a shared machine the timing, and so the result, varies from run to run)
//   EXPERIMENT_SIZE        input size of `small`, default 96
//   EXPERIMENT_BATCH       batch size, default 8
//   EXPERIMENT_LR          encoder learning rate (the rest at 10x), default 3e-4
//   EXPERIMENT_SPLIT       Seen or Unseen, default Unseen
//   EXPERIMENT_TRAIN_MASK  masking of training pairs (openCAL `mask`): 'always' (default) builds a training pair's
//                          non-interactive GT as test pairs are built (the channels and, on SynCAL, the named regions
//                          its interaction uses), so the target follows the interaction; 'test' uses every annotated point
//   SYNCAL_DIR             dataset folder (generated with seed 0 when missing or from an older generator), default out/syncal
//   AFFORDANCE_LAB_BACKEND backend, default wasm
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { initRuntime, runtimeInfo, tf } from '../kernel/runtime/index';
import { generateSynCAL, openCAL, type CalDataset } from '../kernel/ml/data/index';
import { PIALNet } from '../kernel/ml/model/index';
import { train, MeanPrior, centerPrior, releaseTrainingState, type TrainResult } from '../kernel/ml/train/index';
import { evaluate, metricsOutput, metricsMarkdown, MetricsOutput, type EvaluationResult } from '../kernel/ml/metrics/index';
import type { SplitName } from '../kernel/protocol';

const env = (k: string, d: number): number => (process.env[k] ? Number(process.env[k]) : d);
const trainMin = process.env.EXPERIMENT_TRAIN_MIN ? Number(process.env.EXPERIMENT_TRAIN_MIN) : undefined;
const size = env('EXPERIMENT_SIZE', 96);
const batchSize = env('EXPERIMENT_BATCH', 8);
const lr = env('EXPERIMENT_LR', 3e-4);
const split = (process.env.EXPERIMENT_SPLIT ?? 'Unseen') as SplitName;
const trainMask = (process.env.EXPERIMENT_TRAIN_MASK ?? 'always') as 'always' | 'test';
const root = resolve(process.env.SYNCAL_DIR ?? 'out/syncal');
const outDir = resolve('out/experiment');

/** Whether the set carries SynCAL's named regions (sets from before they existed are regenerated). */
function hasRegions(dir: string): boolean {
  const folder = join(dir, split, 'testset', 'non_interactive');
  const find = (d: string): string | undefined => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) {
        const f = find(p);
        if (f) return f;
      } else if (e.name.endsWith('.json')) return p;
    }
    return undefined;
  };
  const file = existsSync(folder) ? find(folder) : undefined;
  return !!file && 'regions' in (JSON.parse(readFileSync(file, 'utf8')) as object);
}

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

async function trainModel(name: string, khp: boolean, ds: CalDataset, steps: number): Promise<{ model: PIALNet; result: TrainResult }> {
  const model = PIALNet.create({ base: 'small', name, khp, inputSize: size, seed: 0 });
  log(`${name}: ${model.toString()}`);
  const t0 = Date.now();
  const result = await train(model, (epoch) => ds.batches({ batchSize, seed: epoch, augment: true }), {
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

async function main(): Promise<void> {
  const backend = (process.env.AFFORDANCE_LAB_BACKEND as 'wasm' | undefined) ?? 'wasm';
  await initRuntime({ backend, notebookDir: process.cwd() });
  const info = runtimeInfo();
  log(`backend ${info.backend} (${info.device}), split ${split}, input ${size} px, batch ${batchSize}, lr ${lr} (encoder) / ${Number((lr * 10).toPrecision(6))} (rest), ${trainMin !== undefined ? `training budget ${trainMin} min` : `${env('EXPERIMENT_STEPS', 300)} steps per model`}`);
  if (!existsSync(join(root, 'syncal.json')) || !hasRegions(root)) {
    log(`generating SynCAL (seed 0) in ${root}`);
    rmSync(root, { recursive: true, force: true });
    await generateSynCAL(root, { seed: 0 });
  }
  const trainDs = await openCAL(root, { split, subset: 'trainset', size, mask: trainMask });
  // Test GT at the protocol's 224 x 224; images are resized to the model's input inside evaluate().
  const testDs = await openCAL(root, { split, subset: 'testset', size: 224 });
  log(`${split}: ${trainDs.length} training pairs, ${testDs.length} test pairs`);
  const testData = (): AsyncIterable<unknown> => testDs.batches({ batchSize: 6 });

  // Both models train the same number of steps with the same schedule and data order (a fixed count by default,
  // so the result does not depend on the machine's load).
  let steps = env('EXPERIMENT_STEPS', 300);
  if (trainMin !== undefined) {
    const sPerStep = await calibrate(trainDs);
    steps = Math.max(10, Math.floor((trainMin * 60) / sPerStep));
    log(`calibration: ${sPerStep.toFixed(2)} s per step of ${batchSize} pairs -> ${steps} steps in ${trainMin} min`);
  }
  const full = await trainModel('PIAL-Net small', true, trainDs, steps);
  const noKhp = await trainModel('PIAL-Net small, no KHP', false, trainDs, steps);

  const prior = await MeanPrior.fit(() => trainDs.batches({ batchSize: 16, shuffle: false }), { size: 56 });
  const center = centerPrior(56);
  const results: { name: string; res: EvaluationResult; train?: TrainResult }[] = [];
  for (const [name, model, tr] of [
    ['PIAL-Net small', full.model, full.result],
    ['no KHP (ablation)', noKhp.model, noKhp.result],
    ['mean prior', prior, undefined],
    ['center prior', center, undefined],
  ] as const) {
    const res = await evaluate(model, testData, { split, name });
    log(res.toString());
    results.push({ name, res, train: tr });
  }
  const out: MetricsOutput = metricsOutput(results.map((r) => ({ name: r.name, results: r.res })), { title: `SynCAL ${split} test split` });
  const table = metricsMarkdown(out.payload);
  const [a, b, p, c] = results.map((r) => r.res.overall);
  const beats = (x: typeof a, y: typeof a): boolean => x.KLD! < y.KLD! && x.SIM! > y.SIM! && x.NSS! > y.NSS!;
  const verdict = [
    `- PIAL-Net small beats the mean prior on KLD, SIM and NSS: **${beats(a, p) ? 'yes' : 'no'}**`,
    `- PIAL-Net small beats the center prior on KLD, SIM and NSS: **${beats(a, c) ? 'yes' : 'no'}**`,
    `- PIAL-Net small beats the no-KHP ablation on KLD, SIM and NSS: **${beats(a, b) ? 'yes' : 'no'}**`,
  ].join('\n');
  const md = [
    `# Experiment: PIAL-Net small on SynCAL (${split})`,
    '',
    `Backend ${info.backend} (${info.device}); input ${size} px; batch ${batchSize}; AdamW lr ${lr} (encoder) / ${Number((lr * 10).toPrecision(6))} (rest), linear warm-up then poly(0.9); augmentation on; training pairs masked '${trainMask}'.`,
    `Training: ${full.result.step} steps (${(full.result.step * batchSize / trainDs.length).toFixed(1)} epochs of ${trainDs.length} pairs) for each model; ` +
      `full model ${full.result.elapsedSec.toFixed(0)} s, ablation ${noKhp.result.elapsedSec.toFixed(0)} s. Test: ${testDs.length} pairs, GT at 224 x 224.`,
    '',
    table,
    '',
    verdict,
    '',
  ].join('\n');
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'results.md'), md);
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
        trainMask,
        trainPairs: trainDs.length,
        testPairs: testDs.length,
        runs: results.map((r) => ({
          name: r.name,
          overall: r.res.overall,
          perClass: r.res.perClass,
          perPart: r.res.perPart,
          count: r.res.count,
          nssThreshold: r.res.nssThreshold,
          train: r.train ? { steps: r.train.step, elapsedSec: r.train.elapsedSec, finalLoss: r.train.finalLoss } : undefined,
        })),
        payload: out.payload,
      },
      null,
      1,
    ) + '\n',
  );
  log(`wrote ${join(outDir, 'results.md')} and results.json`);
  console.log('\n' + md);
  for (const m of [full.model, noKhp.model]) {
    releaseTrainingState(m);
    m.dispose();
  }
  prior.dispose();
  center.dispose();
  log(`tensors left: ${tf.memory().numTensors}`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
