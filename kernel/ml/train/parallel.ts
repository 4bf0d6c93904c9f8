/**
 * Data-parallel training on the CPU backends: a pool of worker threads, each a replica with its own tensor
 * backend and its own copy of the model (trainWorker.ts).
 *
 * Each step, the batch is cut into contiguous shares, one per replica (sizes differ by at most one pair);
 * the replicas read the current weights from one shared buffer, compute the loss and gradient of their
 * share, and write the gradient into a shared buffer each. The training loop combines them, weighted by
 * share size, in replica order, so the result is the gradient of the whole batch's mean loss and is the same
 * for every run with the same thread count (the sum order is fixed and each replica's backend is
 * single-threaded). The optimizer runs in the training loop, which then writes the new weights back.
 *
 * A replica that exits, fails to start or throws turns into an error of the step (the pool is closed and
 * the training loop reports it); a step never waits on a dead replica.
 */
import { Worker } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { tf } from '../model/tf';
import type { PIALNet } from '../model/pialnet';
import type { PairBatch } from '../model/batch';
import type { BackendName } from '../../protocol';
import type { FromReplica, ParamSlot, PlainTensor, ReplicaFault, StepMessage, ToReplica } from './replicaProtocol';

/** Backends whose kernels run on one CPU thread, where replicas add cores. */
export const REPLICA_BACKENDS: readonly string[] = ['wasm', 'cpu'];

let fault: ReplicaFault | undefined;

/** Test hook: makes a replica exit or throw at a given step of the next pools started. */
export function setReplicaFaultHook(f: ReplicaFault | undefined): void {
  fault = f;
}

/** The worker script: the bundle beside this file (dist/), else the source file (tests, under tsx). */
function workerScript(): string {
  const candidates = [join(__dirname, 'train-worker.js'), join(__dirname, 'trainWorker.ts'), join(__dirname, 'train', 'trainWorker.ts')];
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error(`the training worker script was not found (looked for ${candidates.join(', ')}); rebuild with npm run build`);
  return found;
}

/** The outcome of one data-parallel step: the batch's mean losses and its gradient per variable name. */
export interface ParallelStep {
  loss: number;
  lossIn: number;
  lossNon: number;
  grads: Record<string, Float32Array>;
}

interface Replica {
  worker: Worker;
  grads: Float32Array;
  pending?: { resolve: (m: FromReplica) => void; reject: (e: Error) => void };
}

/** Splits n items into k contiguous shares whose sizes differ by at most one (empty shares dropped). */
export function shareSizes(n: number, k: number): number[] {
  const used = Math.min(n, k);
  return Array.from({ length: used }, (_, i) => Math.floor(n / used) + (i < n % used ? 1 : 0));
}

/** acc = w g (first) or acc += w g: one tight loop, kept on its own so that it stays optimised. */
function addScaled(acc: Float32Array, g: Float32Array, w: number, first: boolean): void {
  const n = acc.length;
  if (first) for (let e = 0; e < n; e++) acc[e] = w * g[e];
  else for (let e = 0; e < n; e++) acc[e] += w * g[e];
}

export class ReplicaPool {
  private readonly slots: ParamSlot[];
  private readonly weights: Float32Array;
  /** The combined gradient of the last step (valid until the next step). */
  private readonly sum: Float32Array;
  private readonly replicas: Replica[] = [];
  private broken: Error | undefined;
  private closed = false;
  private stepCount = 0;
  /** Per variable, the data id whose values the shared weights buffer holds (a variable's assign changes its id). */
  private readonly published: unknown[];
  private views: Record<string, Float32Array> | undefined;

  private constructor(
    private readonly model: PIALNet,
    readonly threads: number,
  ) {
    let offset = 0;
    const names = [...model.params.specs.keys()];
    this.slots = model.variables().map((v, i) => {
      const s = { name: names[i] ?? v.name, shape: v.shape.slice(), offset, size: v.size };
      offset += v.size;
      return s;
    });
    this.weights = new Float32Array(new SharedArrayBuffer(offset * 4));
    this.sum = new Float32Array(offset);
    this.published = this.slots.map(() => undefined);
  }

  /** Starts `threads` replicas of the model on the current backend; rejects if any fails to start. */
  static async start(model: PIALNet, threads: number, microBatch = Number.POSITIVE_INFINITY): Promise<ReplicaPool> {
    const backend = tf.getBackend() as BackendName;
    if (!REPLICA_BACKENDS.includes(backend)) throw new Error(`data-parallel training runs on ${REPLICA_BACKENDS.join(' or ')}, not on ${backend}`);
    const pool = new ReplicaPool(model, threads);
    const script = workerScript();
    const total = pool.weights.length;
    try {
      await Promise.all(
        Array.from({ length: threads }, async (_, index) => {
          const grads = new Float32Array(new SharedArrayBuffer(total * 4));
          const name = `affordance-lab training replica ${index + 1}/${threads}`;
          // From source (tests run under tsx) the worker registers tsx's loader itself before loading the script.
          const worker = script.endsWith('.ts')
            ? new Worker(`require('tsx/cjs'); require(${JSON.stringify(script)});`, { eval: true, name })
            : new Worker(script, { name });
          const r: Replica = { worker, grads };
          pool.replicas.push(r);
          pool.watch(r, index);
          const ready = pool.request(r, {
            type: 'init',
            index,
            backend,
            options: structuredClone({ ...model.options }),
            slots: pool.slots,
            microBatch,
            weights: pool.weights.buffer as SharedArrayBuffer,
            grads: grads.buffer as SharedArrayBuffer,
            fault,
          });
          const m = await ready;
          if (m.type !== 'ready') throw new Error(`training replica ${index + 1} did not start`);
        }),
      );
    } catch (e) {
      await pool.close();
      throw e;
    }
    return pool;
  }

  private watch(r: Replica, index: number): void {
    const fail = (e: Error): void => {
      this.broken ??= e;
      const p = r.pending;
      r.pending = undefined;
      p?.reject(this.broken);
      // The others are stopped too: a step needs every share.
      void this.close();
    };
    r.worker.on('message', (m: FromReplica) => {
      const p = r.pending;
      r.pending = undefined;
      if (!p) return;
      if (m.type === 'error') p.reject(new Error(`training replica ${index + 1} of ${this.threads} failed${m.step ? ` at step ${m.step}` : ''}: ${m.message}`));
      else p.resolve(m);
    });
    r.worker.on('error', (e) => fail(new Error(`training replica ${index + 1} of ${this.threads} crashed: ${e.message}`)));
    r.worker.on('exit', (code) => {
      if (!this.closed) fail(new Error(`training replica ${index + 1} of ${this.threads} stopped unexpectedly (exit code ${code})`));
    });
  }

  private request(r: Replica, m: ToReplica, transfer: ArrayBuffer[] = []): Promise<FromReplica> {
    if (this.broken) return Promise.reject(this.broken);
    if (this.closed) return Promise.reject(new Error('the training replicas were closed'));
    return new Promise<FromReplica>((resolve, reject) => {
      r.pending = { resolve, reject };
      r.worker.postMessage(m, transfer);
    });
  }

  /**
   * Copies the model's current weights into the shared buffer the replicas read: those of variables whose
   * storage changed since they were last copied or written there (see {@link weightViews}).
   */
  private publishWeights(): void {
    const vars = this.model.variables();
    for (let i = 0; i < vars.length; i++) {
      if (this.published[i] === vars[i].dataId) continue;
      this.weights.set(vars[i].dataSync<'float32'>(), this.slots[i].offset);
      this.published[i] = vars[i].dataId;
    }
  }

  /**
   * The shared weights buffer as one view per variable name, for the optimizer to write the new weights into as
   * it computes them (AdamW's `sink`); {@link weightsWritten} then records which ones it wrote.
   */
  weightViews(): Record<string, Float32Array> {
    if (!this.views) {
      const out: Record<string, Float32Array> = {};
      this.model.variables().forEach((v, i) => {
        out[v.name] = this.weights.subarray(this.slots[i].offset, this.slots[i].offset + this.slots[i].size);
      });
      this.views = out;
    }
    return this.views;
  }

  /** After the optimizer wrote these variables' new values into {@link weightViews}: their copies are current. */
  weightsWritten(names: readonly string[]): void {
    const set = new Set(names);
    this.model.variables().forEach((v, i) => {
      if (set.has(v.name)) this.published[i] = v.dataId;
    });
  }

  /**
   * One step: the gradient of the batch's mean loss at the model's current weights. The gradient arrays are
   * views of one buffer that the next step overwrites.
   */
  async step(batch: PairBatch): Promise<ParallelStep> {
    this.publishWeights();
    const n = batch.nonInteractive.shape[0];
    const sizes = shareSizes(n, this.replicas.length);
    const fields = ['interactive', 'nonInteractive', 'pose', 'gtIn', 'gtNon'] as const;
    const data = await Promise.all(fields.map((f) => batch[f].data<'float32'>()));
    const step = ++this.stepCount;
    let start = 0;
    const results = await Promise.all(
      sizes.map((k, i) => {
        const cut = (j: number): PlainTensor => {
          const t = batch[fields[j]];
          const row = t.size / t.shape[0];
          return { data: data[j].slice(start * row, (start + k) * row), shape: [k, ...t.shape.slice(1)] };
        };
        const m: StepMessage = { type: 'step', step, interactive: cut(0), nonInteractive: cut(1), pose: cut(2), gtIn: cut(3), gtNon: cut(4) };
        start += k;
        const transfer = [m.interactive, m.nonInteractive, m.pose, m.gtIn, m.gtNon].map((p) => p.data.buffer as ArrayBuffer);
        return this.request(this.replicas[i], m, transfer);
      }),
    );
    // Weighted by share size, in replica order (a fixed sum order: the same result for the same thread count).
    let loss = 0;
    let lossIn = 0;
    let lossNon = 0;
    const grads: Record<string, Float32Array> = {};
    const vars = this.model.variables();
    const acc = this.sum;
    const has = new Uint8Array(this.slots.length);
    results.forEach((m, i) => {
      if (m.type !== 'done') throw new Error(`training replica ${i + 1} answered ${m.type} to a step`);
      const w = sizes[i] / n;
      loss += w * m.loss;
      lossIn += w * m.lossIn;
      lossNon += w * m.lossNon;
      for (const j of m.withGrad) has[j] = 1;
    });
    // One pass over the whole buffer per replica; a parameter without a gradient from some replica (its share
    // did not reach it) adds that replica's zeros.
    results.forEach((m, i) => {
      const w = sizes[i] / n;
      const g = this.replicas[i].grads;
      if (m.type === 'done' && m.withGrad.length < this.slots.length) {
        const got = new Uint8Array(this.slots.length);
        for (const j of m.withGrad) got[j] = 1;
        this.slots.forEach((s, j) => {
          if (!got[j]) g.fill(0, s.offset, s.offset + s.size);
        });
      }
      addScaled(acc, g, w, i === 0);
    });
    this.slots.forEach((s, j) => {
      if (has[j]) grads[vars[j].name] = acc.subarray(s.offset, s.offset + s.size);
    });
    return { loss, lossIn, lossNon, grads };
  }

  /** Stops every replica (idempotent). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const r of this.replicas) {
      const p = r.pending;
      r.pending = undefined;
      p?.reject(this.broken ?? new Error('the training replicas were closed'));
    }
    await Promise.all(this.replicas.map((r) => r.worker.terminate().catch(() => undefined)));
  }
}
