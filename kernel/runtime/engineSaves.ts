/**
 * Cheaper saves for the backward pass on the wasm and cpu backends.
 *
 * tfjs-core 4.22 keeps every tensor a kernel's gradient needs (its inputs or outputs to save, and what a
 * `customGrad` body saves) as a clone: `engine.clone`, which runs the Identity kernel and records a tape node
 * for it. On wasm (this runtime's Identity, wasmKernels.ts) and on cpu (tfjs's own) Identity returns the input's
 * buffer with its reference count raised, so the clone is a second handle on the same data; the kernel call
 * and the tape node are overhead only: a `small` PIAL-Net step makes about 1,200 of them.
 *
 * Inside a kernel (engine kernel depth > 0: where the engine saves, and where the tape records nothing),
 * clones on those backends are made directly: a new tensor on the same data id, with the backend's and the
 * engine's reference counts raised exactly as Identity does. Everywhere else (a cell's `tf.clone`, other
 * backends) the engine's own clone runs.
 */
import type { DataId, KernelBackend, Tensor, TensorInfo } from '@tensorflow/tfjs-core';
import { tf } from './tf';

/** Backends whose Identity kernel shares the input's buffer. */
const SHARING_BACKENDS = new Set(['wasm', 'cpu']);

interface EngineInternals {
  clone(x: Tensor): Tensor;
  backendName: string;
  backend: KernelBackend;
  state: { kernelDepth: number; tensorInfo: { get(id: DataId): { backend: KernelBackend } | undefined } };
  makeTensorFromTensorInfo(info: TensorInfo, backend?: KernelBackend): Tensor;
  __affordanceLabOriginalClone?: (x: Tensor) => Tensor;
}

/** Installs the direct clone (idempotent). */
export function installCheapSaves(): void {
  const engine = tf.engine() as unknown as EngineInternals;
  if (engine.__affordanceLabOriginalClone) return;
  const original = engine.clone;
  engine.__affordanceLabOriginalClone = original;
  engine.clone = function (this: EngineInternals, x: Tensor): Tensor {
    if (this.state.kernelDepth > 0 && SHARING_BACKENDS.has(this.backendName) && x.dtype !== 'string' && x.dtype !== 'complex64') {
      const info = this.state.tensorInfo.get(x.dataId);
      // Only tensors of the active backend (a tensor left on another backend is cloned the engine's way).
      if (info && info.backend === this.backend) {
        const y = this.makeTensorFromTensorInfo({ dataId: x.dataId, shape: x.shape.slice(), dtype: x.dtype }, info.backend);
        info.backend.incRef(x.dataId);
        return y;
      }
    }
    return original.call(this, x);
  };
}

/** For tests: puts the engine's own clone back (installCheapSaves installs the direct one again). */
export function uninstallCheapSaves(): void {
  const engine = tf.engine() as unknown as EngineInternals;
  if (!engine.__affordanceLabOriginalClone) return;
  engine.clone = engine.__affordanceLabOriginalClone;
  delete engine.__affordanceLabOriginalClone;
}
