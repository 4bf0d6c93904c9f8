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
}

/** A set of variables sharing a learning rate. */
export interface ParamGroupSpec {
  name: string;
  variables: tf.Variable[];
  /** Parameter names, used as checkpoint keys of the moments (default: the variables' names). */
  names?: string[];
  /** Variables of rank <= 1 (biases, norms) get no weight decay unless this is true. */
  decayVectors?: boolean;
}

export class AdamW {
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly weightDecay: number;
  /** Number of updates applied. */
  step = 0;
  private readonly slots: { group: string; name: string; v: tf.Variable; m: tf.Variable; s: tf.Variable; decay: boolean }[] = [];

  constructor(
    readonly groups: ParamGroupSpec[],
    o: AdamWOptions = {},
  ) {
    this.beta1 = o.beta1 ?? 0.9;
    this.beta2 = o.beta2 ?? 0.999;
    this.epsilon = o.epsilon ?? 1e-8;
    this.weightDecay = o.weightDecay ?? 0.01;
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
   * @param grads gradient per variable name (`tf.variableGrads` output); variables without one are skipped
   * @param lr learning rate per group name
   */
  apply(grads: Record<string, tf.Tensor>, lr: Record<string, number>): void {
    this.step++;
    const t = this.step;
    const bc1 = 1 - this.beta1 ** t;
    const bc2 = 1 - this.beta2 ** t;
    tf.tidy(() => {
      for (const sl of this.slots) {
        const g = grads[sl.v.name];
        if (!g) continue;
        const rate = lr[sl.group];
        if (rate === undefined) throw new Error(`AdamW: no learning rate for group ${sl.group}`);
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
