/**
 * The kernel's one TensorFlow.js instance, as a module namespace.
 *
 * It is tfjs-core plus tfjs-layers (the parts of the `@tensorflow/tfjs` union package that notebooks
 * use; converter, data and webgl are left out for bundle size and start time), with the cpu and wasm
 * backends registered. The kernel's module resolver hands this namespace to cells importing
 * `@tensorflow/tfjs`, `@tensorflow/tfjs-core` or `@tensorflow/tfjs-layers`, so that every cell and
 * every library module talks to the same engine (two copies would mean two engines and tensors that
 * neither understands).
 */
export * from '@tensorflow/tfjs-core';
export * from '@tensorflow/tfjs-layers';
// Named imports, not bare ones: bundled through their package "main" (a file their package.json does
// not list under sideEffects), a bare import would be dropped by esbuild and the backend never registered.
import { version_cpu } from '@tensorflow/tfjs-backend-cpu';
import { version_wasm } from '@tensorflow/tfjs-backend-wasm';
// tfjs-core's entry point registers neither gradients nor the chained tensor methods (x.sum(), ...);
// the `@tensorflow/tfjs` union package does, so cells written for it expect both. Tensor class and
// gradient registry are process globals, so these files extend the same engine.
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops';
import { version_core } from '@tensorflow/tfjs-core';
import { version_layers } from '@tensorflow/tfjs-layers';

/** Versions of the bundled packages, shaped like `@tensorflow/tfjs`'s `version` export. */
export const version = {
  'tfjs-core': version_core,
  'tfjs-layers': version_layers,
  'tfjs-backend-cpu': version_cpu,
  'tfjs-backend-wasm': version_wasm,
  tfjs: version_core,
};
