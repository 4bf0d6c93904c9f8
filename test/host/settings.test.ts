import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kernelLaunch, resolveKernelSettings, SettingsError } from '../../host/settings';

const reader = (values: Record<string, unknown>) => (key: string): unknown => values[key];

void test('defaults when nothing is set', () => {
  const s = resolveKernelSettings(reader({}), {});
  assert.deepEqual(s, { backend: 'auto', backendSource: 'default', nodePath: undefined, nativeModulesPath: undefined, webgpuAllowSoftware: false, trainingThreads: undefined, interruptGraceMs: 3000, startTimeoutMs: 30000, maxOutputChars: 1_000_000 });
});

void test('the setting picks the backend and AFFORDANCE_LAB_BACKEND overrides it', () => {
  assert.equal(resolveKernelSettings(reader({ backend: 'cpu' }), {}).backend, 'cpu');
  const s = resolveKernelSettings(reader({ backend: 'cpu' }), { AFFORDANCE_LAB_BACKEND: 'WASM' });
  assert.equal(s.backend, 'wasm');
  assert.equal(s.backendSource, 'env');
  // An empty variable does not override.
  assert.equal(resolveKernelSettings(reader({ backend: 'cpu' }), { AFFORDANCE_LAB_BACKEND: ' ' }).backend, 'cpu');
});

void test('bad values are named with what is expected', () => {
  assert.throws(() => resolveKernelSettings(reader({}), { AFFORDANCE_LAB_BACKEND: 'cuda' }), (e: Error) => e instanceof SettingsError && /AFFORDANCE_LAB_BACKEND is "cuda".*expected one of auto, tensorflow, webgpu, wasm, cpu/.test(e.message));
  assert.throws(() => resolveKernelSettings(reader({ backend: 'gpu' }), {}), /setting affordanceLab.backend is "gpu"/);
  assert.throws(() => resolveKernelSettings(reader({ kernelStartTimeoutSeconds: -1 }), {}), /affordanceLab.kernelStartTimeoutSeconds is -1; expected a positive number/);
  assert.throws(() => resolveKernelSettings(reader({ nodePath: 3 }), {}), /affordanceLab.nodePath is 3; expected a string/);
});

void test('seconds become milliseconds', () => {
  const s = resolveKernelSettings(reader({ interruptGraceSeconds: 0.5, kernelStartTimeoutSeconds: 10, maxOutputChars: 100.7 }), {});
  assert.deepEqual([s.interruptGraceMs, s.startTimeoutMs, s.maxOutputChars], [500, 10000, 100]);
});

void test('the kernel runs on the host executable as Node unless a node path is set', () => {
  assert.deepEqual(kernelLaunch({}, '/opt/code/code'), { nodePath: '/opt/code/code', env: { ELECTRON_RUN_AS_NODE: '1' } });
  assert.deepEqual(kernelLaunch({ nodePath: '/usr/bin/node' }, '/opt/code/code'), { nodePath: '/usr/bin/node', env: {} });
});

void test('affordanceLab.trainingThreads reaches the kernel as AFFORDANCE_LAB_THREADS unless the env already sets it', () => {
  const s = resolveKernelSettings(reader({ trainingThreads: 3 }), {});
  assert.equal(s.trainingThreads, 3);
  assert.deepEqual(kernelLaunch(s, '/opt/code/code', {}).env, { ELECTRON_RUN_AS_NODE: '1', AFFORDANCE_LAB_THREADS: '3' });
  assert.deepEqual(kernelLaunch(s, '/opt/code/code', { AFFORDANCE_LAB_THREADS: '2' }).env, { ELECTRON_RUN_AS_NODE: '1' });
  assert.equal(resolveKernelSettings(reader({ trainingThreads: 0 }), {}).trainingThreads, undefined);
  assert.deepEqual(kernelLaunch(resolveKernelSettings(reader({ trainingThreads: 0 }), {}), '/opt/code/code', {}).env, { ELECTRON_RUN_AS_NODE: '1' });
  for (const bad of [-1, 2.5, 65, 'four']) {
    assert.throws(() => resolveKernelSettings(reader({ trainingThreads: bad }), {}), /affordanceLab.trainingThreads is .*; expected a whole number from 1 to 64, or 0 for one per core/);
  }
});

void test('affordanceLab.webgpuAllowSoftware reaches the kernel as AFFORDANCE_LAB_WEBGPU_ALLOW_SOFTWARE', () => {
  const s = resolveKernelSettings(reader({ webgpuAllowSoftware: true }), {});
  assert.equal(s.webgpuAllowSoftware, true);
  assert.deepEqual(kernelLaunch(s, '/opt/code/code').env, { ELECTRON_RUN_AS_NODE: '1', AFFORDANCE_LAB_WEBGPU_ALLOW_SOFTWARE: '1' });
  assert.deepEqual(kernelLaunch({ ...s, nodePath: '/usr/bin/node' }, '/opt/code/code').env, { AFFORDANCE_LAB_WEBGPU_ALLOW_SOFTWARE: '1' });
  assert.throws(() => resolveKernelSettings(reader({ webgpuAllowSoftware: 'yes' }), {}), /affordanceLab.webgpuAllowSoftware is "yes"; expected true or false/);
});
