/**
 * AdamW on the wasm and cpu backends: the loop over values in memory against an independent Float64 reference and
 * against the tf-ops path, gradients as tensors and as Float32Array, resume from saved moments, storage shared with
 * other tensors left alone, no tensor growth.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { initRuntime, tf } from '../../kernel/runtime/index';
import { AdamW, type AdamWOptions, type Gradient } from '../../kernel/ml/train/index';
import { rng } from '../rng';

before(() => initRuntime({ backend: 'wasm', notebookDir: __dirname }));

const BACKENDS = ['wasm', 'cpu'];

interface VarSpec {
  name: string;
  shape: number[];
  group: 'encoder' | 'head';
  /** Scale of this parameter's gradients. */
  gscale: number;
  /** No gradient on these steps (1-based). */
  skip?: number[];
}

const SPECS: VarSpec[] = [
  { name: 'scalar', shape: [], group: 'encoder', gscale: 1 },
  { name: 'bias', shape: [7], group: 'encoder', gscale: 0.3 },
  { name: 'weight', shape: [5, 3], group: 'encoder', gscale: 2 },
  { name: 'conv', shape: [3, 3, 2, 5], group: 'head', gscale: 0.01 },
  { name: 'norm', shape: [13], group: 'head', gscale: 5 },
  { name: 'odd', shape: [1, 17, 1], group: 'head', gscale: 1, skip: [2, 3] },
  { name: 'frozen', shape: [4, 2], group: 'head', gscale: 1, skip: [1, 2, 3, 4, 5, 6] },
];

const LR = { encoder: 0.01, head: 0.003 };
const size = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);

let uid = 0;
/** Initial values (float32-representable) per spec. */
function initial(seed: number): Map<string, Float32Array> {
  const r = rng(seed);
  return new Map(SPECS.map((s) => [s.name, Float32Array.from({ length: size(s.shape) }, () => (r() - 0.5) * 4)]));
}

/** Gradients per step: Float32Array values for each variable that has one. */
function gradients(steps: number, seed: number): Map<string, Float32Array>[] {
  const r = rng(seed);
  return Array.from({ length: steps }, (_, k) => {
    const out = new Map<string, Float32Array>();
    for (const s of SPECS) {
      if (s.skip?.includes(k + 1)) continue;
      out.set(s.name, Float32Array.from({ length: size(s.shape) }, () => (r() - 0.5) * 2 * s.gscale));
    }
    return out;
  });
}

interface Setup {
  opt: AdamW;
  vars: Map<string, tf.Variable>;
}

function setup(init: Map<string, Float32Array>, o: AdamWOptions, decayVectorsInHead = true): Setup {
  // Inside tidy, the seed tensors are freed: each variable owns its storage alone (written in place).
  const vars = new Map(SPECS.map((s) => [s.name, tf.tidy(() => tf.variable(tf.tensor(init.get(s.name)!, s.shape), true, `adamw-${s.name}-${uid++}`))]));
  const groups = (['encoder', 'head'] as const).map((g) => {
    const specs = SPECS.filter((s) => s.group === g);
    return { name: g, variables: specs.map((s) => vars.get(s.name)!), names: specs.map((s) => s.name), decayVectors: g === 'head' && decayVectorsInHead };
  });
  return { opt: new AdamW(groups, o), vars };
}

function dispose(s: Setup): void {
  s.opt.dispose();
  tf.dispose([...s.vars.values()]);
}

/** Gradient record for one step: tensors, Float32Arrays, or alternating per variable. */
function gradRecord(s: Setup, g: Map<string, Float32Array>, kind: 'tensor' | 'array' | 'mixed'): { grads: Record<string, Gradient>; made: tf.Tensor[] } {
  const grads: Record<string, Gradient> = {};
  const made: tf.Tensor[] = [];
  let i = 0;
  for (const [name, values] of g) {
    const v = s.vars.get(name)!;
    const asTensor = kind === 'tensor' || (kind === 'mixed' && i++ % 2 === 0);
    if (asTensor) {
      const t = tf.tensor(values, v.shape);
      made.push(t);
      grads[v.name] = t;
    } else grads[v.name] = values.slice();
  }
  return { grads, made };
}

/** Independent Float64 AdamW over plain arrays. */
class Reference {
  p = new Map<string, number[]>();
  m = new Map<string, number[]>();
  v = new Map<string, number[]>();
  t = 0;
  constructor(
    init: Map<string, Float32Array>,
    readonly o: { beta1: number; beta2: number; eps: number; wd: number },
    readonly decayVectorsInHead = true,
  ) {
    for (const [k, a] of init) {
      this.p.set(k, Array.from(a));
      this.m.set(k, Array.from(a, () => 0));
      this.v.set(k, Array.from(a, () => 0));
    }
  }
  step(g: Map<string, Float32Array>): void {
    this.t++;
    const { beta1, beta2, eps, wd } = this.o;
    for (const s of SPECS) {
      const grad = g.get(s.name);
      if (!grad) continue;
      const rate = LR[s.group];
      const decay = s.shape.length >= 2 || (s.group === 'head' && this.decayVectorsInHead) ? wd : 0;
      const p = this.p.get(s.name)!;
      const m = this.m.get(s.name)!;
      const v = this.v.get(s.name)!;
      for (let i = 0; i < p.length; i++) {
        m[i] = beta1 * m[i] + (1 - beta1) * grad[i];
        v[i] = beta2 * v[i] + (1 - beta2) * grad[i] * grad[i];
        const mhat = m[i] / (1 - beta1 ** this.t);
        const vhat = v[i] / (1 - beta2 ** this.t);
        p[i] = p[i] - rate * (mhat / (Math.sqrt(vhat) + eps)) - rate * decay * p[i];
      }
    }
  }
}

function close(found: ArrayLike<number>, expected: ArrayLike<number>, rel: number, abs: number, what: string): void {
  assert.equal(found.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(found[i] - expected[i]);
    assert.ok(d <= abs + rel * Math.abs(expected[i]), `${what}[${i}]: expected ${expected[i]}, found ${found[i]} (difference ${d})`);
  }
}

function momentsOf(s: Setup): Record<string, tf.Tensor> {
  return s.opt.stateTensors();
}

for (const backend of BACKENDS) {
  for (const kind of ['tensor', 'array', 'mixed'] as const) {
    void test(`AdamW on ${backend} (in-memory loop, ${kind} gradients) matches a Float64 reference over 6 steps`, async () => {
      await tf.setBackend(backend);
      const init = initial(1);
      const steps = gradients(6, 2);
      const o = { beta1: 0.85, beta2: 0.99, epsilon: 1e-6, weightDecay: 0.05 };
      const s = setup(init, o);
      const ref = new Reference(init, { beta1: o.beta1, beta2: o.beta2, eps: o.epsilon, wd: o.weightDecay });
      for (const g of steps) {
        const { grads, made } = gradRecord(s, g, kind);
        s.opt.apply(grads, LR);
        tf.dispose(made);
        ref.step(g);
        const st = momentsOf(s);
        for (const sp of SPECS) {
          close(s.vars.get(sp.name)!.dataSync(), ref.p.get(sp.name)!, 1e-6, 1e-6, `${sp.name} after step ${ref.t}`);
          // Moments are sums of terms of the gradients' size: float32 rounding of those, not of the sum, bounds them.
          close(st[`m/${sp.name}`].dataSync(), ref.m.get(sp.name)!, 1e-6, 1e-7 * sp.gscale, `m/${sp.name} after step ${ref.t}`);
          close(st[`v/${sp.name}`].dataSync(), ref.v.get(sp.name)!, 1e-6, 1e-7 * sp.gscale ** 2, `v/${sp.name} after step ${ref.t}`);
        }
      }
      assert.equal(s.opt.step, 6);
      // Never given a gradient: untouched, moments zero.
      assert.deepEqual(Array.from(s.vars.get('frozen')!.dataSync()), Array.from(init.get('frozen')!));
      assert.ok(momentsOf(s)['m/frozen'].dataSync().every((x) => x === 0));
      dispose(s);
    });
  }

  void test(`AdamW on ${backend}: the in-memory loop and the tf-ops path agree within 1e-6 (default options, vectors without decay)`, async () => {
    await tf.setBackend(backend);
    const init = initial(3);
    const steps = gradients(5, 4);
    const a = setup(init, { fused: true }, false);
    const b = setup(init, { fused: false }, false);
    const ref = new Reference(init, { beta1: 0.9, beta2: 0.999, eps: 1e-8, wd: 0.01 }, false);
    for (const [k, g] of steps.entries()) {
      const ga = gradRecord(a, g, k % 2 ? 'array' : 'tensor');
      const gb = gradRecord(b, g, k % 2 ? 'tensor' : 'array');
      a.opt.apply(ga.grads, LR);
      b.opt.apply(gb.grads, LR);
      tf.dispose([...ga.made, ...gb.made]);
      ref.step(g);
      const sa = momentsOf(a);
      const sb = momentsOf(b);
      for (const sp of SPECS) {
        const pb = b.vars.get(sp.name)!.dataSync();
        close(a.vars.get(sp.name)!.dataSync(), pb, 1e-6, 1e-6, `${sp.name} after step ${k + 1}`);
        close(sa[`m/${sp.name}`].dataSync(), sb[`m/${sp.name}`].dataSync(), 1e-6, 1e-7 * sp.gscale, `m/${sp.name} after step ${k + 1}`);
        close(sa[`v/${sp.name}`].dataSync(), sb[`v/${sp.name}`].dataSync(), 1e-6, 1e-7 * sp.gscale ** 2, `v/${sp.name} after step ${k + 1}`);
        // The tf-ops path is checked against the reference too, so that both cannot share one mistake.
        close(pb, ref.p.get(sp.name)!, 1e-6, 1e-6, `tf ops: ${sp.name} after step ${k + 1}`);
      }
    }
    dispose(a);
    dispose(b);
  });

  void test(`AdamW on ${backend}: resuming from stateTensors/loadState gives the same next step`, async () => {
    await tf.setBackend(backend);
    const init = initial(5);
    const steps = gradients(4, 6);
    for (const fused of [true, false]) {
      const a = setup(init, { fused });
      for (const g of steps.slice(0, 3)) {
        const { grads, made } = gradRecord(a, g, 'mixed');
        a.opt.apply(grads, LR);
        tf.dispose(made);
      }
      // A second optimizer over parameters of the same values, restored from copies of the moments.
      const now = new Map(SPECS.map((sp) => [sp.name, a.vars.get(sp.name)!.dataSync().slice() as Float32Array]));
      const b = setup(now, { fused });
      const saved = Object.fromEntries(Object.entries(a.opt.stateTensors()).map(([k, t]) => [k, tf.clone(t)]));
      const savedValues = Object.fromEntries(Object.entries(saved).map(([k, t]) => [k, Array.from(t.dataSync())]));
      b.opt.loadState(saved, a.opt.step);
      assert.equal(b.opt.step, 3);
      const ga = gradRecord(a, steps[3], 'array');
      const gb = gradRecord(b, steps[3], 'tensor');
      a.opt.apply(ga.grads, LR);
      b.opt.apply(gb.grads, LR);
      tf.dispose([...ga.made, ...gb.made]);
      assert.equal(b.opt.step, 4);
      const sa = a.opt.stateTensors();
      const sb = b.opt.stateTensors();
      for (const sp of SPECS) {
        assert.deepEqual(Array.from(b.vars.get(sp.name)!.dataSync()), Array.from(a.vars.get(sp.name)!.dataSync()), `${sp.name} (fused ${fused})`);
        assert.deepEqual(Array.from(sb[`m/${sp.name}`].dataSync()), Array.from(sa[`m/${sp.name}`].dataSync()), `m/${sp.name} (fused ${fused})`);
        assert.deepEqual(Array.from(sb[`v/${sp.name}`].dataSync()), Array.from(sa[`v/${sp.name}`].dataSync()), `v/${sp.name} (fused ${fused})`);
      }
      // The tensors handed to loadState share storage with the moments: the step must not have changed them.
      for (const [k, t] of Object.entries(saved)) assert.deepEqual(Array.from(t.dataSync()), savedValues[k], `${k} given to loadState was changed (fused ${fused})`);
      tf.dispose(Object.values(saved));
      dispose(a);
      dispose(b);
    }
  });

  void test(`AdamW on ${backend}: a tensor that shares a parameter's storage keeps its values`, async () => {
    await tf.setBackend(backend);
    const x = tf.tensor2d([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    const v = tf.variable(x, true, `adamw-shared-${uid++}`);
    const alias = tf.reshape(v, [6]);
    const opt = new AdamW([{ name: 'g', variables: [v] }], { fused: true });
    opt.apply({ [v.name]: new Float32Array([1, -1, 1, -1, 1, -1]) }, { g: 0.1 });
    assert.deepEqual(Array.from(x.dataSync()), [1, 2, 3, 4, 5, 6]);
    assert.deepEqual(Array.from(alias.dataSync()), [1, 2, 3, 4, 5, 6]);
    // lr 0.1, first step: |update| = 0.1 (to 1e-7), decay 0.1 * 0.01 * p.
    close(v.dataSync(), [1, 2, 3, 4, 5, 6].map((p, i) => p - 0.1 * (i % 2 ? -1 : 1) - 0.001 * p), 1e-6, 1e-6, 'v');
    opt.dispose();
    tf.dispose([x, v, alias]);
  });

  void test(`AdamW on ${backend}: arrays read before a step, and parameters made from one array, stay apart`, async () => {
    await tf.setBackend(backend);
    const values = new Float32Array([0.5, -1.5, 2.5, 3]);
    const [u, w] = [0, 1].map(() => tf.tidy(() => tf.variable(tf.tensor2d(values, [2, 2]), true, `adamw-apart-${uid++}`)));
    const opt = new AdamW([{ name: 'g', variables: [u] }]);
    for (let k = 0; k < 3; k++) {
      const held = u.dataSync();
      const copy = Array.from(held);
      const id = u.dataId;
      opt.apply({ [u.name]: new Float32Array([1, 2, -3, 4]) }, { g: 0.01 });
      assert.deepEqual(Array.from(held), copy, `step ${k + 1}: an array read before the step changed`);
      assert.notDeepEqual(Array.from(u.dataSync()), copy, `step ${k + 1}: the parameter did not change`);
      // The parameter gets new storage every step (wasm caches matmul/conv operators by the weight's data id).
      assert.notEqual(u.dataId, id, `step ${k + 1}: the parameter kept its storage`);
    }
    assert.deepEqual(Array.from(values), [0.5, -1.5, 2.5, 3]);
    assert.deepEqual(Array.from(w.dataSync()), [0.5, -1.5, 2.5, 3]);
    opt.dispose();
    tf.dispose([u, w]);
  });

  void test(`AdamW on ${backend}: matrix products and convolutions use a parameter's new values after each step`, async () => {
    await tf.setBackend(backend);
    const W = tf.variable(tf.randomNormal([64, 32], 0, 1, 'float32', 1), true, `adamw-mm-${uid++}`);
    const F = tf.variable(tf.randomNormal([3, 3, 8, 16], 0, 1, 'float32', 2), true, `adamw-conv-${uid++}`);
    const x = tf.randomNormal([16, 64], 0, 1, 'float32', 3);
    const xi = tf.randomNormal([2, 8, 8, 8], 0, 1, 'float32', 4) as tf.Tensor4D;
    const opt = new AdamW([{ name: 'g', variables: [W, F] }]);
    for (let k = 0; k < 3; k++) {
      // Products with the variables as they are (the backend may cache an operator for each weight) ...
      tf.tidy(() => [tf.matMul(x, W).dataSync(), tf.conv2d(xi, F as tf.Tensor4D, 1, 'same').dataSync()]);
      opt.apply({ [W.name]: new Float32Array(W.size).fill(1), [F.name]: new Float32Array(F.size).fill(-1) }, { g: 0.1 });
      // ... and after the step, against the same products with a fresh copy of each weight.
      const [dm, dc] = tf.tidy(() => [
        tf.max(tf.abs(tf.sub(tf.matMul(x, W), tf.matMul(x, tf.add(W, 0))))).dataSync()[0],
        tf.max(tf.abs(tf.sub(tf.conv2d(xi, F as tf.Tensor4D, 1, 'same'), tf.conv2d(xi, tf.add(F, 0) as tf.Tensor4D, 1, 'same')))).dataSync()[0],
      ]);
      assert.equal(dm, 0, `step ${k + 1}: the matrix product still used the weight's old values`);
      assert.equal(dc, 0, `step ${k + 1}: the convolution still used the filter's old values`);
    }
    opt.dispose();
    tf.dispose([W, F, x, xi]);
  });

  void test(`AdamW on ${backend}: a Float32Array gradient of the wrong length is an error naming the parameter; nothing changes`, async () => {
    await tf.setBackend(backend);
    const init = initial(7);
    for (const fused of [true, false]) {
      const s = setup(init, { fused });
      const g = gradRecord(s, gradients(1, 8)[0], 'array');
      g.grads[s.vars.get('weight')!.name] = new Float32Array(14);
      assert.throws(() => s.opt.apply(g.grads, LR), /AdamW: the gradient of weight has 14 values, expected 15 \(shape \[5, 3\]\)/);
      assert.throws(() => s.opt.apply(gradRecord(s, gradients(1, 8)[0], 'array').grads, { encoder: 0.1 }), /no learning rate for group head/);
      assert.equal(s.opt.step, 0);
      for (const sp of SPECS) assert.deepEqual(Array.from(s.vars.get(sp.name)!.dataSync()), Array.from(init.get(sp.name)!), sp.name);
      assert.ok(Object.values(s.opt.stateTensors()).every((t) => t.dataSync().every((z) => z === 0)));
      dispose(s);
    }
  });

  void test(`AdamW on ${backend}: no tensor or byte growth over 40 steps, either path, either kind of gradient`, async () => {
    await tf.setBackend(backend);
    const init = initial(9);
    const steps = gradients(40, 10);
    for (const fused of [true, false, undefined]) {
      const s = setup(init, { fused });
      const before = tf.memory();
      for (const [k, g] of steps.entries()) {
        const { grads, made } = gradRecord(s, g, k % 3 === 0 ? 'tensor' : k % 3 === 1 ? 'array' : 'mixed');
        s.opt.apply(grads, LR);
        tf.dispose(made);
      }
      const after = tf.memory();
      assert.equal(after.numTensors, before.numTensors, `tensors (fused ${fused})`);
      assert.equal(after.numBytes, before.numBytes, `bytes (fused ${fused})`);
      assert.equal(s.opt.step, 40);
      const n = tf.memory().numTensors;
      dispose(s);
      assert.equal(tf.memory().numTensors, n - 3 * SPECS.length, 'dispose frees the parameters and both moments');
    }
  });
}
