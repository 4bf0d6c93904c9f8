/**
 * The runtime on Dawn: `auto` never takes a software adapter, a forced webgpu backend takes one only
 * when allowed and then says so, runtime.info() reports GPU memory, and synchronous reads
 * (dataSync/arraySync/bufferSync/print) of tensors computed on the device work under Node.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tf, webgpuSkip, flushGpu } from './setup';
import { runtimeInfo, describeRuntime, runtime, webgpuSyncReadCount, WEBGPU_SOFTWARE_ENV } from '../../kernel/runtime/index';
import { initBackendChain, allowSoftwareFromEnv } from '../../kernel/runtime/backends';

const skip = webgpuSkip;
const ROOT = join(__dirname, '..', '..');

void test('the software-adapter env variable accepts 1/true/yes and nothing else', () => {
  assert.equal(allowSoftwareFromEnv({ [WEBGPU_SOFTWARE_ENV]: '1' }), true);
  assert.equal(allowSoftwareFromEnv({ [WEBGPU_SOFTWARE_ENV]: ' TRUE ' }), true);
  assert.equal(allowSoftwareFromEnv({ [WEBGPU_SOFTWARE_ENV]: '0' }), false);
  assert.equal(allowSoftwareFromEnv({}), false);
});

// The tests below share one process's runtime and run in order.

void test('auto never picks a software adapter, even with the env variable set', { skip }, async () => {
  process.env[WEBGPU_SOFTWARE_ENV] = '1';
  try {
    await initBackendChain({ backend: 'auto', notebookDir: ROOT, allowSoftwareAdapter: true });
  } finally {
    delete process.env[WEBGPU_SOFTWARE_ENV];
  }
  const info = runtimeInfo();
  if (info.backend === 'webgpu') {
    assert.equal(info.adapter?.software, false, `auto picked ${info.device}`);
  } else {
    const w = info.skipped.find((s) => s.backend === 'webgpu');
    assert.ok(w, `webgpu was not tried: ${JSON.stringify(info.skipped)}`);
    assert.match(w.reason, /only a software adapter \(.+\), slower than wasm; set AFFORDANCE_LAB_WEBGPU_ALLOW_SOFTWARE=1 with backend webgpu/);
    assert.equal(info.adapter, undefined);
  }
});

void test('a forced webgpu backend refuses a software adapter unless allowed, and names the switch', { skip }, async () => {
  const info = runtimeInfo();
  if (info.backend === 'webgpu') return; // a hardware adapter: nothing to refuse
  await assert.rejects(initBackendChain({ backend: 'webgpu', notebookDir: ROOT }), /backend "webgpu" could not be loaded: webgpu: Dawn offers only a software adapter .*AFFORDANCE_LAB_WEBGPU_ALLOW_SOFTWARE=1/);
});

void test('allowed, webgpu runs on it and runtime.info() says the adapter is software; auto still refuses it', { skip }, async () => {
  process.env[WEBGPU_SOFTWARE_ENV] = '1';
  try {
    await initBackendChain({ backend: 'webgpu', notebookDir: ROOT });
  } finally {
    delete process.env[WEBGPU_SOFTWARE_ENV];
  }
  const info = runtimeInfo();
  assert.equal(info.backend, 'webgpu');
  assert.ok(info.adapter, 'the adapter is reported');
  const text = describeRuntime(info).text;
  if (info.adapter.software) {
    assert.match(info.device, /\(software adapter, WebGPU, Dawn\)$/);
    assert.match(text, /^adapter +software \(/m);
    // Once loaded, the backend stays registered; auto must still pass over it.
    await initBackendChain({ backend: 'auto', notebookDir: ROOT });
    assert.notEqual(runtimeInfo().backend, 'webgpu');
    await initBackendChain({ backend: 'webgpu', notebookDir: ROOT, allowSoftwareAdapter: true });
  } else {
    assert.match(text, /^adapter +hardware \(/m);
  }
  assert.equal(runtimeInfo().backend, 'webgpu');
});

void test('runtime.info() reports the GPU bytes held by tensors on webgpu', { skip }, async () => {
  const before = runtime.memory();
  assert.equal(typeof before.gpuBytes, 'number');
  const x = tf.add(tf.ones([256, 256]), 1); // computed on the device: a 256 KiB buffer
  const mid = runtimeInfo().memory;
  assert.ok(mid.gpuBytes! - before.gpuBytes! >= 256 * 256 * 4, `GPU bytes ${before.gpuBytes} -> ${mid.gpuBytes}`);
  assert.ok(mid.gpuBytesAllocated! >= mid.gpuBytes!);
  assert.match(describeRuntime(runtimeInfo()).text, /GPU buffers [\d.]+ KiB in use, [\d.]+ (KiB|MiB) allocated/);
  tf.dispose(x);
  await flushGpu();
  assert.ok(runtime.memory().gpuBytes! < mid.gpuBytes!, `disposing frees the buffer: ${mid.gpuBytes} -> ${runtime.memory().gpuBytes}`);
});

void test('dataSync, arraySync, bufferSync and print read tensors computed on webgpu', { skip }, async () => {
  assert.equal(tf.getBackend(), 'webgpu');
  const reads = webgpuSyncReadCount();
  // Larger than the 256x256 canvas tfjs-backend-webgpu reads through, and not a multiple of it.
  const n = 300 * 301;
  const a = tf.range(0, n, 1, 'float32');
  const b = tf.mul(a, 0.5);
  const sync = b.dataSync();
  assert.equal(webgpuSyncReadCount(), reads + 1, 'dataSync read from the device');
  const async = await tf.mul(a, 0.5).data();
  assert.equal(sync.length, n);
  assert.deepEqual(Array.from(sync.slice(0, 4)), [0, 0.5, 1, 1.5]);
  assert.equal(sync[n - 1], (n - 1) / 2);
  assert.deepEqual(Array.from(sync), Array.from(async));
  const m = tf.matMul(tf.tensor2d([[1, 2], [3, 4]]), tf.tensor2d([[5, 6], [7, 8]]));
  assert.deepEqual(m.arraySync(), [[19, 22], [43, 50]]);
  assert.equal(webgpuSyncReadCount(), reads + 2, 'arraySync read from the device');
  // Small tensors made on the host may be computed there (tfjs's CPU hand-off); these come from the device.
  const ints = tf.cast(tf.add(tf.mul(m, 0), tf.tensor2d([[5, 6], [7, 8]])), 'int32');
  assert.deepEqual(Array.from(ints.dataSync()), [5, 6, 7, 8]);
  assert.equal(ints.dtype, 'int32');
  const mask = tf.greater(m, 30);
  assert.deepEqual(mask.arraySync(), [[0, 0], [1, 1]]);
  assert.equal(tf.sum(m).bufferSync().get(), 134);
  const lines: string[] = [];
  const log = console.log;
  console.log = (s: string) => void lines.push(s);
  try {
    tf.max(m).print();
  } finally {
    console.log = log;
  }
  assert.match(lines.join('\n'), /\b50\b/);
  assert.ok(webgpuSyncReadCount() - reads >= 4, `the reads went to the device (${webgpuSyncReadCount() - reads})`);
  tf.dispose([a, b, m, ints, mask]);
});

void test('a synchronous read right after many queued kernels waits for them', { skip }, () => {
  let x = tf.ones([64, 64]);
  for (let i = 0; i < 40; i++) {
    const y = tf.add(tf.matMul(x, tf.onesLike(x)), 1);
    x.dispose();
    x = tf.div(y, 64);
    y.dispose();
  }
  // Each round adds 1/64 to every entry: 1 + 40/64.
  const v = x.dataSync();
  assert.ok(Math.abs(v[0] - 1.625) < 1e-5 && Math.abs(v[4095] - 1.625) < 1e-5, `got ${v[0]}, ${v[4095]}`);
  x.dispose();
});

void test('without XDG_RUNTIME_DIR Dawn gets a private temporary one, removed when the process exits', { skip }, () => {
  const env: NodeJS.ProcessEnv = { ...process.env, [WEBGPU_SOFTWARE_ENV]: '1' };
  delete env.XDG_RUNTIME_DIR;
  const script = `
    const { initRuntime } = require('./kernel/runtime/index.ts');
    initRuntime({ backend: 'webgpu', notebookDir: process.cwd() }).then((i) => {
      const dir = process.env.XDG_RUNTIME_DIR;
      console.log(JSON.stringify({ backend: i.backend, dir, exists: require('node:fs').existsSync(dir) }));
    });`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { cwd: ROOT, env, encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  const got = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as { backend: string; dir?: string; exists: boolean };
  assert.equal(got.backend, 'webgpu');
  assert.match(got.dir ?? '', /affordance-lab-xdg-/);
  assert.equal(got.exists, true);
  assert.equal(existsSync(got.dir!), false, 'removed at exit');
  assert.doesNotMatch(r.stderr, /XDG_RUNTIME_DIR/);
});
