/**
 * Fixes for tfjs-backend-cpu 4.22 kernels that training hits.
 *
 * ResizeBilinearGrad computes the right values in [batch, height, width, depth] order but labels its
 * output [batch, width, height, depth]; for non-square images the engine then rejects the gradient
 * ("The gradient of input 'images' has shape ..."). The fix wraps the original kernel and puts the
 * input's shape back on its output.
 */
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';
import { tf } from './tf';

let original: KernelConfig | undefined;

const resizeBilinearGradCpu: KernelConfig = {
  kernelName: 'ResizeBilinearGrad',
  backendName: 'cpu',
  kernelFunc: (args) => {
    if (!original) throw new Error('ResizeBilinearGrad: the cpu backend kernel is missing');
    const out = original.kernelFunc(args) as TensorInfo;
    const images = args.inputs.images;
    if (!images) throw new Error('ResizeBilinearGrad: missing input "images"');
    return { ...out, shape: images.shape.slice() };
  },
};

/** Installs the fixes once (idempotent). Returns the kernel names it replaced now. */
export function registerCpuFixes(): string[] {
  const current = tf.getKernel('ResizeBilinearGrad', 'cpu');
  if (!current || current === resizeBilinearGradCpu) return [];
  original = current;
  tf.unregisterKernel('ResizeBilinearGrad', 'cpu');
  tf.registerKernel(resizeBilinearGradCpu);
  return ['ResizeBilinearGrad'];
}
