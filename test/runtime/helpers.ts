/**
 * Shared pieces of the runtime tests: a seeded generator, running the same computation on two
 * backends from the same numbers, and the error measure of the issue (max abs error relative to the
 * values' scale).
 */
import assert from 'node:assert/strict';
import { tf, initRuntime } from '../../kernel/runtime/index';
import { rng } from '../rng';

export { tf };
export type Tensor = ReturnType<typeof tf.tensor>;

let started: Promise<unknown> | undefined;
/** Starts the runtime on wasm once per test file (cpu stays registered as the reference). */
export function ready(): Promise<unknown> {
  started ??= initRuntime({ backend: 'wasm', notebookDir: __dirname });
  return started;
}

export { rng } from '../rng';

/** Uniform values in [-1, 1). */
export function randomValues(n: number, seed: number): Float32Array {
  const r = rng(seed);
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = r() * 2 - 1;
  return v;
}

export function size(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export interface Compared {
  /** max |a - b| / max(max |a|, 1e-6) */
  relErr: number;
  maxAbs: number;
  shape: number[];
}

/** Max abs difference relative to the reference's scale. */
export function relError(ref: ArrayLike<number>, got: ArrayLike<number>): { relErr: number; maxAbs: number } {
  if (ref.length !== got.length) throw new Error(`length ${got.length} differs from the reference's ${ref.length}`);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < ref.length; i++) {
    if (Number.isNaN(got[i]) !== Number.isNaN(ref[i])) return { relErr: Infinity, maxAbs: Infinity };
    diff = Math.max(diff, Math.abs(ref[i] - got[i]));
    scale = Math.max(scale, Math.abs(ref[i]));
  }
  return { relErr: diff / Math.max(scale, 1e-6), maxAbs: scale };
}

/** Runs `f` on a backend inside tidy and returns its outputs' values and shapes. */
export async function runOn(backend: string, f: () => Tensor | Tensor[]): Promise<{ values: Float32Array[]; shapes: number[][] }> {
  await tf.setBackend(backend);
  const outs = tf.tidy(f);
  const list = Array.isArray(outs) ? outs : [outs];
  const values = list.map((t) => Float32Array.from(t.dataSync()));
  const shapes = list.map((t) => t.shape.slice());
  tf.dispose(list);
  return { values, shapes };
}

/**
 * Runs `f` on cpu and on wasm; returns the worst relative error over its outputs. `reference`, when
 * given, is what runs on cpu instead (a different computation of the same values, for cases the cpu
 * backend itself gets wrong).
 */
export async function compareBackends(f: () => Tensor | Tensor[], reference: () => Tensor | Tensor[] = f): Promise<Compared> {
  const ref = await runOn('cpu', reference);
  const got = await runOn('wasm', f);
  let relErr = 0;
  let maxAbs = 0;
  for (let i = 0; i < ref.values.length; i++) {
    if (ref.shapes[i].join() !== got.shapes[i].join()) {
      throw new Error(`output ${i}: wasm shape [${got.shapes[i].join()}] differs from cpu [${ref.shapes[i].join()}]`);
    }
    const e = relError(ref.values[i], got.values[i]);
    relErr = Math.max(relErr, e.relErr);
    maxAbs = Math.max(maxAbs, e.maxAbs);
  }
  return { relErr, maxAbs, shape: ref.shapes[0] };
}

/** Tolerance of the issue: max abs error <= 1e-4 of the values' scale. */
export const TOLERANCE = 1e-4;

/**
 * Runs each op once inside tidy, then `repeats` more times, and asserts that tf.memory().numTensors and
 * the wasm backend's buffer count are where the first run left them (what a kernel leaks inside the
 * backend stays counted; tidy takes the views the calls make). Messages start with `prefix`.
 */
export function assertNoLeaks(ops: readonly (readonly [string, () => void])[], repeats: number, prefix = ''): void {
  const b = tf.findBackend('wasm') as unknown as { numDataIds(): number };
  for (const [name, op] of ops) {
    const once = (): void => tf.tidy(op);
    once();
    const tensors = tf.memory().numTensors;
    const ids = b.numDataIds();
    for (let i = 0; i < repeats; i++) once();
    assert.equal(tf.memory().numTensors, tensors, `${prefix}${name}: tensors`);
    assert.equal(b.numDataIds(), ids, `${prefix}${name}: wasm buffers`);
  }
}
