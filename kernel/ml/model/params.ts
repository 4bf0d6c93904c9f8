/**
 * Parameter store of PIAL-Net: every weight is declared once (name, shape, initialiser, group) when the
 * model's modules are constructed, and materialised as `tf.variable`s later. Declaring first means the
 * parameter count of a large configuration is known without allocating it, and that a checkpoint can be
 * validated against the expected shapes before anything is assigned.
 */
import { tf } from './tf';

/** Parameter groups with their own learning rate (docs/paper.md 4.7: the encoder at 1x, the rest at 10x). */
export type ParamGroup = 'encoder' | 'head';

export type Init =
  | { kind: 'zeros' }
  | { kind: 'ones' }
  | { kind: 'const'; value: number }
  /** identity matrix (a 2-D [n, n] weight that starts as a pass-through) */
  | { kind: 'eye' }
  /** truncated normal, std given (SegFormer's linear layers use 0.02) */
  | { kind: 'trunc'; std: number }
  /** normal with std sqrt(2 / fanOut), SegFormer's convolution initialiser */
  | { kind: 'he'; fanOut: number };

export interface ParamSpec {
  name: string;
  shape: number[];
  init: Init;
  group: ParamGroup;
}

/** 32-bit FNV-1a of a string, mixed with a seed: a stable per-parameter seed. */
function hashSeed(seed: number, name: string): number {
  let h = (0x811c9dc5 ^ (seed >>> 0)) >>> 0;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % 2147483647;
}

export class ParamStore {
  readonly specs = new Map<string, ParamSpec>();
  private vars: Map<string, tf.Variable> | undefined;

  /** Declares a parameter and returns its name; names must be unique. */
  add(name: string, shape: number[], init: Init, group: ParamGroup): string {
    if (this.specs.has(name)) throw new Error(`parameter ${name} declared twice`);
    if (this.vars) throw new Error(`parameter ${name} declared after the weights were created`);
    this.specs.set(name, { name, shape, init, group });
    return name;
  }

  /** Number of scalar parameters, from the declared shapes (no allocation). */
  count(group?: ParamGroup): number {
    let n = 0;
    for (const s of this.specs.values()) if (!group || s.group === group) n += s.shape.reduce((a, b) => a * b, 1);
    return n;
  }

  get built(): boolean {
    return this.vars !== undefined;
  }

  /** Creates every variable with its seeded initial value (idempotent). */
  build(seed: number): void {
    if (this.vars) return;
    const vars = new Map<string, tf.Variable>();
    for (const s of this.specs.values()) {
      const value = tf.tidy(() => initial(s, hashSeed(seed, s.name)));
      vars.set(s.name, tf.variable(value, true, `${s.name}#${Math.random().toString(36).slice(2, 8)}`));
      value.dispose();
    }
    this.vars = vars;
  }

  /** The variable of a declared parameter; the store must be built. */
  get(name: string): tf.Variable {
    const v = this.vars?.get(name);
    if (!v) throw new Error(this.vars ? `unknown parameter ${name}` : 'the model weights are not created yet (call model.build())');
    return v;
  }

  /** Variables in declaration order, optionally of one group. */
  variables(group?: ParamGroup): tf.Variable[] {
    if (!this.vars) return [];
    const out: tf.Variable[] = [];
    for (const s of this.specs.values()) if (!group || s.group === group) out.push(this.vars.get(s.name)!);
    return out;
  }

  /** Frees every variable. */
  dispose(): void {
    if (this.vars) for (const v of this.vars.values()) v.dispose();
    this.vars = undefined;
  }
}

function initial(s: ParamSpec, seed: number): tf.Tensor {
  switch (s.init.kind) {
    case 'zeros':
      return tf.zeros(s.shape);
    case 'ones':
      return tf.ones(s.shape);
    case 'const':
      return tf.fill(s.shape, s.init.value);
    case 'eye':
      if (s.shape.length !== 2 || s.shape[0] !== s.shape[1]) throw new Error(`${s.name}: identity init needs a square matrix, got [${s.shape.join(', ')}]`);
      return tf.eye(s.shape[0]);
    case 'trunc':
      return tf.truncatedNormal(s.shape, 0, s.init.std, 'float32', seed);
    case 'he':
      return tf.randomNormal(s.shape, 0, Math.sqrt(2 / s.init.fanOut), 'float32', seed);
  }
}
