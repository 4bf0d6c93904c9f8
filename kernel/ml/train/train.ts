/**
 * `train(model, data, options)`: the PIAL-Net training loop (docs/paper.md 4.7).
 *
 * - AdamW with decoupled weight decay; the encoder at the base learning rate, the rest at `headLrMult` x;
 *   linear warm-up then poly(0.9) decay over the run's steps.
 * - Interactive: a live training output (curves, learning rate, pairs/s, validation metrics per epoch, ETA)
 *   updated in place, with a text fallback; the loop yields to the event loop after every step so that
 *   interrupts and outputs flow.
 * - Interrupt (options.signal, default the running cell's `kernel.signal`): stops at the next step boundary,
 *   writes a checkpoint when `checkpointDir` is set, and leaves the model usable; `resume: true` continues
 *   from the checkpoint (or, without one, from the in-memory state of the last run on this model).
 */
import { MIME, type MimeBundle, type TrainingEpoch, type TrainingPayload, type TrainingPoint } from '../../protocol';
import { MIME_BUNDLE, display, type Displayable, type DisplayHandle } from '../../display';
import { join, resolve } from 'node:path';
import { tf } from '../model/tf';
import type { PIALNet } from '../model/pialnet';
import { disposeBatch, isBatchedDataset, iterateSource, toPairBatch, type BatchAdapter, type BatchSource, type PairBatch } from '../model/batch';
import { evaluate, type EvaluationResult } from '../metrics/evaluate';
import { AdamW, type Gradient } from './adamw';
import { lrFactor } from './schedule';
import { batchGradient, defaultMicroBatch } from './step';
import { hasCheckpoint } from '../model/checkpoint';
import { ReplicaPool, REPLICA_BACKENDS } from './parallel';
import { parseThreads, trainingThreads } from '../../runtime/threads';

export interface BatchEndInfo {
  step: number;
  epoch: number;
  loss: number;
  lossIn: number;
  lossNon: number;
  lr: number;
  pairsPerSec: number;
}

export interface EpochEndInfo {
  epoch: number;
  step: number;
  meanLoss: number;
  validation?: EvaluationResult;
}

export interface TrainOptions {
  /** Passes over the data. @default 1 */
  epochs?: number;
  /** Batches per epoch, when the data has no `length`. */
  stepsPerEpoch?: number;
  /** Total steps of the run (overrides epochs x stepsPerEpoch; the data is re-iterated as needed). */
  steps?: number;
  /** Batch size when `data` is a dataset with `batches()` (e.g. openCAL's). @default 24 (paper), 8 (small, nano) */
  batchSize?: number;
  /** Augmentation when `data` is a dataset with `batches()`. @default the dataset's (off) */
  augment?: boolean;
  /** Base (encoder) learning rate. @default 6e-5 (paper), 3e-4 (small, nano) */
  lr?: number;
  /** Learning-rate multiplier of everything but the encoder. @default 10 */
  headLrMult?: number;
  /** Decoupled weight decay (not applied to biases and norms). @default 0.01 */
  weightDecay?: number;
  /** AdamW betas. @default [0.9, 0.999] */
  betas?: [number, number];
  /** AdamW epsilon. @default 1e-8 */
  epsilon?: number;
  /** Linear warm-up steps. @default min(1500, 10% of the steps) for paper, 5% of the steps otherwise */
  warmupSteps?: number;
  /** Poly decay power. @default 0.9 */
  power?: number;
  /** Stop (as done) after this many seconds, at a step boundary. */
  timeLimitSec?: number;
  /** Stops training at the next step boundary. @default globalThis.kernel?.signal (the running cell's) */
  signal?: AbortSignal;
  /** Folder for checkpoints (weights + optimizer + state). */
  checkpointDir?: string;
  /** Also checkpoint every N steps (besides epoch ends, the end and interrupts). */
  checkpointEvery?: number;
  /** Continue from `checkpointDir` (or the last in-memory run on this model). */
  resume?: boolean;
  /** Validation batches, evaluated at each epoch end on the Unseen/Seen protocol (KLD, SIM, NSS). */
  validation?: BatchSource<unknown>;
  /** Pairs of the validation subset. @default 64 */
  validationPairs?: number;
  /** NSS threshold of the validation metrics. @default 0.1 */
  nssThreshold?: number;
  /**
   * Threads on the CPU backends (wasm, cpu): this many data-parallel replicas, each computing the gradient of
   * its share of every batch (docs/runtime.md, "Training on every core"). 1 trains in the kernel's thread.
   * Ignored on GPU and libtensorflow backends, which use the device's own parallelism.
   * @default env AFFORDANCE_LAB_THREADS, else one per core
   */
  threads?: number;
  /**
   * Pairs per forward/backward pass: a batch (or a replica's share of it) is passed through the model this many
   * pairs at a time and the gradients are added up, so the batch's gradient needs the activation memory of this
   * many pairs only. @default all of them; 1 for inputs of 224 px and more on wasm (more does not fit its memory)
   */
  microBatch?: number;
  /** Show the live training output. @default true */
  display?: boolean;
  title?: string;
  /** Converts the data's items into {@link PairBatch}es. @default toPairBatch */
  adapt?: BatchAdapter;
  /** Dispose each batch after its step. @default true unless the data is an array */
  disposeBatches?: boolean;
  onBatchEnd?: (info: BatchEndInfo) => void | Promise<void>;
  onEpochEnd?: (info: EpochEndInfo) => void | Promise<void>;
  onTrainEnd?: (result: TrainResult) => void | Promise<void>;
}

/** Outcome of {@link train}; displayable as the final training output. */
export interface TrainResult extends Displayable {
  state: 'done' | 'interrupted' | 'error';
  step: number;
  totalSteps: number;
  epoch: number;
  history: TrainingPoint[];
  epochs: TrainingEpoch[];
  /** Mean loss of the last 10 steps. */
  finalLoss: number;
  elapsedSec: number;
  message?: string;
  payload: TrainingPayload;
}

interface SavedState {
  runId: string;
  step: number;
  epoch: number;
  stepInEpoch: number;
  totalSteps: number;
  totalEpochs: number;
  elapsedSec: number;
  history: TrainingPoint[];
  epochs: TrainingEpoch[];
  optimizerStep: number;
  lr: number;
  headLrMult: number;
}

/** Last run per model, so that `resume: true` works without a checkpoint folder. */
const sessions = new WeakMap<PIALNet, { optimizer: AdamW; state: SavedState }>();
/** Models whose disposal already frees their training state. */
const hooked = new WeakSet<PIALNet>();

const MAX_HISTORY = 2000;

/**
 * Iterates a source one item ahead: the next item is requested as soon as the current one is handed out, so
 * that its loading overlaps the work on the current one. An item fetched ahead and never handed out (the loop
 * stopped) is passed to `discard`.
 */
async function* prefetched<T>(src: Iterable<T> | AsyncIterable<T>, discard: (item: T) => void): AsyncGenerator<T> {
  const it: Iterator<T> | AsyncIterator<T> = Symbol.asyncIterator in src ? (src as AsyncIterable<T>)[Symbol.asyncIterator]() : (src as Iterable<T>)[Symbol.iterator]();
  let next: Promise<IteratorResult<T>> | undefined = Promise.resolve(it.next());
  try {
    for (;;) {
      const r: IteratorResult<T> = await next!;
      next = undefined;
      if (r.done) return;
      next = Promise.resolve(it.next());
      // An early failure of the next item surfaces when it is awaited, not as an unhandled rejection.
      next.catch(() => undefined);
      yield r.value;
    }
  } finally {
    if (next) {
      const r = await next.catch(() => undefined);
      if (r && !r.done) discard(r.value);
    }
    await it.return?.();
  }
}

/** Frees the tensor gradients of a step (the replicas' are plain arrays). */
function disposeGradients(grads: Record<string, Gradient>): void {
  tf.dispose(Object.values(grads).filter((g): g is tf.Tensor => g instanceof tf.Tensor));
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}

function fmtTime(sec: number): string {
  if (!Number.isFinite(sec)) return '?';
  const s = Math.round(sec);
  return s >= 3600 ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m` : s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

/** The live training output: JSON payload for the renderer, text summary as fallback. */
export class TrainingProgress implements Displayable {
  constructor(readonly payload: TrainingPayload) {}
  [MIME_BUNDLE](): MimeBundle {
    return { [MIME.training]: this.payload, 'text/plain': trainingText(this.payload) };
  }
}

/** One-line (plus epochs) text summary of a training payload. */
export function trainingText(p: TrainingPayload): string {
  const last = p.history[p.history.length - 1];
  const lines = [
    `${p.title ?? 'Training'} [${p.state}] step ${p.step}/${p.totalSteps}, epoch ${p.epoch}/${p.totalEpochs}` +
      (last ? `, loss ${last.loss.toFixed(4)} (in ${last.lossIn?.toFixed(4) ?? '—'}, non ${last.lossNon?.toFixed(4) ?? '—'}), lr ${last.lr.toExponential(2)}` : '') +
      (p.imagesPerSec !== undefined ? `, ${p.imagesPerSec.toFixed(2)} pairs/s` : '') +
      (p.state === 'running' && p.etaSec !== undefined ? `, ETA ${fmtTime(p.etaSec)}` : '') +
      (p.elapsedSec !== undefined ? `, elapsed ${fmtTime(p.elapsedSec)}` : ''),
  ];
  for (const e of p.epochs) lines.push(`  epoch ${e.epoch} (step ${e.step}): ${Object.entries(e.metrics).map(([k, v]) => `${k} ${v.toFixed(3)}`).join(', ')}`);
  if (p.message) lines.push(`  ${p.message}`);
  return lines.join('\n');
}

function defaultSignal(): AbortSignal | undefined {
  const k = (globalThis as { kernel?: { signal?: AbortSignal } }).kernel;
  return k?.signal;
}

/**
 * Trains a PIALNet.
 * @param model the model (its weights are updated in place)
 * @param data training batches ({@link PairBatch} or items the `adapt` option converts): an array (reused each
 *   epoch), an (async) iterable, or a function `(epoch) => iterable` called once per epoch
 * @param options see {@link TrainOptions}
 * @returns the run's outcome; also shown live as a training output
 */
export async function train(model: PIALNet, data: BatchSource<unknown>, options: TrainOptions = {}): Promise<TrainResult> {
  const isPaper = model.options.name === 'paper' || model.options.inputSize >= 224;
  const adapt = options.adapt ?? toPairBatch;
  const disposeBatches = options.disposeBatches ?? !Array.isArray(data);
  const signal = options.signal ?? defaultSignal();
  const epochs = options.epochs ?? 1;
  if (!Number.isInteger(epochs) || epochs < 1) throw new Error(`train: epochs must be a positive integer, got ${epochs}`);
  const batchSize = options.batchSize ?? (isPaper ? 24 : 8);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`train: batchSize must be a positive integer, got ${batchSize}`);
  const dataset = isBatchedDataset(data);
  const declared = typeof data === 'function' ? undefined : (data as unknown as { length?: unknown }).length;
  // A dataset's length counts pairs; any other source's length counts batches.
  const dataLength = typeof declared === 'number' ? (dataset ? Math.ceil(declared / batchSize) : declared) : undefined;
  const sourceOptions = { batchSize, augment: options.augment };
  const stepsPerEpoch = options.stepsPerEpoch ?? dataLength;
  const totalSteps = options.steps ?? (stepsPerEpoch !== undefined ? epochs * stepsPerEpoch : undefined);
  if (totalSteps === undefined || !Number.isInteger(totalSteps) || totalSteps < 1) {
    throw new Error(`train: the number of steps is unknown or invalid (${totalSteps}); give options.steps or options.stepsPerEpoch, or data with a length`);
  }
  const totalEpochs = options.steps !== undefined && stepsPerEpoch ? Math.ceil(totalSteps / stepsPerEpoch) : epochs;
  const lr = options.lr ?? (isPaper ? 6e-5 : 3e-4);
  const headLrMult = options.headLrMult ?? 10;
  const warmup = options.warmupSteps ?? (isPaper ? Math.min(1500, Math.round(totalSteps * 0.1)) : Math.round(totalSteps * 0.05));
  const power = options.power ?? 0.9;
  for (const [k, v] of Object.entries({ lr, headLrMult, warmupSteps: warmup, power })) {
    if (!(typeof v === 'number' && Number.isFinite(v) && v >= 0)) throw new Error(`train: option ${k} must be a non-negative number, got ${v}`);
  }
  if (options.microBatch !== undefined && !(Number.isInteger(options.microBatch) && options.microBatch >= 1)) {
    throw new Error(`train: option microBatch must be a positive integer (pairs per forward/backward pass), got ${options.microBatch}`);
  }
  const microBatch = options.microBatch ?? defaultMicroBatch(model, tf.getBackend());
  const requestedThreads = options.threads === undefined ? trainingThreads() : parseThreads(options.threads, 'train: option threads');
  // At most this many replicas; they start with the first batch, one per pair at most.
  let threads = REPLICA_BACKENDS.includes(tf.getBackend()) ? requestedThreads : 1;
  const names = [...model.params.specs.keys()];
  const groupOf = (n: string): string => model.params.specs.get(n)!.group;
  model.build();
  const vars = model.variables();
  const makeOptimizer = (): AdamW =>
    new AdamW(
      (['encoder', 'head'] as const).map((g) => ({
        name: g,
        variables: vars.filter((_, i) => groupOf(names[i]) === g),
        names: names.filter((n) => groupOf(n) === g),
      })),
      { beta1: options.betas?.[0], beta2: options.betas?.[1], epsilon: options.epsilon, weightDecay: options.weightDecay ?? 0.01 },
    );

  let optimizer: AdamW | undefined;
  let state: SavedState | undefined;
  let resumeNote = '';
  if (options.resume) {
    const ckpt = options.checkpointDir && hasCheckpoint(options.checkpointDir) ? options.checkpointDir : undefined;
    if (ckpt) {
      const loaded = await model.load(ckpt);
      const s = loaded.state as SavedState | null;
      optimizer = makeOptimizer();
      try {
        if (!s || typeof s.step !== 'number') throw new Error(`${join(loaded.dir, 'state.json')}: no training state to resume from`);
        if (!loaded.optimizer) throw new Error(`${join(loaded.dir, 'state.json')}: no optimizer state to resume from`);
        optimizer.loadState(loaded.optimizer, s.optimizerStep);
      } catch (e) {
        optimizer.dispose();
        throw e;
      } finally {
        tf.dispose(Object.values(loaded.optimizer ?? {}));
      }
      state = s!;
      resumeNote = `resumed from ${loaded.dir} at step ${state.step}${loaded.note ? ` (${loaded.note})` : ''}`;
    } else if (sessions.has(model)) {
      const prev = sessions.get(model)!;
      optimizer = prev.optimizer;
      state = prev.state;
      resumeNote = `resumed from the last run at step ${state.step}`;
    } else {
      resumeNote = options.checkpointDir ? `no checkpoint in ${options.checkpointDir}; started from scratch` : 'nothing to resume; started from scratch';
    }
  }
  const prevSession = sessions.get(model);
  if (prevSession && prevSession.optimizer !== optimizer) prevSession.optimizer.dispose();
  sessions.delete(model);
  // The optimizer's moments live as long as the model: disposing the model frees them.
  if (!hooked.has(model)) {
    hooked.add(model);
    model.onDispose(() => releaseTrainingState(model));
  }
  optimizer ??= makeOptimizer();
  const st: SavedState = state
    ? { ...state, totalSteps: Math.max(totalSteps, state.step), totalEpochs: Math.max(totalEpochs, state.epoch) }
    : {
        runId: `${model.options.name}-${Date.now().toString(36)}`,
        step: 0,
        epoch: 0,
        stepInEpoch: 0,
        totalSteps,
        totalEpochs,
        elapsedSec: 0,
        history: [],
        epochs: [],
        optimizerStep: 0,
        lr,
        headLrMult,
      };

  const payload = (): TrainingPayload => ({
    version: 1,
    runId: st.runId,
    title: options.title ?? `Training ${model.toString()}`,
    state: 'running',
    model: model.options.name,
    backend: tf.getBackend(),
    threads,
    step: st.step,
    totalSteps: st.totalSteps,
    epoch: st.epoch,
    totalEpochs: st.totalEpochs,
    history: st.history,
    epochs: st.epochs,
    elapsedSec: st.elapsedSec,
  });
  const handle: DisplayHandle | undefined = options.display === false ? undefined : display(new TrainingProgress({ ...payload(), message: resumeNote || undefined }));
  let lastShown = 0;
  const show = (p: TrainingPayload, force = false): void => {
    const now = Date.now();
    if (!handle || (!force && now - lastShown < 250)) return;
    lastShown = now;
    handle.update(new TrainingProgress(p));
  };

  const checkpoint = async (): Promise<void> => {
    if (!options.checkpointDir) return;
    st.optimizerStep = optimizer!.step;
    try {
      await model.save(options.checkpointDir, { state: { ...st }, optimizer: optimizer!.stateTensors() });
    } catch (e) {
      throw new TrainingError(`the checkpoint at step ${st.step} could not be written to ${resolve(options.checkpointDir)}: ${(e as Error).message}`);
    }
  };

  /** Shows the error in the live output, keeps the state for resume, and rethrows. */
  const failed = (e: unknown): never => {
    handle?.update(new TrainingProgress({ ...payload(), state: 'error', message: (e as Error).message }));
    remember(model, optimizer!, st);
    throw e;
  };

  const t0 = Date.now() - st.elapsedSec * 1000;
  let finalState: TrainResult['state'] = 'done';
  let message: string | undefined = resumeNote || undefined;
  let rateWindow: { t: number; pairs: number }[] = [];
  let pairsPerSec = 0;
  const timeLimitAt = options.timeLimitSec !== undefined ? Date.now() + options.timeLimitSec * 1000 : Infinity;
  let pool: ReplicaPool | undefined;
  const startReplicas = async (pairs: number): Promise<void> => {
    threads = Math.min(threads, pairs);
    if (threads <= 1) return;
    try {
      pool = await ReplicaPool.start(model, threads, microBatch);
    } catch (e) {
      throw new TrainingError(`could not start ${threads} training threads: ${(e as Error).message}; train(model, data, { threads: 1 }) trains in the kernel's own thread`);
    }
  };
  const parallel = threads > 1;
  try {
    outer: while (st.step < st.totalSteps) {
      let epochLoss = 0;
      let epochSteps = 0;
      let skip = st.stepInEpoch;
      let sawBatch = false;
      // With replicas computing, the kernel's thread is free to load the next batch meanwhile.
      const source = iterateSource(data, st.epoch, sourceOptions);
      for await (const item of parallel ? prefetched(source, (x) => disposeBatches && disposeBatch(adapt(x))) : source) {
        sawBatch = true;
        // Resuming mid-epoch: skip the batches the interrupted run already trained on.
        if (skip > 0) {
          skip--;
          if (disposeBatches) disposeBatch(adapt(item));
          continue;
        }
        const batch: PairBatch = adapt(item);
        try {
          if (signal?.aborted) {
            finalState = 'interrupted';
            break outer;
          }
          const factor = lrFactor(st.step, st.totalSteps, warmup, power);
          const lrs = { encoder: st.lr * factor, head: st.lr * st.headLrMult * factor };
          let loss: number;
          let lossIn: number;
          let lossNon: number;
          let grads: Record<string, Gradient>;
          if (parallel && !pool && threads > 1) await startReplicas(batch.nonInteractive.shape[0]);
          if (pool) {
            let r;
            try {
              r = await pool.step(batch);
            } catch (e) {
              throw new TrainingError(`step ${st.step + 1} failed: ${(e as Error).message}; the model keeps the weights of step ${st.step}`);
            }
            ({ loss, lossIn, lossNon } = r);
            grads = r.grads;
          } else {
            ({ loss, lossIn, lossNon, grads } = await batchGradient(model, batch, vars, microBatch));
          }
          if (!Number.isFinite(loss) || !Number.isFinite(lossIn) || !Number.isFinite(lossNon)) {
            disposeGradients(grads);
            const bad = [
              !Number.isFinite(lossIn) ? `the interactive branch's BCE (lossIn) is ${lossIn}` : '',
              !Number.isFinite(lossNon) ? `the non-interactive branch's BCE (lossNon) is ${lossNon}` : '',
            ].filter(Boolean);
            throw new TrainingError(
              `the loss became ${loss} at step ${st.step + 1}: ${bad.join(' and ') || 'the sum of the parts overflowed'}; no update was applied (lower the learning rate, current ${lrs.encoder.toExponential(2)} for the encoder, or check the batch for non-finite values)`,
            );
          }
          if (pool) pool.weightsWritten(optimizer.apply(grads, lrs, pool.weightViews()));
          else optimizer.apply(grads, lrs);
          disposeGradients(grads);
          const n = batch.nonInteractive.shape[0];
          st.step++;
          st.stepInEpoch++;
          epochLoss += loss;
          epochSteps++;
          const now = Date.now();
          st.elapsedSec = (now - t0) / 1000;
          rateWindow.push({ t: now, pairs: n });
          rateWindow = rateWindow.filter((r) => now - r.t < 30_000);
          const span = (now - rateWindow[0].t) / 1000;
          pairsPerSec = rateWindow.length > 1 && span > 0 ? rateWindow.slice(1).reduce((a, r) => a + r.pairs, 0) / span : n / Math.max(1e-3, st.elapsedSec);
          st.history.push({ step: st.step, loss, lossIn, lossNon, lr: lrs.encoder });
          if (st.history.length > MAX_HISTORY) st.history = st.history.filter((_, i) => i % 2 === 1 || i === st.history.length - 1);
          const stepsPerSec = pairsPerSec / n;
          show({ ...payload(), imagesPerSec: pairsPerSec, etaSec: stepsPerSec > 0 ? (st.totalSteps - st.step) / stepsPerSec : undefined });
          await options.onBatchEnd?.({ step: st.step, epoch: st.epoch, loss, lossIn, lossNon, lr: lrs.encoder, pairsPerSec });
          if (options.checkpointEvery && st.step % options.checkpointEvery === 0) await checkpoint();
        } finally {
          if (disposeBatches) disposeBatch(batch);
        }
        await yieldToEventLoop();
        if (signal?.aborted) {
          finalState = 'interrupted';
          break outer;
        }
        if (Date.now() >= timeLimitAt) {
          message = `stopped at the time limit of ${options.timeLimitSec} s`;
          break outer;
        }
        if (st.step >= st.totalSteps) break;
      }
      if (!sawBatch) throw new Error(`the data yielded no batch in epoch ${st.epoch}`);
      // Epoch end (a full pass, or the step budget reached).
      st.epoch++;
      st.stepInEpoch = 0;
      st.totalEpochs = Math.max(st.totalEpochs, st.epoch + (st.step < st.totalSteps ? 1 : 0));
      const metrics: Record<string, number> = { loss: epochSteps ? epochLoss / epochSteps : NaN };
      let validation: EvaluationResult | undefined;
      if (options.validation) {
        validation = await evaluate(model, options.validation, { maxPairs: options.validationPairs ?? 64, nssThreshold: options.nssThreshold, signal, batchSize });
        Object.assign(metrics, { KLD: validation.overall.KLD!, SIM: validation.overall.SIM!, NSS: validation.overall.NSS! });
      }
      st.epochs.push({ epoch: st.epoch, step: st.step, metrics });
      show({ ...payload(), imagesPerSec: pairsPerSec }, true);
      await options.onEpochEnd?.({ epoch: st.epoch, step: st.step, meanLoss: metrics.loss, validation });
      await checkpoint();
    }
  } catch (e) {
    // Only the interrupt itself counts as an interruption; any other error (a NaN loss, a failed checkpoint
    // write) is reported as the error it is, also when an interrupt was pending.
    finalState = signal?.aborted && isInterruption(e, signal) ? 'interrupted' : 'error';
    if (finalState === 'error') failed(e);
  } finally {
    await pool?.close();
  }
  st.elapsedSec = (Date.now() - t0) / 1000;
  st.optimizerStep = optimizer.step;
  try {
    if (finalState === 'interrupted') {
      message = `interrupted at step ${st.step}${options.checkpointDir ? `; checkpoint in ${options.checkpointDir}` : ''}; train(model, data, { resume: true${options.checkpointDir ? ', checkpointDir' : ''} }) continues`;
      if (st.stepInEpoch > 0 || st.step > 0) await checkpoint();
    } else if (options.checkpointDir && st.stepInEpoch > 0) {
      await checkpoint();
    }
  } catch (e) {
    failed(e);
  }
  // A finished or interrupted run can be continued with resume: true (and a larger step budget).
  remember(model, optimizer, st);
  const final: TrainingPayload = { ...payload(), state: finalState, imagesPerSec: pairsPerSec, etaSec: 0, message };
  handle?.update(new TrainingProgress(final));
  const tail = st.history.slice(-10);
  const result: TrainResult = {
    state: finalState,
    step: st.step,
    totalSteps: st.totalSteps,
    epoch: st.epoch,
    history: st.history,
    epochs: st.epochs,
    finalLoss: tail.length ? tail.reduce((a, p) => a + p.loss, 0) / tail.length : NaN,
    elapsedSec: st.elapsedSec,
    message,
    payload: final,
    [MIME_BUNDLE]: () => new TrainingProgress(final)[MIME_BUNDLE](),
  };
  await options.onTrainEnd?.(result);
  return result;
}

/** A training run that failed for a reason other than an interrupt (non-finite loss, checkpoint write). */
export class TrainingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TrainingError';
  }
}

/** Whether an error thrown while the signal is aborted is the interrupt itself. */
function isInterruption(e: unknown, signal: AbortSignal): boolean {
  if (e === signal.reason) return true;
  const name = (e as { name?: unknown } | null)?.name;
  return name === 'AbortError' || name === 'InterruptedError';
}

function remember(model: PIALNet, optimizer: AdamW, state: SavedState): void {
  const prev = sessions.get(model);
  if (prev && prev.optimizer !== optimizer) prev.optimizer.dispose();
  sessions.set(model, { optimizer, state });
}

/** Frees the optimizer state kept for `resume: true` on this model. */
export function releaseTrainingState(model: PIALNet): void {
  sessions.get(model)?.optimizer.dispose();
  sessions.delete(model);
}
