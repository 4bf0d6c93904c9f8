/**
 * The backend chain: `auto` on this machine, the env override, forced backends that cannot load, and a
 * native package that registers its backend through its own copy of tfjs-core (as tfjs-node does),
 * which the kernel's bundled tfjs instance must then use.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { tf, initRuntime, runtime, runtimeInfo, parseBackendChoice, backendFromEnv, describeRuntime, MIME_BUNDLE_KEY } from './chainImports';
import { initBackendChain, wasmDir, resolveOptional } from '../../kernel/runtime/backends';
import { TFJS_MODULES } from '../../kernel/runtime/tf';

const work = mkdtempSync(join(tmpdir(), 'affordance-runtime-'));
after(() => rmSync(work, { recursive: true, force: true }));

/** An empty notebook folder: no native packages anywhere above it. */
const emptyNotebook = join(work, 'empty');
mkdirSync(emptyNotebook);

void test('auto with AFFORDANCE_LAB_BACKEND=cpu uses cpu; the env variable wins over the option', async () => {
  process.env.AFFORDANCE_LAB_BACKEND = 'cpu';
  try {
    const info = await initRuntime({ backend: 'auto', notebookDir: emptyNotebook });
    assert.equal(info.backend, 'cpu');
    assert.match(info.device, /CPU \(pure JavaScript/);
    assert.deepEqual(info.skipped, []);
  } finally {
    delete process.env.AFFORDANCE_LAB_BACKEND;
  }
});

void test('auto walks the chain to wasm here and says why each earlier backend was skipped', async () => {
  const progress: string[] = [];
  await initBackendChain({ backend: 'auto', notebookDir: emptyNotebook, onProgress: (m) => progress.push(m) });
  const info = runtimeInfo();
  assert.equal(info.backend, 'wasm');
  // With a system BLAS found (blas.ts) the device names it: 'CPU (wasm, SIMD, BLAS: OpenBLAS 0.3.21 SkylakeX, 2 threads)'.
  assert.match(info.device, /^CPU \(wasm(, SIMD)?(, BLAS: [^,()]+)?, \d+ threads?\)$/);
  if (process.env.AFFORDANCE_LAB_BLAS_REQUIRED === '1') assert.match(info.device, /, BLAS: /);
  assert.equal(info.tfjsVersion, tf.version_core);
  assert.deepEqual(info.skipped.map((s) => s.backend), ['tensorflow (tfjs-node-gpu)', 'webgpu', 'tensorflow (tfjs-node)']);
  assert.match(info.skipped[0].reason, /@tensorflow\/tfjs-node-gpu is not installed .*npm install @tensorflow\/tfjs-node-gpu/);
  assert.match(info.skipped[1].reason, /npm package `webgpu`\) is not installed/);
  assert.match(info.skipped[2].reason, /npm install @tensorflow\/tfjs-node/);
  assert.ok(progress.includes('using wasm: ' + info.device), progress.join('\n'));
});

void test('a forced backend that cannot load is an error saying why and how to install it', async () => {
  await assert.rejects(initBackendChain({ backend: 'webgpu', notebookDir: emptyNotebook }), /backend "webgpu" could not be loaded: webgpu: the Dawn binding \(npm package `webgpu`\) is not installed .*npm install webgpu/);
  await assert.rejects(initBackendChain({ backend: 'tensorflow', notebookDir: emptyNotebook }), /backend "tensorflow" could not be loaded: .*npm install @tensorflow\/tfjs-node-gpu.*npm install @tensorflow\/tfjs-node/);
});

void test('backend names from settings and env are validated with a clear message', () => {
  assert.equal(parseBackendChoice(' WASM '), 'wasm');
  assert.throws(() => parseBackendChoice('gpu', 'setting affordanceLab.backend'), /setting affordanceLab.backend: unknown backend "gpu"; expected one of auto, tensorflow, webgpu, wasm, cpu/);
  assert.equal(backendFromEnv({ AFFORDANCE_LAB_BACKEND: 'tensorflow' }), 'tensorflow');
  assert.equal(backendFromEnv({ AFFORDANCE_LAB_BACKEND: '' }), undefined);
  assert.throws(() => backendFromEnv({ AFFORDANCE_LAB_BACKEND: 'cuda' }), /env AFFORDANCE_LAB_BACKEND: unknown backend "cuda"/);
});

void test('runtime.info() shows live memory and renders as markdown and plain text', async () => {
  await tf.setBackend('wasm');
  const before = runtime.info();
  const t = tf.ones([16, 16]);
  const view = runtime.info();
  assert.equal(view.memory.numTensors, before.memory.numTensors + 1);
  assert.equal(view.memory.numBytes, before.memory.numBytes + 16 * 16 * 4);
  t.dispose();
  const bundle = view[MIME_BUNDLE_KEY]();
  assert.match(String(bundle['text/markdown']), /\| backend \| wasm \|/);
  assert.match(String(bundle['text/markdown']), /\*\*Skipped backends\*\*/);
  assert.match(String(bundle['text/plain']), /^backend +wasm$/m);
  assert.match(describeRuntime({ ...view, memory: { numTensors: 3, numBytes: 3 * 1024 * 1024 } }).text, /memory +3 tensors, 3\.0 MiB/);
});

void test('the wasm binaries are found (dist/wasm beside the bundle, else the package)', () => {
  const dir = wasmDir();
  for (const f of ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm']) assert.ok(existsSync(join(dir, f)), `${f} in ${dir}`);
});

/**
 * Writes a package that, like tfjs-node, requires its own copy of tfjs-core (a real copy of the file,
 * so Node loads it as a separate module) and registers backend "tensorflow" with two kernels through it.
 */
function writeFakeNativePackage(root: string, name: string, onGpu: boolean): void {
  const pkgDir = join(root, 'node_modules', name);
  const coreSrc = dirname(require.resolve('@tensorflow/tfjs-core/package.json'));
  const coreDir = join(pkgDir, 'node_modules', '@tensorflow', 'tfjs-core');
  mkdirSync(join(coreDir, 'dist'), { recursive: true });
  cpSync(join(coreSrc, 'package.json'), join(coreDir, 'package.json'));
  cpSync(join(coreSrc, 'dist', 'tf-core.node.js'), join(coreDir, 'dist', 'tf-core.node.js'));
  // tfjs-core's own dependencies, shared (they hold no tfjs state).
  for (const dep of ['seedrandom']) {
    const target = join(root, 'node_modules', dep);
    if (!existsSync(target)) symlinkSync(dirname(require.resolve(`${dep}/package.json`)), target, 'dir');
  }
  writeFileSync(join(pkgDir, 'package.json'), JSON.stringify({ name, version: '4.22.0', main: 'index.js' }));
  writeFileSync(join(pkgDir, 'index.js'), `
const core = require('@tensorflow/tfjs-core');
class FakeTensorflowBackend extends core.KernelBackend {
  constructor() { super(); this.data = new core.DataStorage(this, core.engine()); this.next = 0;
    this.isGPUPackage = ${onGpu}; this.isUsingGpuDevice = ${onGpu}; this.coreFile = require.resolve('@tensorflow/tfjs-core'); }
  write(values, shape, dtype) { const id = { id: this.next++ }; this.data.set(id, { values, dtype, refCount: 1 }); return id; }
  move(dataId, values, shape, dtype, refCount) { this.data.set(dataId, { values, dtype, refCount }); }
  makeTensorInfo(shape, dtype, values) { return { dataId: this.write(values, shape, dtype), shape, dtype }; }
  readSync(dataId) { return this.data.get(dataId).values; }
  async read(dataId) { return this.readSync(dataId); }
  disposeData(dataId, force) { if (!this.data.has(dataId)) return true; const d = this.data.get(dataId); d.refCount--; if (!force && d.refCount > 0) return false; this.data.delete(dataId); return true; }
  refCount(dataId) { return this.data.has(dataId) ? this.data.get(dataId).refCount : 0; }
  incRef(dataId) { this.data.get(dataId).refCount++; }
  numDataIds() { return this.data.numDataIds(); }
  memory() { return { unreliable: true }; }
  floatPrecision() { return 32; }
  epsilon() { return 1e-7; }
  dispose() {}
}
core.registerBackend('tensorflow', () => new FakeTensorflowBackend(), 3);
const binary = (f) => ({ inputs, backend }) => {
  const a = backend.readSync(inputs.a.dataId), b = backend.readSync(inputs.b.dataId);
  return backend.makeTensorInfo(inputs.a.shape, 'float32', Float32Array.from(a, (v, i) => f(v, b[i])));
};
core.registerKernel({ kernelName: 'Add', backendName: 'tensorflow', kernelFunc: binary((x, y) => x + y) });
core.registerKernel({ kernelName: 'Multiply', backendName: 'tensorflow', kernelFunc: binary((x, y) => x * y) });
`);
}

void test('a native package that registers "tensorflow" through its own tfjs-core copy drives the kernel\'s tfjs', async () => {
  const nb = join(work, 'with-tfjs-node');
  writeFakeNativePackage(nb, '@tensorflow/tfjs-node', false);
  const notebook = join(nb, 'notebooks', 'deep');
  mkdirSync(notebook, { recursive: true });
  const found = resolveOptional('@tensorflow/tfjs-node', [notebook]);
  assert.ok(found, 'resolved from the notebook folder upwards');
  await initBackendChain({ backend: 'tensorflow', notebookDir: notebook });
  const info = runtimeInfo();
  assert.equal(info.backend, 'tensorflow');
  assert.match(info.device, /^CPU \(libtensorflow, \d+ threads\)$/);
  assert.equal(info.skipped.length, 1);
  assert.match(info.skipped[0].reason, /tfjs-node-gpu is not installed/);
  const backend = tf.backend() as unknown as { coreFile: string };
  assert.ok(backend.coreFile.startsWith(nb), `the backend was built by the package's own tfjs-core (${backend.coreFile})`);
  assert.notEqual(backend.coreFile, require.resolve('@tensorflow/tfjs-core'));
  // The kernel's instance runs the package's kernels.
  const y = tf.tidy(() => tf.add(tf.mul(tf.tensor1d([1, 2, 3]), tf.tensor1d([2, 2, 2])), tf.tensor1d([0.5, 0.5, 0.5])));
  assert.deepEqual(Array.from(y.dataSync()), [2.5, 4.5, 6.5]);
  y.dispose();
  await tf.setBackend('wasm');
  tf.removeBackend('tensorflow');
});

void test('tfjs-node-gpu found via nativeModulesPath and using a CUDA device is picked first by auto', async () => {
  const extra = join(work, 'native-modules');
  writeFakeNativePackage(extra, '@tensorflow/tfjs-node-gpu', true);
  await initBackendChain({ backend: 'auto', notebookDir: emptyNotebook, nativeModulesPath: join(extra, 'node_modules') });
  const info = runtimeInfo();
  assert.equal(info.backend, 'tensorflow');
  assert.match(info.device, /\(CUDA, libtensorflow\)$/);
  assert.deepEqual(info.skipped, []);
  await tf.setBackend('wasm');
  tf.removeBackend('tensorflow');
});

void test('tfjs-node-gpu without a CUDA device is skipped by auto with the CUDA/cuDNN versions it needs', async () => {
  const nb = join(work, 'gpu-package-no-cuda');
  writeFakeNativePackage(nb, '@tensorflow/tfjs-node-gpu', false);
  await initBackendChain({ backend: 'auto', notebookDir: nb });
  const info = runtimeInfo();
  // The chain goes on (webgpu, tfjs-node absent) and lands on the same libtensorflow, on the CPU.
  assert.equal(info.backend, 'tensorflow');
  assert.match(info.device, /^CPU \(libtensorflow from tfjs-node-gpu, no CUDA device, \d+ threads\)$/);
  assert.match(info.skipped[0].reason, /found no usable CUDA device \(tfjs-node-gpu 4.x needs an NVIDIA driver \(> 450\) with the CUDA 11 runtime .* and cuDNN 8/);
  await tf.setBackend('wasm');
  tf.removeBackend('tensorflow');
});

void test('TFJS_MODULES maps every tfjs package name to the kernel\'s own instance', () => {
  for (const name of ['@tensorflow/tfjs', '@tensorflow/tfjs-core', '@tensorflow/tfjs-layers']) assert.equal(TFJS_MODULES[name], tf, name);
  const wasm = TFJS_MODULES['@tensorflow/tfjs-backend-wasm'] as { getThreadsCount?: () => number };
  assert.equal(typeof wasm.getThreadsCount, 'function');
  assert.equal(typeof (tf as unknown as { sequential?: unknown }).sequential, 'function', 'layers are part of the instance');
  assert.equal(tf.tidy(() => typeof tf.ones([1]).sum), 'function', 'chained ops are registered');
});
