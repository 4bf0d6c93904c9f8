/**
 * The webgpu test process: the kernel's runtime forced onto webgpu (Dawn's Node binding, npm `webgpu`),
 * with a software adapter allowed, so that the suite runs on Mesa's lavapipe where there is no GPU and
 * on the GPU where there is one (Dawn prefers a hardware adapter). cpu stays registered as the reference.
 *
 * A test file in this folder does:
 *
 *     import { webgpuSkip, useWebgpu } from './setup';
 *     before(useWebgpu);
 *     void test('...', { skip: webgpuSkip }, async () => { ... 'webgpu' ... });
 *
 * `webgpuSkip` is false when the machine has what the suite needs, else the reason (and what to
 * install). When it is false and the backend still cannot start, the tests fail rather than skip.
 * Env AFFORDANCE_LAB_WEBGPU_EXPECT_HARDWARE=1 (set by scripts/gpu-check.sh) makes the suite fail when
 * Dawn offers only a software adapter.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { tf, initRuntime, runtimeInfo, WEBGPU_SOFTWARE_ENV } from '../../kernel/runtime/index';
import { resolveOptional, initBackendChain } from '../../kernel/runtime/backends';
import { relError } from '../runtime/helpers';

export { tf };
export type Tensor = ReturnType<typeof tf.tensor>;

/** The backend name the suite runs on (for libraries whose entry points take one). */
export const WEBGPU = 'webgpu';

const ROOT = join(__dirname, '..', '..');

function libvulkanPresent(): boolean {
  const dirs = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib', '/lib/x86_64-linux-gnu', '/usr/local/lib'];
  return dirs.some((d) => existsSync(join(d, 'libvulkan.so.1')));
}

function vulkanIcdPresent(): boolean {
  const dirs = ['/usr/share/vulkan/icd.d', '/etc/vulkan/icd.d', '/usr/local/share/vulkan/icd.d'];
  if (process.env.VK_ICD_FILENAMES || process.env.VK_DRIVER_FILES) return true;
  return dirs.some((d) => {
    try {
      return readdirSync(d).some((f) => f.endsWith('.json'));
    } catch {
      return false;
    }
  });
}

/** Why the suite cannot run here (and what it needs), or false when it can. */
function skipReason(): string | false {
  if (!resolveOptional('webgpu', [ROOT])) return 'the npm package `webgpu` (Dawn) is not installed; run `npm ci`';
  if (process.platform === 'linux') {
    if (!libvulkanPresent()) return 'libvulkan.so.1 is missing; install the Vulkan loader (Debian: libvulkan1) and a Vulkan driver (no GPU: Mesa >= 24 lavapipe, mesa-vulkan-drivers from bookworm-backports; scripts/install-vulkan-sw.sh does it)';
    if (!vulkanIcdPresent()) return 'no Vulkan driver (ICD) is installed; install a GPU driver or, without a GPU, Mesa >= 24 lavapipe (mesa-vulkan-drivers from bookworm-backports; scripts/install-vulkan-sw.sh)';
  }
  return false;
}

export const webgpuSkip: string | false = skipReason();

let started: Promise<void> | undefined;

/** Starts the runtime on webgpu once per test process (a no-op when the suite is skipped). */
export function useWebgpu(): Promise<void> {
  if (webgpuSkip) return Promise.resolve();
  started ??= (async () => {
    const info = await initRuntime({ backend: 'webgpu', notebookDir: ROOT, allowSoftwareAdapter: true });
    assert.equal(info.backend, 'webgpu');
    if (/^(1|true|yes)$/i.test(process.env.AFFORDANCE_LAB_WEBGPU_EXPECT_HARDWARE ?? '')) {
      assert.equal(info.adapter?.software, false, `expected a hardware adapter, Dawn gave ${info.device}`);
    }
  })();
  return started;
}

/** The adapter the suite runs on, for messages. */
export function adapterLabel(): string {
  return runtimeInfo().device;
}

/** Env for a child process (CLI, kernel) that must run on webgpu like this one. */
export function webgpuEnv(): NodeJS.ProcessEnv {
  return { ...process.env, AFFORDANCE_LAB_BACKEND: 'webgpu', [WEBGPU_SOFTWARE_ENV]: '1' };
}

/** Runs `f` on a backend inside tidy; returns its outputs' values (read asynchronously) and shapes. */
export async function runOn(backend: string, f: () => Tensor | Tensor[]): Promise<{ values: Float32Array[]; shapes: number[][] }> {
  assert.ok(await tf.setBackend(backend), `backend ${backend} is active`);
  const outs = tf.tidy(f);
  const list = Array.isArray(outs) ? outs : [outs];
  const values = await Promise.all(list.map(async (t) => Float32Array.from(await t.data())));
  const shapes = list.map((t) => t.shape.slice());
  tf.dispose(list);
  return { values, shapes };
}

/** Runs `f` on cpu and on webgpu; the worst error relative to the values' scale, and the shape. */
export async function compareWithCpu(f: () => Tensor | Tensor[]): Promise<{ relErr: number; shape: number[] }> {
  const ref = await runOn('cpu', f);
  const got = await runOn(WEBGPU, f);
  let relErr = 0;
  for (let i = 0; i < ref.values.length; i++) {
    assert.deepEqual(got.shapes[i], ref.shapes[i], `output ${i}: webgpu shape differs from cpu`);
    relErr = Math.max(relErr, relError(ref.values[i], got.values[i]).relErr);
  }
  return { relErr, shape: ref.shapes[0] };
}

export { relError, randomValues, size, TOLERANCE } from '../runtime/helpers';

let wasmToo: Promise<void> | undefined;

/**
 * Also initialises wasm (its binaries' location, one thread) so a test can switch between cpu, wasm and
 * webgpu with tf.setBackend; the runtime ends on webgpu again.
 */
export function useWasmToo(): Promise<void> {
  if (webgpuSkip) return Promise.resolve();
  wasmToo ??= (async () => {
    await useWebgpu();
    await initBackendChain({ backend: 'wasm', notebookDir: ROOT });
    await initBackendChain({ backend: 'webgpu', notebookDir: ROOT, allowSoftwareAdapter: true });
  })();
  return wasmToo;
}

/**
 * Submits the backend's queue by reading a small device-computed product: tfjs-backend-webgpu frees a
 * disposed tensor's buffer only once the commands that used it are submitted.
 */
export async function flushGpu(): Promise<void> {
  const p = tf.tidy(() => tf.matMul(tf.ones([8, 8]), tf.ones([8, 8])));
  await p.data();
  p.dispose();
}
