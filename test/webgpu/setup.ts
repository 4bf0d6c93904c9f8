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
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
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

const NEEDS = 'a Vulkan driver Dawn accepts (without a GPU: Mesa >= 24 lavapipe; on Debian 12 mesa-vulkan-drivers and libvulkan1 from bookworm-backports, which scripts/install-vulkan-sw.sh installs)';

/** Asks Dawn for an adapter in a child process (a missing or unusable driver must not hang this one). */
function probeAdapter(pkg: string): string | false {
  const script = `
    const { create } = await import(${JSON.stringify(pathToFileURL(pkg).href)});
    const a = await create([]).requestAdapter();
    console.log(JSON.stringify(a ? { name: a.info.description || a.info.device || 'adapter' } : { error: 'no adapter' }));
    process.exit(0);`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
  const last = r.stdout?.trim().split('\n').pop() ?? '';
  if (r.status === 0 && last.startsWith('{')) {
    const got = JSON.parse(last) as { name?: string; error?: string };
    return got.error ? `Dawn found no adapter; the suite needs ${NEEDS}` : false;
  }
  return `the Dawn adapter probe failed (${(r.stderr || r.error?.message || `exit ${r.status}`).trim().split('\n')[0]}); the suite needs ${NEEDS}`;
}

/** Why the suite cannot run here (and what it needs), or false when it can. */
function skipReason(): string | false {
  const found = resolveOptional('webgpu', [ROOT]);
  if (!found) return 'the npm package `webgpu` (Dawn) is not installed; run `npm ci`';
  if (process.platform === 'linux') {
    if (!libvulkanPresent()) return `libvulkan.so.1 (the Vulkan loader) is missing; the suite needs it and ${NEEDS}`;
    if (!vulkanIcdPresent()) return `no Vulkan driver (ICD) is installed; the suite needs ${NEEDS}`;
  }
  return probeAdapter(found.path);
}

/**
 * Env AFFORDANCE_LAB_WEBGPU_REQUIRED=1 (set by .ci/run once the driver is installed) turns every skip
 * into a run, so that a broken driver fails CI instead of skipping the suite.
 */
export const webgpuSkip: string | false = /^(1|true|yes)$/i.test(process.env.AFFORDANCE_LAB_WEBGPU_REQUIRED ?? '') ? false : skipReason();

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
