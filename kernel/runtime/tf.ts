/**
 * `tf`: the single TensorFlow.js instance of the kernel. Library code imports it from here; the
 * kernel's module resolver hands the same object to cells that import `@tensorflow/tfjs`,
 * `@tensorflow/tfjs-core` or `@tensorflow/tfjs-layers` (see {@link TFJS_MODULES}).
 */
import * as tf from './tfjs';
import * as wasmBackend from '@tensorflow/tfjs-backend-wasm';
import * as cpuBackend from '@tensorflow/tfjs-backend-cpu';

export { tf };
/** Type of the kernel's tfjs namespace (core + layers). */
export type TfNamespace = typeof tf;

/**
 * What the kernel hands to cells for each tfjs package name: the bundled modules, all bound to the one
 * engine. A cell importing `@tensorflow/tfjs-backend-wasm` (for `getThreadsCount`, say) gets the
 * backend that is already registered instead of a second copy resolved from disk.
 */
export const TFJS_MODULES: Readonly<Record<string, object>> = {
  '@tensorflow/tfjs': tf,
  '@tensorflow/tfjs-core': tf,
  '@tensorflow/tfjs-layers': tf,
  '@tensorflow/tfjs-backend-wasm': wasmBackend,
  '@tensorflow/tfjs-backend-cpu': cpuBackend,
};
