/**
 * Synchronous reads (`t.dataSync()`, `t.arraySync()`, `t.bufferSync()`, `t.toString()`) on the webgpu
 * backend under Node.
 *
 * tfjs-backend-webgpu 4.22 reads synchronously by drawing the buffer onto OffscreenCanvases, which Node
 * does not have (`ReferenceError: OffscreenCanvas is not defined`). Dawn's Node binding (npm `webgpu`)
 * completes a buffer mapping when it processes its events, and it schedules that processing itself,
 * through the global `setImmediate`, as long as something is waiting. The runtime hooks `setImmediate`
 * to keep a handle on those scheduled callbacks (native, anonymous functions; every other callback is
 * passed straight on), so a synchronous read can copy the tensor into a mappable buffer, ask for the
 * mapping, and run Dawn's event processing in place until the mapping is done. Each scheduled callback
 * still runs exactly once: either here or, if the read did not need it, from the event loop.
 *
 * A read that cannot complete this way (the binding scheduled nothing, the device was lost, the wait
 * took too long) throws an error saying to read with `await t.data()` instead.
 */
import { promisify } from 'node:util';
import type { BackendValues, DataId, DataType } from '@tensorflow/tfjs-core';
import { tf } from './tf';

/** Dawn's scheduled event-processing callbacks that have not run yet. */
const pending = new Set<() => void>();
let hooked = false;

function isDawnCallback(cb: unknown, args: unknown[]): cb is () => void {
  return typeof cb === 'function' && args.length === 0 && cb.name === '' && Function.prototype.toString.call(cb).includes('[native code]');
}

/**
 * Installs the `setImmediate` hook (idempotent). Must run before the Dawn binding creates its GPU
 * object, so that every callback it schedules is seen.
 */
export function hookDawnEvents(): void {
  if (hooked) return;
  hooked = true;
  const real = globalThis.setImmediate;
  const hook = function setImmediate(cb: (...a: unknown[]) => void, ...args: unknown[]): NodeJS.Immediate {
    if (!isDawnCallback(cb, args)) return real(cb, ...args);
    pending.add(cb);
    return real(() => {
      if (pending.delete(cb)) cb();
    });
  };
  // util.promisify(setImmediate) and timers/promises keep working.
  Object.defineProperty(hook, promisify.custom, { value: (real as unknown as Record<symbol, unknown>)[promisify.custom] });
  globalThis.setImmediate = hook as typeof globalThis.setImmediate;
}

/** Runs every Dawn callback scheduled so far; returns how many ran. */
function processDawnEvents(): number {
  const now = [...pending];
  pending.clear();
  for (const cb of now) cb();
  return now.length;
}

/** The parts of a mappable GPUBuffer used here. */
interface BufferLike {
  size: number;
  mapState: 'unmapped' | 'pending' | 'mapped';
  mapAsync(mode: number): Promise<void>;
  getMappedRange(): ArrayBuffer;
  unmap(): void;
}

interface TensorDataLike {
  values?: BackendValues | null;
  dtype: DataType;
  resource?: unknown;
  complexTensorInfos?: { real: { dataId: DataId }; imag: { dataId: DataId } } | null;
}

/** The parts of tfjs-backend-webgpu 4.22's WebGPUBackend that its own asynchronous read uses. */
interface WebGPUBackendLike {
  tensorMap: { get(id: DataId): TensorDataLike; has(id: DataId): boolean };
  bufferManager: { acquireBuffer(size: number, usage: number): BufferLike; releaseBuffer(b: BufferLike): void };
  commandEncoder: { copyBufferToBuffer(src: BufferLike, so: number, dst: BufferLike, doff: number, size: number): void } | null;
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  submitQueue(): void;
  convertAndCacheOnCPU(dataId: DataId, data: BackendValues): BackendValues;
  readSync(dataId: DataId): BackendValues;
}

/** How long one synchronous read may wait for the device. */
const SYNC_READ_TIMEOUT_MS = 120_000;

let syncReads = 0;

/** Synchronous reads served from the device since the process started (tests check the library makes none). */
export function webgpuSyncReadCount(): number {
  return syncReads;
}

export class SyncReadError extends Error {
  constructor(why: string) {
    super(`a synchronous read (dataSync(), arraySync(), bufferSync(), print()) of a webgpu tensor failed: ${why}; read it asynchronously instead: \`await t.data()\` or \`await t.array()\``);
    this.name = 'SyncReadError';
  }
}

function isBuffer(r: unknown): r is BufferLike {
  return typeof r === 'object' && r !== null && typeof (r as BufferLike).mapAsync === 'function' && typeof (r as BufferLike).size === 'number';
}

function gpuConst(name: 'GPUBufferUsage' | 'GPUMapMode', key: string): number {
  const ns = (globalThis as unknown as Record<string, Record<string, number> | undefined>)[name];
  const v = ns?.[key];
  if (typeof v !== 'number') throw new SyncReadError(`${name}.${key} is not defined (the Dawn binding's globals are missing)`);
  return v;
}

function readSyncDawn(b: WebGPUBackendLike, dataId: DataId): BackendValues {
  const td = b.tensorMap.get(dataId);
  if (td.values != null || td.dtype === 'string') return td.values as BackendValues;
  if (td.dtype === 'complex64' && td.complexTensorInfos) {
    const re = readSyncDawn(b, td.complexTensorInfos.real.dataId) as Float32Array;
    const im = readSyncDawn(b, td.complexTensorInfos.imag.dataId) as Float32Array;
    return b.convertAndCacheOnCPU(dataId, tf.backend_util.mergeRealAndImagArrays(re, im));
  }
  const src = td.resource;
  if (!isBuffer(src)) throw new SyncReadError('the tensor is held in a texture, not a buffer');
  const size = src.size;
  const staging = b.bufferManager.acquireBuffer(size, gpuConst('GPUBufferUsage', 'COPY_DST') | gpuConst('GPUBufferUsage', 'MAP_READ'));
  b.ensureCommandEncoderReady();
  b.endComputePassEncoder();
  if (!b.commandEncoder) throw new SyncReadError('the backend has no command encoder');
  b.commandEncoder.copyBufferToBuffer(src, 0, staging, 0, size);
  b.submitQueue();
  // A failed mapping shows as mapState 'unmapped' below; the rejection itself is only noted.
  staging.mapAsync(gpuConst('GPUMapMode', 'READ')).catch(() => undefined);
  const deadline = Date.now() + SYNC_READ_TIMEOUT_MS;
  while (staging.mapState === 'pending') {
    if (processDawnEvents() === 0) throw new SyncReadError('the Dawn binding scheduled no event processing to wait on');
    if (Date.now() > deadline) throw new SyncReadError(`the device did not finish within ${SYNC_READ_TIMEOUT_MS / 1000} s`);
  }
  if (staging.mapState !== 'mapped') throw new SyncReadError('the device could not map the read-back buffer (device lost?)');
  const bytes = staging.getMappedRange().slice(0);
  staging.unmap();
  b.bufferManager.releaseBuffer(staging);
  syncReads++;
  return b.convertAndCacheOnCPU(dataId, tf.util.convertBackendValuesAndArrayBuffer(bytes, td.dtype));
}

/** Replaces the webgpu backend instance's canvas-based readSync with the Dawn event wait above. */
export function installSyncReads(backend: object): void {
  const b = backend as WebGPUBackendLike;
  if (typeof b.readSync !== 'function' || !b.tensorMap || !b.bufferManager) {
    throw new Error('the webgpu backend does not look like tfjs-backend-webgpu 4.x (no tensorMap/bufferManager); synchronous reads cannot be provided');
  }
  b.readSync = (dataId: DataId) => readSyncDawn(b, dataId);
}
