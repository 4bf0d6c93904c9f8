import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cellLabel, hostError, kernelFailure } from '../../host/failures';
import { KernelProcessExitedError, KernelRestartedError, KernelStartError } from '../../kernel/client';

void test('a dead kernel: exit code, what happens next, and the stderr tail', () => {
  const f = kernelFailure(new KernelProcessExitedError(7, null, 'line 1\nFATAL: out of luck\n'));
  assert.equal(f.kernelGone, true);
  assert.equal(f.error.name, 'KernelDied');
  assert.match(f.error.message, /^The kernel process exited with code 7 while the cell was running\.\nQueued cells were cancelled; the next run starts a fresh kernel/);
  assert.match(f.error.message, /Last lines of the kernel's stderr:\nline 1\nFATAL: out of luck$/);
});

void test('a kernel killed by a signal, with nothing on stderr', () => {
  const f = kernelFailure(new KernelProcessExitedError(null, 'SIGKILL', ''));
  assert.match(f.error.message, /was killed by SIGKILL \(out of memory, or killed from outside\)/);
  assert.match(f.error.message, /wrote nothing to stderr/);
});

void test('other errors keep their name and message; the host stack is not shown', () => {
  const start = kernelFailure(new KernelStartError('The kernel did not become ready within 30.0 s'));
  assert.deepEqual(start, { error: { name: 'KernelStartError', message: 'The kernel did not become ready within 30.0 s', stack: 'KernelStartError: The kernel did not become ready within 30.0 s' }, kernelGone: false });
  assert.equal(kernelFailure(new KernelRestartedError('state was lost')).error.name, 'KernelRestartedError');
  assert.deepEqual(kernelFailure('odd').error, hostError('Error', 'odd'));
});

void test('cells are labelled in stacks by their execution count', () => {
  assert.equal(cellLabel(2), 'Cell [2]');
  assert.equal(cellLabel(undefined), 'Cell [ ]');
});
