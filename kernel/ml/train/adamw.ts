/**
 * AdamW (Loshchilov & Hutter) with decoupled weight decay, over plain `tf.variable`s, with one learning rate
 * per parameter group. Written out so that its state (moments, step) can be checkpointed and resumed exactly.
 */
import { tf } from '../model/tf';

export interface AdamWOptions {
  /** @default 0.9 */
  beta1?: number;
  /** @default 0.999 */
  beta2?: number;
  /** @default 1e-8 */
  epsilon?: number;
  /** Decoupled weight decay, applied as p -= lr * wd * p. @default 0.01 */
  weightDecay?: number;
  /**
   * Update each parameter tensor in one loop over its values (true) or with about a dozen tf ops (false). Default:
   * the loop on the 'wasm' and 'cpu' backends, whose values live in this process's memory (one loop costs less than
   * a dozen kernel calls), tf ops elsewhere (webgpu, tensorflow), whose values live on a device or in native code.
   */
  fused?: boolean;
}

/** Gradient of one parameter: a tensor, or its values in row-major order (as many as the parameter has). */
export type Gradient = tf.Tensor | Float32Array;

/** A set of variables sharing a learning rate. */
export interface ParamGroupSpec {
  name: string;
  variables: tf.Variable[];
  /** Parameter names, used as checkpoint keys of the moments (default: the variables' names). */
  names?: string[];
  /** Variables of rank <= 1 (biases, norms) get no weight decay unless this is true. */
  decayVectors?: boolean;
}

interface Slot {
  group: string;
  name: string;
  v: tf.Variable;
  m: tf.Variable;
  s: tf.Variable;
  decay: boolean;
}

export class AdamW {
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly weightDecay: number;
  private readonly fused: boolean | undefined;
  /** Number of updates applied. */
  step = 0;
  private readonly slots: Slot[] = [];

  constructor(
    readonly groups: ParamGroupSpec[],
    o: AdamWOptions = {},
  ) {
    this.beta1 = o.beta1 ?? 0.9;
    this.beta2 = o.beta2 ?? 0.999;
    this.epsilon = o.epsilon ?? 1e-8;
    this.weightDecay = o.weightDecay ?? 0.01;
    this.fused = o.fused;
    for (const g of groups) {
      g.variables.forEach((v, i) => {
        this.slots.push({
          group: g.name,
          name: g.names?.[i] ?? v.name,
          v,
          // Inside tidy: the zero tensors that seed the variables are freed, the variables kept.
          m: tf.tidy(() => tf.variable(tf.zerosLike(v), false)),
          s: tf.tidy(() => tf.variable(tf.zerosLike(v), false)),
          decay: g.decayVectors === true || v.rank >= 2,
        });
      });
    }
  }

  /**
   * Applies one update.
   * @param grads gradient per variable name (`tf.variableGrads` output, or values in plain memory, e.g. summed over
   *   workers); variables without one are skipped
   * @param lr learning rate per group name
   * @param sink where the fused update also writes a parameter's new values (by variable name; e.g. the shared
   *   weights buffer of training replicas, which then need no copy of them)
   * @returns the names of the variables whose new values went to `sink`
   */
  apply(grads: Record<string, Gradient>, lr: Record<string, number>, sink?: Record<string, Float32Array>): string[] {
    const backend = tf.getBackend();
    const fused = this.fused ?? (backend === 'wasm' || backend === 'cpu');
    // Everything is checked before anything changes: a bad gradient or a missing rate leaves the state as it was.
    const work: { sl: Slot; g: Gradient; rate: number }[] = [];
    for (const sl of this.slots) {
      const g = grads[sl.v.name];
      if (!g) continue;
      const rate = lr[sl.group];
      if (rate === undefined) throw new Error(`AdamW: no learning rate for group ${sl.group}`);
      const found = g instanceof Float32Array ? g.length : fused ? g.size : sl.v.size;
      if (found !== sl.v.size) throw new Error(`AdamW: the gradient of ${sl.name} has ${found} values, expected ${sl.v.size} (shape [${sl.v.shape.join(', ')}])`);
      work.push({ sl, g, rate });
    }
    this.step++;
    const t = this.step;
    const bc1 = 1 - this.beta1 ** t;
    const bc2 = 1 - this.beta2 ** t;
    if (fused) {
      const written: string[] = [];
      for (const w of work) {
        const out = sink?.[w.sl.v.name];
        const into = out && out.length === w.sl.v.size ? out : undefined;
        this.fusedUpdate(w.sl, w.g, w.rate, bc1, bc2, into);
        if (into) written.push(w.sl.v.name);
      }
      return written;
    }
    tf.tidy(() => {
      for (const { sl, g: grad, rate } of work) {
        const g = grad instanceof Float32Array ? tf.tensor(grad, sl.v.shape) : grad;
        const m = tf.add(tf.mul(sl.m, this.beta1), tf.mul(g, 1 - this.beta1));
        const s = tf.add(tf.mul(sl.s, this.beta2), tf.mul(tf.square(g), 1 - this.beta2));
        sl.m.assign(m);
        sl.s.assign(s);
        const upd = tf.div(tf.div(m, bc1), tf.add(tf.sqrt(tf.div(s, bc2)), this.epsilon));
        let next = tf.sub(sl.v, tf.mul(upd, rate));
        if (sl.decay && this.weightDecay > 0) next = tf.sub(next, tf.mul(sl.v, rate * this.weightDecay));
        sl.v.assign(next);
      }
    });
    return [];
  }

  /**
   * One parameter's update as a loop over its values (double arithmetic, float32 storage). On wasm the loop reads
   * the backend's heap and writes the moments there in place where no other tensor shares their storage; the
   * parameter (always), and on cpu everything (`dataSync` there reads without a copy), get new arrays that are
   * assigned.
   */
  private fusedUpdate(sl: Slot, grad: Gradient, rate: number, bc1: number, bc2: number, into?: Float32Array): void {
    const n = sl.v.size;
    const targets = [sl.v, sl.m, sl.s];
    const views = targets.map(heapView);
    const g = grad instanceof Float32Array ? grad : (heapView(grad) ?? (grad.dataSync() as Float32Array));
    const [p0, m0, s0] = views.map((view, i) => view ?? (targets[i].dataSync() as Float32Array));
    // The parameter always gets new storage: tfjs-backend-wasm caches XNNPACK operators (packed matmul and
    // convolution weights) under the id of a weight's data, so a weight changed in place would keep computing
    // with its old values. The moments feed only this update and are written in place.
    // With `into`, the new parameter is written there and copied from there into the variable's new storage.
    const out = views.map((view, i) => (i === 0 && into ? into : i > 0 && view && soleOwner(targets[i]) ? view : new Float32Array(n)));
    const keep = 1 - (sl.decay && this.weightDecay > 0 ? rate * this.weightDecay : 0);
    // p - rate * (m / bc1) / (sqrt(s / bc2) + eps) - rate * wd * p, with the constants folded.
    adamwLoop(n, g, p0, m0, s0, out[0], out[1], out[2], this.beta1, this.beta2, rate / bc1, 1 / Math.sqrt(bc2), this.epsilon, keep);
    targets.forEach((target, i) => {
      if (out[i] === views[i]) return;
      const fresh = tf.tensor(out[i], target.shape, 'float32');
      target.assign(fresh);
      fresh.dispose();
    });
  }

  /** Moments as named tensors (views of the live variables; the checkpoint writer reads them). */
  stateTensors(): Record<string, tf.Tensor> {
    const out: Record<string, tf.Tensor> = {};
    for (const sl of this.slots) {
      out[`m/${sl.name}`] = sl.m;
      out[`v/${sl.name}`] = sl.s;
    }
    return out;
  }

  /** Restores moments saved by {@link stateTensors}; validates every name and shape before assigning. */
  loadState(tensors: Record<string, tf.Tensor>, step: number): void {
    const problems: string[] = [];
    for (const sl of this.slots) {
      for (const [k, target] of [[`m/${sl.name}`, sl.m], [`v/${sl.name}`, sl.s]] as const) {
        const t = tensors[k];
        if (!t) problems.push(`${k} is missing`);
        else if (t.shape.join(',') !== target.shape.join(',')) problems.push(`${k} has shape [${t.shape.join(', ')}], expected [${target.shape.join(', ')}]`);
      }
    }
    if (problems.length) throw new Error(`optimizer state does not match the model: ${problems.slice(0, 4).join('; ')}${problems.length > 4 ? ` (and ${problems.length - 4} more)` : ''}`);
    for (const sl of this.slots) {
      sl.m.assign(tensors[`m/${sl.name}`]);
      sl.s.assign(tensors[`v/${sl.name}`]);
    }
    this.step = step;
  }

  dispose(): void {
    for (const sl of this.slots) tf.dispose([sl.m, sl.s]);
    this.slots.length = 0;
  }
}

/** The update of one parameter's values; p1, m1 and s1 may be p0, m0 and s0 (in place). */
function adamwLoop(
  n: number,
  g: Float32Array,
  p0: Float32Array,
  m0: Float32Array,
  s0: Float32Array,
  p1: Float32Array,
  m1: Float32Array,
  s1: Float32Array,
  b1: number,
  b2: number,
  k1: number,
  k2: number,
  eps: number,
  keep: number,
): void {
  const c1 = 1 - b1;
  const c2 = 1 - b2;
  for (let i = 0; i < n; i++) {
    const gi = g[i];
    const m = b1 * m0[i] + c1 * gi;
    const s = b2 * s0[i] + c2 * gi * gi;
    m1[i] = m;
    s1[i] = s;
    p1[i] = keep * p0[i] - (k1 * m) / (Math.sqrt(s) * k2 + eps);
  }
}

/** The parts of the wasm backend that {@link heapView} reads. */
interface WasmBackend {
  dataIdMap: { has(id: object): boolean; get(id: object): { memoryOffset: number; dtype: string } };
  wasm: { HEAPU8: Uint8Array };
  refCount(id: object): number;
}

/**
 * A float32 tensor's values as a view of the wasm backend's heap, or null on other backends. Valid until the next
 * tensor is made (the heap can grow). Only the wasm backend is read and written this way: on the cpu backend a
 * tensor's storage can be an array that its maker or a `dataSync()` caller still holds.
 */
function heapView(t: tf.Tensor): Float32Array | null {
  if (t.dtype !== 'float32' || tf.getBackend() !== 'wasm') return null;
  const b = tf.backend() as unknown as WasmBackend;
  if (!b.dataIdMap?.has(t.dataId)) return null;
  const d = b.dataIdMap.get(t.dataId);
  return d.dtype === 'float32' ? new Float32Array(b.wasm.HEAPU8.buffer, d.memoryOffset, t.size) : null;
}

/** Whether no other tensor shares this one's storage (then writing it in place changes only this tensor). */
function soleOwner(t: tf.Tensor): boolean {
  return (tf.backend() as unknown as WasmBackend).refCount(t.dataId) === 1;
}
