/**
 * Gradient checker.
 *
 * Per op: the kernels a real PIAL-Net training step runs are recorded from the graph (kernel name, attributes,
 * input shapes), and each distinct invocation is replayed on a backend with small random inputs: tfjs's analytic
 * gradient of L = sum(w * op(x)) (w a random cotangent) is compared with central differences of the same L
 * computed in Float64 with the reference kernels of ./reference.ts. The reference's forward values are
 * compared with the backend's first, so a wrong reference cannot pass silently.
 *
 * Whole model: `nano` PIAL-Net, a few hundred scalar parameters chosen at random across every parameter
 * tensor, analytic gradient of the real training loss vs fourth-order central differences of that loss.
 *
 * Every entry point takes the backend's name ('cpu', 'wasm', 'webgpu', ...); the backend must be registered
 * (the runtime's initRuntime registers cpu and the one it picks).
 */
import { tf } from '../../kernel/runtime/index';
import { PIALNet } from '../../kernel/ml/model/pialnet';
import { pialLoss } from '../../kernel/ml/train/loss';
import type { PairBatch } from '../../kernel/ml/model/batch';
import type { PIALNetOptions } from '../../kernel/ml/model/config';
import { rng } from '../rng';
import { REFERENCE, inputDomain, numel, type Arr, type Attrs, type RefInputs } from './reference';

type Tensor = tf.Tensor;

export interface RecordedInput {
  name: string;
  shape: number[];
  dtype: string;
  /** Values of non-float inputs (indices), replayed as they were. */
  values?: number[];
}

export interface Invocation {
  kernel: string;
  attrs: Attrs;
  inputs: RecordedInput[];
  /** Inputs were passed as a list (Concat, Pack, AddN). */
  list: boolean;
  signature: string;
}

/** Kernels that have no differentiable input (constants) or only appear as gradient helpers. */
const NOT_DIFFERENTIABLE = new Set(['Fill', 'ZerosLike', 'OnesLike', 'Step', 'Range', 'Equal', 'Greater', 'GreaterEqual', 'Less', 'LessEqual', 'LogicalAnd', 'Select']);

/** Records every distinct kernel invocation `f` makes through the engine (run inside a tidy). */
export function recordKernels(f: () => unknown): Invocation[] {
  const engine = tf.engine() as unknown as { runKernel: (k: string, inputs: object, attrs?: Attrs) => unknown };
  const original = engine.runKernel;
  const seen = new Map<string, Invocation>();
  engine.runKernel = function (kernel: string, inputs: object, attrs: Attrs = {}) {
    const list = Array.isArray(inputs);
    const ins: RecordedInput[] = Object.entries(inputs as Record<string, Tensor>).map(([name, t]) => ({
      name,
      shape: [...t.shape],
      dtype: t.dtype,
      values: t.dtype === 'float32' ? undefined : Array.from(t.dataSync() as ArrayLike<number>),
    }));
    const clean: Attrs = {};
    for (const [k, v] of Object.entries(attrs ?? {})) if (v !== undefined) clean[k] = v;
    const signature = `${kernel} ${JSON.stringify(clean)} ${ins.map((i) => `${i.name}:${i.dtype}[${i.shape.join(',')}]`).join(' ')}`;
    if (!seen.has(signature)) seen.set(signature, { kernel, attrs: clean, inputs: ins, list, signature });
    return original.call(this, kernel, inputs, attrs);
  };
  try {
    tf.tidy(() => {
      f();
    });
  } finally {
    engine.runKernel = original;
  }
  return [...seen.values()];
}

/** A deterministic random batch for a model configuration. */
export function randomBatch(o: PIALNetOptions, batchSize: number, seed: number): PairBatch {
  const r = rng(seed);
  const s = o.inputSize;
  const u = (shape: number[], lo = 0, hi = 1): Tensor => {
    const n = numel(shape);
    const v = new Float32Array(n);
    for (let i = 0; i < n; i++) v[i] = lo + (hi - lo) * r();
    return tf.tensor(v, shape);
  };
  const gt = (): Tensor => {
    // Sparse, peaked targets in [0, 1], like GT heatmaps.
    const n = batchSize * s * s * 6;
    const v = new Float32Array(n);
    for (let i = 0; i < n; i++) v[i] = r() ** 6;
    return tf.tensor(v, [batchSize, s, s, 6]);
  };
  return {
    interactive: u([batchSize, s, s, 3], -1, 1),
    nonInteractive: u([batchSize, s, s, 3], -1, 1),
    pose: u([batchSize, 17, 3]),
    gtIn: gt(),
    gtNon: gt(),
  } as unknown as PairBatch;
}

/** The distinct kernels of one training step's forward pass (loss included) of a configuration. */
export function trainingGraphKernels(base: 'nano' | 'small' = 'nano', extra: Partial<PIALNetOptions> = {}): Invocation[] {
  const model = PIALNet.create({ base, ...extra }, { build: true });
  try {
    const batch = randomBatch(model.options, 2, 11);
    try {
      return recordKernels(() => pialLoss(model, batch).total);
    } finally {
      tf.dispose(Object.values(batch as unknown as Record<string, Tensor>));
    }
  } finally {
    model.dispose();
  }
}

export interface OpResult {
  kernel: string;
  signature: string;
  backend: string;
  /** max |analytic - numeric| / max(max |numeric|, 1e-6), worst over the differentiable inputs */
  relErr: number;
  /** Largest |numeric gradient| seen (the scale). */
  scale: number;
  /** Reference forward vs the backend's forward (relative to the output's scale). */
  forwardErr: number;
  checked: number;
  error?: string;
}

function sampleInput(inv: Invocation, inp: RecordedInput, r: () => number): Float32Array {
  const n = numel(inp.shape);
  if (inp.values) return Float32Array.from(inp.values);
  const { lo, hi, avoid } = inputDomain(inv.kernel, inp.name, inv.attrs);
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let x = lo + (hi - lo) * r();
    // Keep away from kinks by more than any step of the central differences.
    for (const a of avoid) if (Math.abs(x - a) < 0.02) x = a + (x >= a ? 0.02 : -0.02) + (x >= a ? 0.01 : -0.01) * r();
    v[i] = x;
  }
  return v;
}

const toArr = (shape: number[], v: ArrayLike<number>): Arr => ({ shape: [...shape], data: Float64Array.from(v) });

function refOutputs(inv: Invocation, inputs: RefInputs): Arr[] {
  const k = REFERENCE[inv.kernel];
  if (!k) throw new Error(`no Float64 reference for kernel ${inv.kernel}`);
  const out = k(inputs, inv.attrs);
  return Array.isArray(out) ? out : [out];
}

/** Coordinates of an input to difference: all of them for small inputs, else `limit` at random. */
function coordinates(n: number, limit: number, r: () => number): number[] {
  if (n <= limit) return [...Array(n).keys()];
  const set = new Set<number>();
  while (set.size < limit) set.add(Math.floor(r() * n));
  return [...set].sort((a, b) => a - b);
}

/**
 * Replays one recorded invocation on `backend` and compares its analytic gradient with Float64 central
 * differences of the reference. Resolves the tensors it made (nothing is left allocated).
 */
export async function checkInvocation(inv: Invocation, backend: string, seed = 1, coordsPerInput = 24): Promise<OpResult> {
  const result: OpResult = { kernel: inv.kernel, signature: inv.signature, backend, relErr: 0, scale: 0, forwardErr: 0, checked: 0 };
  const r = rng(seed);
  const values = inv.inputs.map((inp) => sampleInput(inv, inp, r));
  const diffIdx = inv.inputs.map((inp, i) => (inp.dtype === 'float32' ? i : -1)).filter((i) => i >= 0);
  if (diffIdx.length === 0 || NOT_DIFFERENTIABLE.has(inv.kernel)) return { ...result, error: 'not differentiable' };
  const refIn: RefInputs = {};
  inv.inputs.forEach((inp, i) => (refIn[inp.name] = toArr(inp.shape, values[i])));
  let refOut: Arr[];
  try {
    refOut = refOutputs(inv, refIn);
  } catch (e) {
    return { ...result, relErr: Infinity, error: (e as Error).message };
  }
  const cot = refOut.map((o) => {
    const w = new Float32Array(numel(o.shape));
    for (let i = 0; i < w.length; i++) w[i] = r() * 2 - 1;
    return w;
  });

  await tf.setBackend(backend);
  let analytic: Float32Array[];
  let forward: Float32Array[];
  try {
    const tensors = inv.inputs.map((inp, i) => tf.tensor(values[i], inp.shape, inp.dtype as 'float32' | 'int32'));
    const run = (xs: Tensor[]): Tensor[] => {
      const all = inv.inputs.map((_, i) => tensors[i]);
      diffIdx.forEach((j, k) => (all[j] = xs[k]));
      const args = inv.list ? all : Object.fromEntries(inv.inputs.map((inp, i) => [inp.name, all[i]]));
      const out = tf.engine().runKernel(inv.kernel, args as unknown as tf.NamedTensorMap, inv.attrs as tf.NamedAttrMap) as Tensor | Tensor[];
      return Array.isArray(out) ? out : [out];
    };
    const outs = tf.tidy(() => run(diffIdx.map((j) => tensors[j])));
    forward = await Promise.all(outs.map(async (o) => Float32Array.from(await o.data())));
    tf.dispose(outs);
    const grads = tf.tidy(() =>
      tf.grads((...xs: Tensor[]) => {
        const os = run(xs);
        return tf.addN(os.map((o, k) => tf.sum(tf.mul(o, tf.tensor(cot[k], o.shape)))));
      })(diffIdx.map((j) => tensors[j])),
    );
    analytic = await Promise.all(grads.map(async (g) => Float32Array.from(await g.data())));
    tf.dispose([...grads, ...tensors]);
  } catch (e) {
    return { ...result, relErr: Infinity, error: `${backend}: ${(e as Error).message}` };
  }

  // The reference must agree with the backend's forward pass before its differences mean anything.
  for (let k = 0; k < refOut.length; k++) {
    let d = 0;
    let s = 0;
    for (let i = 0; i < refOut[k].data.length; i++) {
      d = Math.max(d, Math.abs(refOut[k].data[i] - forward[k][i]));
      s = Math.max(s, Math.abs(refOut[k].data[i]));
    }
    result.forwardErr = Math.max(result.forwardErr, d / Math.max(s, 1e-6));
  }

  const objective = (inputs: RefInputs): number => {
    const outs = refOutputs(inv, inputs);
    let total = 0;
    for (let k = 0; k < outs.length; k++) for (let i = 0; i < outs[k].data.length; i++) total += outs[k].data[i] * cot[k][i];
    return total;
  };
  diffIdx.forEach((j, k) => {
    const name = inv.inputs[j].name;
    const base = refIn[name];
    const coords = coordinates(base.data.length, coordsPerInput, r);
    let diff = 0;
    let scale = 0;
    for (const c of coords) {
      const x0 = base.data[c];
      const h = 1e-6 * Math.max(1, Math.abs(x0));
      base.data[c] = x0 + h;
      const fp = objective(refIn);
      base.data[c] = x0 - h;
      const fm = objective(refIn);
      base.data[c] = x0;
      const num = (fp - fm) / (2 * h);
      diff = Math.max(diff, Math.abs(num - analytic[k][c]));
      scale = Math.max(scale, Math.abs(num));
    }
    result.checked += coords.length;
    result.scale = Math.max(result.scale, scale);
    result.relErr = Math.max(result.relErr, diff / Math.max(scale, 1e-6));
  });
  return result;
}

/** Worst result per kernel name. */
export function worstPerKernel(results: OpResult[]): Map<string, OpResult> {
  const out = new Map<string, OpResult>();
  for (const r of results) {
    const cur = out.get(r.kernel);
    if (!cur || r.relErr > cur.relErr || (Number.isNaN(r.relErr) && !Number.isNaN(cur.relErr))) out.set(r.kernel, r);
  }
  return new Map([...out].sort(([a], [b]) => a.localeCompare(b)));
}

/** ResizeBilinear cases beyond the graph's: every sampling rule, scales up and down, odd sizes. */
export function resizeCases(): Invocation[] {
  const cases: [number[], [number, number], boolean, boolean][] = [
    [[1, 4, 4, 2], [8, 8], false, true],
    [[2, 4, 4, 1], [8, 8], false, false],
    [[1, 4, 4, 1], [8, 8], true, false],
    [[1, 5, 7, 2], [3, 4], false, true],
    [[1, 5, 7, 2], [3, 4], true, false],
    [[1, 5, 7, 1], [3, 4], false, false],
    [[2, 3, 5, 2], [7, 11], false, true],
    [[1, 3, 5, 1], [7, 11], true, false],
    [[1, 6, 6, 1], [1, 1], true, false],
    [[1, 1, 1, 2], [4, 3], false, true],
    [[1, 7, 7, 3], [28, 28], false, true],
  ];
  return cases.map(([shape, size, alignCorners, halfPixelCenters]) => {
    const attrs = { alignCorners, halfPixelCenters, size };
    return {
      kernel: 'ResizeBilinear',
      attrs,
      inputs: [{ name: 'images', shape, dtype: 'float32' }],
      list: false,
      signature: `ResizeBilinear ${JSON.stringify(attrs)} images:float32[${shape.join(',')}]`,
    };
  });
}

// ---------------------------------------------------------------------------------------------------------
// Whole model

export interface ModelCheck {
  backend: string;
  params: number;
  /** Per parameter group (the name up to its second dot): worst |a - n| / max |n| over the group's samples. */
  groups: { group: string; samples: number; relErr: number; scale: number }[];
  /** Worst of the groups. */
  worstRelErr: number;
  loss: number;
}

/** A model's parameter group for the report: `encoder.stage2.block0.attn.q.weight` -> `encoder.stage2`. */
export function groupOfParam(name: string): string {
  return name.split('.').slice(0, 2).join('.');
}

interface GraphNode {
  kernel: string;
  attrs: Attrs;
  inputs: { name: string; id: number }[];
  list: boolean;
  outputs: number[];
  /** Output values captured while recording, for kernels that are not recomputed (constants, integer ops). */
  recorded?: Arr[];
}

interface RecordedGraph {
  nodes: GraphNode[];
  /** Tensors that enter the graph from outside: batch data and constants (values), parameters (names). */
  leaves: Map<number, { param: string } | { value: Arr }>;
  output: number;
}

/**
 * Records the kernels `f` runs with their data flow, so that the same computation can be replayed in Float64
 * with the reference kernels. `params` maps variables to their names (the leaves that are perturbed).
 */
function recordGraph(f: () => Tensor, params: Map<Tensor, string>): { graph: RecordedGraph; value: number } {
  const engine = tf.engine() as unknown as { runKernel: (k: string, inputs: object, attrs?: Attrs) => unknown };
  const original = engine.runKernel;
  const nodes: GraphNode[] = [];
  const produced = new Set<number>();
  const leaves = new Map<number, { param: string } | { value: Arr }>();
  const leaf = (t: Tensor): void => {
    if (produced.has(t.id) || leaves.has(t.id)) return;
    const name = params.get(t);
    leaves.set(t.id, name !== undefined ? { param: name } : { value: toArr([...t.shape], t.dataSync() as ArrayLike<number>) });
  };
  engine.runKernel = function (kernel: string, inputs: object, attrs: Attrs = {}) {
    const list = Array.isArray(inputs);
    const ins = Object.entries(inputs as Record<string, Tensor>).map(([name, t]) => {
      leaf(t);
      return { name, id: t.id };
    });
    const out = original.call(this, kernel, inputs, attrs) as Tensor | Tensor[];
    const outs = Array.isArray(out) ? out : [out];
    for (const o of outs) produced.add(o.id);
    const node: GraphNode = { kernel, attrs: { ...attrs }, inputs: ins, list, outputs: outs.map((o) => o.id) };
    if (!REFERENCE[kernel] || outs.some((o) => o.dtype !== 'float32') || NOT_DIFFERENTIABLE.has(kernel)) {
      node.recorded = outs.map((o) => toArr([...o.shape], o.dataSync() as ArrayLike<number>));
    }
    nodes.push(node);
    return out;
  };
  let value = NaN;
  let output = -1;
  try {
    tf.tidy(() => {
      const t = f();
      output = t.id;
      value = (t.dataSync() as Float32Array)[0];
    });
  } finally {
    engine.runKernel = original;
  }
  return { graph: { nodes, leaves, output }, value };
}

/** Evaluates a recorded graph in Float64, with the parameters' values taken from `params`. */
function replay(graph: RecordedGraph, params: Map<string, Arr>): number {
  const values = new Map<number, Arr>();
  for (const [id, l] of graph.leaves) values.set(id, 'param' in l ? params.get(l.param)! : l.value);
  for (const n of graph.nodes) {
    let outs: Arr[];
    if (n.recorded) outs = n.recorded;
    else {
      const inputs: RefInputs = {};
      for (const i of n.inputs) {
        const v = values.get(i.id);
        if (!v) throw new Error(`graph replay: input ${i.name} of ${n.kernel} was never computed`);
        inputs[i.name] = v;
      }
      const out = REFERENCE[n.kernel](inputs, n.attrs);
      outs = Array.isArray(out) ? out : [out];
    }
    n.outputs.forEach((id, k) => values.set(id, outs[k]));
  }
  const out = values.get(graph.output);
  if (!out) throw new Error('graph replay: the loss was not computed');
  return out.data[0];
}

/**
 * Analytic gradient of the real training loss of `nano` PIAL-Net on `backend` vs central differences of the
 * same loss in Float64: the forward pass of the loss is recorded kernel by kernel and replayed with the
 * Float64 reference kernels, so the differences carry no float32 rounding. About `samples` scalar parameters
 * are checked, at least one from every parameter tensor. The weights are first moved off their
 * initialisation by seeded noise (as a few training steps would), so that zero-initialised layers do not
 * hide the gradients of the layers before them.
 */
export async function checkModel(backend: string, opts: { samples?: number; seed?: number; model?: Partial<PIALNetOptions> } = {}): Promise<ModelCheck> {
  await tf.setBackend(backend);
  const samples = opts.samples ?? 300;
  const seed = opts.seed ?? 3;
  const model = PIALNet.create({ base: 'nano', seed, ...opts.model }, { build: true });
  const batch = randomBatch(model.options, 2, seed + 100);
  try {
    const names = [...model.params.specs.keys()];
    const vars = model.variables();
    const noise = rng(seed + 5);
    for (const v of vars) {
      const vals = Float32Array.from(await v.data());
      for (let i = 0; i < vals.length; i++) vals[i] += 0.05 * (noise() * 2 - 1);
      const t = tf.tensor(vals, v.shape);
      v.assign(t);
      t.dispose();
    }
    const { value, grads } = tf.variableGrads(() => pialLoss(model, batch).total, vars);
    const loss = (await value.data())[0];
    const analytic = new Map<string, Float32Array>();
    for (let i = 0; i < vars.length; i++) analytic.set(names[i], Float32Array.from(await grads[vars[i].name].data()));
    tf.dispose([value, ...Object.values(grads)]);

    const { graph, value: recordedLoss } = recordGraph(() => pialLoss(model, batch).total, new Map(vars.map((v, i) => [v as Tensor, names[i]])));
    const params = new Map<string, Arr>();
    for (let i = 0; i < vars.length; i++) params.set(names[i], toArr([...vars[i].shape], await vars[i].data()));
    const loss64 = replay(graph, params);
    if (!(Math.abs(loss64 - recordedLoss) <= 1e-4 * Math.max(1, Math.abs(loss64)))) {
      throw new Error(`Float64 replay of the loss gives ${loss64}, the ${backend} backend ${recordedLoss}`);
    }

    // At least one scalar per tensor, the rest in proportion to the tensors' sizes.
    const r = rng(seed + 7);
    const total = vars.reduce((a, v) => a + v.size, 0);
    const picks: { v: number; idx: number }[] = [];
    vars.forEach((v, i) => {
      const k = Math.min(v.size, Math.max(1, Math.round((samples - vars.length) * (v.size / total))));
      for (const idx of coordinates(v.size, k, r)) picks.push({ v: i, idx });
    });
    const byGroup = new Map<string, { diff: number; scale: number; n: number }>();
    for (const { v, idx } of picks) {
      const p = params.get(names[v])!;
      const x0 = p.data[idx];
      const h = 1e-6 * Math.max(1, Math.abs(x0));
      p.data[idx] = x0 + h;
      const fp = replay(graph, params);
      p.data[idx] = x0 - h;
      const fm = replay(graph, params);
      p.data[idx] = x0;
      const num = (fp - fm) / (2 * h);
      const a = analytic.get(names[v])![idx];
      const g = groupOfParam(names[v]);
      const cur = byGroup.get(g) ?? { diff: 0, scale: 0, n: 0 };
      cur.diff = Math.max(cur.diff, Math.abs(a - num));
      cur.scale = Math.max(cur.scale, Math.abs(num));
      cur.n++;
      byGroup.set(g, cur);
    }
    const groups = [...byGroup]
      .map(([group, s]) => ({ group, samples: s.n, relErr: s.diff / Math.max(s.scale, 1e-9), scale: s.scale }))
      .sort((a, b) => a.group.localeCompare(b.group));
    return { backend, params: picks.length, groups, worstRelErr: Math.max(...groups.map((g) => g.relErr)), loss };
  } finally {
    tf.dispose(Object.values(batch as unknown as Record<string, Tensor>));
    model.dispose();
  }
}
