/**
 * The runtime as the kernel ships it: bundled by esbuild into one CommonJS file, with the wasm binaries
 * in wasm/ beside it (as esbuild.mjs lays out dist/), started in a real child process.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync, readdirSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { build } from 'esbuild';
import type { RuntimeInfo } from '../../kernel/protocol';

const work = mkdtempSync(join(tmpdir(), 'affordance-runtime-bundle-'));
after(() => rmSync(work, { recursive: true, force: true }));

async function bundle(): Promise<string> {
  const entry = join(work, 'entry.ts');
  const runtimeIndex = resolve(__dirname, '../../kernel/runtime/index').replace(/\\/g, '/');
  writeFileSync(entry, `
import { initRuntime, tf } from '${runtimeIndex}';
initRuntime({ backend: 'auto', notebookDir: process.cwd() }).then((info) => {
  // A training step through the registered kernels, inside the bundle.
  const g = tf.grad((x) => tf.conv2d(x, tf.ones([3, 3, 2, 4]), 2, 'same').square().sum())(tf.ones([1, 7, 7, 2]));
  console.log(JSON.stringify({ info, grad: Array.from(g.dataSync()).slice(0, 3), listeners: process.listenerCount('unhandledRejection') }));
}, (e) => { console.error(String(e)); process.exit(2); });
`);
  const out = join(work, 'dist', 'kernel.js');
  await build({ entryPoints: [entry], bundle: true, platform: 'node', format: 'cjs', target: 'node20', outfile: out, logLevel: 'error', external: ['@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu', 'webgpu'] });
  return out;
}

void test('the bundled runtime loads the wasm binaries from wasm/ beside the bundle and trains', async () => {
  const out = await bundle();
  const wasmSrc = join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
  mkdirSync(join(work, 'dist', 'wasm'));
  for (const f of readdirSync(wasmSrc).filter((n) => n.endsWith('.wasm'))) cpSync(join(wasmSrc, f), join(work, 'dist', 'wasm', f));
  // Run from a folder with no node_modules above it, so nothing but the bundle and wasm/ is found.
  const r = spawnSync(process.execPath, [out], { cwd: work, encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  const res = JSON.parse(r.stdout) as { info: RuntimeInfo; grad: number[]; listeners: number };
  assert.equal(res.info.backend, 'wasm');
  assert.equal(res.info.skipped.length, 3);
  assert.equal(res.listeners, 0, 'the wasm glue leaves no unhandledRejection handler behind');
  // d/dx sum(conv(x, ones)^2) at x = ones is positive everywhere the 3x3 windows reach.
  assert.ok(res.grad.every((v) => v > 0), JSON.stringify(res.grad));

  // Without wasm/ beside it, auto says why wasm was skipped and lands on cpu.
  rmSync(join(work, 'dist', 'wasm'), { recursive: true });
  const r2 = spawnSync(process.execPath, [out], { cwd: work, encoding: 'utf8', timeout: 120_000 });
  assert.equal(r2.status, 0, r2.stderr);
  const res2 = JSON.parse(r2.stdout) as { info: RuntimeInfo };
  assert.equal(res2.info.backend, 'cpu');
  assert.match(res2.info.skipped[3]?.reason ?? '', /wasm backend's binaries were not found/);
});
