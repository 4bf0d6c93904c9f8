/**
 * `tf`: the single TensorFlow.js instance of the kernel. Library code imports it from here; the
 * kernel's module resolver hands the same object to cells that import `@tensorflow/tfjs`,
 * `@tensorflow/tfjs-core` or `@tensorflow/tfjs-layers`.
 */
import * as tf from './tfjs';

export { tf };
/** Type of the kernel's tfjs namespace (core + layers). */
export type TfNamespace = typeof tf;
