/**
 * One data-parallel training replica (a worker thread; see parallel.ts). It runs its own tensor backend
 * and its own copy of the model; for each step it takes the weights from shared memory, computes the loss
 * and gradient of its share of the batch, and writes the gradient into its shared buffer.
 */
import { parentPort } from 'node:worker_threads';
import { initRuntime, tf } from '../../runtime/index';
import { PIALNet } from '../model/pialnet';
import { batchGradient } from './step';
import type { FromReplica, InitMessage, PlainTensor, StepMessage, ToReplica } from './replicaProtocol';

const port = parentPort;
if (!port) throw new Error('trainWorker.ts runs as a worker thread of the training loop');

let init: InitMessage | undefined;
let model: PIALNet | undefined;
let vars: tf.Variable[] = [];
let weights: Float32Array;
let grads: Float32Array;

function send(m: FromReplica): void {
  port!.postMessage(m);
}

async function start(m: InitMessage): Promise<void> {
  init = m;
  if (m.fault?.failAtStart && (m.fault.replica ?? 0) === m.index) throw new Error('fault injected at start');
  // The replica must compute exactly as the kernel does: same backend, and the kernels the runtime registers.
  await initRuntime({ backend: m.backend, notebookDir: process.cwd() });
  // Weights come from the training loop at every step: no pretrained file is read here.
  model = PIALNet.create({ ...m.options, pretrainedEncoder: undefined }).build();
  vars = model.variables();
  if (vars.length !== m.slots.length) throw new Error(`replica ${m.index}: the model has ${vars.length} parameters, the training loop ${m.slots.length}`);
  vars.forEach((v, i) => {
    const s = m.slots[i];
    if (v.shape.join(',') !== s.shape.join(',')) throw new Error(`replica ${m.index}: parameter ${s.name} has shape [${v.shape.join(', ')}] here, [${s.shape.join(', ')}] in the training loop`);
  });
  weights = new Float32Array(m.weights);
  grads = new Float32Array(m.grads);
  send({ type: 'ready', index: m.index });
}

function toTensor<R extends tf.Rank>(p: PlainTensor): tf.Tensor<R> {
  return tf.tensor(p.data, p.shape, 'float32') as unknown as tf.Tensor<R>;
}

async function step(m: StepMessage): Promise<void> {
  const o = init!;
  if (o.fault && (o.fault.replica ?? 0) === o.index) {
    if (o.fault.exitAtStep === m.step) process.exit(3);
    if (o.fault.throwAtStep === m.step) throw new Error(`fault injected at step ${m.step}`);
  }
  // Weights of this step, as the training loop left them after its last update.
  tf.tidy(() => {
    vars.forEach((v, i) => {
      const s = o.slots[i];
      v.assign(tf.tensor(weights.subarray(s.offset, s.offset + s.size), s.shape, 'float32'));
    });
  });
  const batch = {
    interactive: toTensor<tf.Rank.R4>(m.interactive),
    nonInteractive: toTensor<tf.Rank.R4>(m.nonInteractive),
    pose: toTensor<tf.Rank.R3>(m.pose),
    gtIn: toTensor<tf.Rank.R4>(m.gtIn),
    gtNon: toTensor<tf.Rank.R4>(m.gtNon),
  };
  try {
    const r = await batchGradient(model!, batch, vars, o.microBatch);
    try {
      const withGrad: number[] = [];
      for (let i = 0; i < vars.length; i++) {
        const t = r.grads[vars[i].name];
        if (!t) continue;
        grads.set(await t.data<'float32'>(), o.slots[i].offset);
        withGrad.push(i);
      }
      send({ type: 'done', step: m.step, loss: r.loss, lossIn: r.lossIn, lossNon: r.lossNon, withGrad });
    } finally {
      tf.dispose(Object.values(r.grads));
    }
  } finally {
    tf.dispose(Object.values(batch));
  }
}

// Messages are handled one at a time, in order.
let queue: Promise<void> = Promise.resolve();
port.on('message', (m: ToReplica) => {
  queue = queue.then(async () => {
    try {
      if (m.type === 'init') await start(m);
      else if (m.type === 'step') await step(m);
      else if (m.type === 'close') {
        model?.dispose();
        port.close();
      }
    } catch (e) {
      const err = e as Error;
      send({ type: 'error', step: m.type === 'step' ? m.step : undefined, message: err?.message ?? String(e), stack: err?.stack });
    }
  });
});
