import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatRuntimeInfo, statusBarText, statusBarTooltip } from '../../host/statusText';
import type { KernelInfo } from '../../kernel/protocol';

const info: KernelInfo = {
  pid: 4242,
  nodeVersion: 'v20.20.2',
  readyMs: 811.6,
  runtime: {
    backend: 'wasm',
    device: 'CPU (wasm, SIMD, 2 threads)',
    threads: 2,
    tfjsVersion: '4.22.0',
    skipped: [{ backend: 'tensorflow', reason: '@tensorflow/tfjs-node-gpu is not installed' }],
    memory: { numTensors: 12, numBytes: 3 * 1024 * 1024 },
  },
};

void test('status bar text names the state and the backend', () => {
  assert.equal(statusBarText('idle', 'wasm'), '$(circle-large-outline) TS kernel: idle · wasm');
  assert.equal(statusBarText('not started'), '$(circle-outline) TS kernel: not started');
  assert.match(statusBarText('busy', 'cpu'), /busy · cpu$/);
});

void test('tooltip: process, backend and device; a dead kernel says what happens next', () => {
  const t = statusBarTooltip('idle', info);
  assert.match(t, /pid 4242, Node v20.20.2, wasm on CPU \(wasm, SIMD, 2 threads\)/);
  assert.match(statusBarTooltip('dead'), /next run starts a fresh kernel/);
});

void test('runtime info lists backend, device, memory and why faster backends were skipped', () => {
  const text = formatRuntimeInfo(info.runtime, info);
  assert.match(text, /Backend: +wasm/);
  assert.match(text, /Memory: +12 tensors, 3\.0 MiB/);
  assert.match(text, /ready in 812 ms/);
  assert.match(text, /Skipped backends:\n +tensorflow: @tensorflow\/tfjs-node-gpu is not installed/);
});
