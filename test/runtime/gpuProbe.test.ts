/**
 * `auto` starts Dawn only where Linux shows a GPU device node: elsewhere it could offer only a software adapter,
 * which `auto` refuses, and its warnings would reach the notebook's cells.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { initBackendChain, linuxGpuDeviceNodes, resolveOptional, WEBGPU_SOFTWARE_ENV } from '../../kernel/runtime/backends';
import { runtimeInfo } from './chainImports';

const ROOT = join(__dirname, '..', '..');

void test('GPU device nodes: DRM render nodes, NVIDIA nodes and WSL, nothing else', () => {
  const fake = (entries: Record<string, string[]>) => (dir: string) => entries[dir] ?? [];
  assert.deepEqual(linuxGpuDeviceNodes(fake({})), []);
  assert.deepEqual(linuxGpuDeviceNodes(fake({ '/dev/dri': ['card0', 'by-path'], '/dev': ['null', 'nvidiactl', 'nvidia-uvm', 'tty0'] })), []);
  assert.deepEqual(linuxGpuDeviceNodes(fake({ '/dev/dri': ['card0', 'renderD128'] })), ['/dev/dri/renderD128']);
  assert.deepEqual(linuxGpuDeviceNodes(fake({ '/dev': ['nvidia0', 'nvidiactl', 'dxg'] })), ['/dev/nvidia0', '/dev/dxg']);
});

const list = (dir: string): string[] => {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
};
const noGpu = process.platform === 'linux' && linuxGpuDeviceNodes(list).length === 0;
const hasDawn = resolveOptional('webgpu', [ROOT]) !== undefined;
const skip = !noGpu ? 'this machine has a GPU device node' : !hasDawn ? 'the webgpu package is not installed' : false;

void test('auto on a Linux machine without a GPU device skips webgpu without starting Dawn, and says so', { skip }, async () => {
  delete process.env[WEBGPU_SOFTWARE_ENV];
  await initBackendChain({ backend: 'auto', notebookDir: ROOT });
  const info = runtimeInfo();
  const w = info.skipped.find((s) => s.backend === 'webgpu');
  assert.ok(w, JSON.stringify(info.skipped));
  assert.match(w.reason, /no GPU device on this machine \(no DRM render node, NVIDIA device or WSL GPU\), so Dawn was not started/);
  assert.equal(info.adapter, undefined);
  assert.notEqual(info.backend, 'webgpu');
});
