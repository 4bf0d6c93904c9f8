/**
 * Interrupts and every way the kernel process can end, on real kernel processes.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CellCancelledError, KernelClient, KernelProcessExitedError, KernelRestartedError, KernelStartError, type KernelSession } from '../../kernel/client/index';
import type { KernelInfo } from '../../kernel/protocol';
import { displayedText, ensureKernelBuilt, kernelScript, notebookDir, recorder, run, session } from './helpers';

let nb: ReturnType<typeof notebookDir>;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Pids of processes whose command line mentions `text`. */
function processesRunning(text: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(text)) pids.push(Number(entry));
    } catch {
      // the process ended meanwhile
    }
  }
  return pids;
}

/** Runs `code` and, once the cell has started (it prints "started"), interrupts it. */
async function interruptAfterStart(s: KernelSession, code: string): Promise<Awaited<ReturnType<typeof run>>> {
  const out = recorder();
  let interrupted: Promise<void> | undefined;
  const onStream = out.onStream;
  out.onStream = (name, text) => {
    onStream(name, text);
    if (!interrupted && out.text().includes('started')) interrupted = s.interrupt();
  };
  const result = await s.execute({ cellId: 'interrupted', cellLabel: 'Cell 1', code: `console.log('started');\n${code}`, language: 'typescript' }, out);
  await interrupted;
  return { ...result, out };
}

void before(async () => {
  await ensureKernelBuilt();
  nb = notebookDir({
    'hangs.js': 'setInterval(() => {}, 1000);\n',
    // An async iterable from outside the cell (its awaits are not the cell's): a slow data loader.
    'batches.js': 'export async function* batches() {\n  for (;;) {\n    await new Promise((r) => setTimeout(r, 200));\n    yield 1;\n  }\n}\n',
    'not-executable': 'plain text\n',
  });
});

void after(() => nb.cleanup());

void describe('interrupt', () => {
  let s: KernelSession;
  void before(async () => {
    s = session(nb.dir, { interruptGraceMs: 10_000 });
    await s.start();
  });
  void after(() => s.dispose());

  void test('an async loop stops at its next await and the signal the cell can read is aborted', async () => {
    await run(s, 'let steps = 0; let sawAbort = false;');
    const r = await interruptAfterStart(s, 'try {\n  while (true) { steps++; await new Promise((res) => setTimeout(res, 5)); }\n} finally {\n  sawAbort = kernel.signal.aborted;\n}');
    assert.equal(r.status, 'interrupted');
    assert.equal(r.error?.name, 'InterruptedError');
    const after = await run(s, 'JSON.stringify([steps > 0, sawAbort, kernel.signal.aborted])');
    assert.deepEqual(displayedText(after.out), ["'[true,true,false]'"]);
  });

  void test('a busy synchronous loop is stopped, earlier state survives, and queued cells do not start', async () => {
    await run(s, 'const kept = 41; let spins = 0; let queuedRan = false;');
    const interrupted = interruptAfterStart(s, 'while (true) { spins++; }');
    const queued = assert.rejects(run(s, 'queuedRan = true;'), (e: unknown) => e instanceof CellCancelledError && /interrupted/.test(e.message));
    const r = await interrupted;
    await queued;
    assert.equal(r.status, 'interrupted');
    assert.deepEqual(displayedText((await run(s, 'queuedRan')).out), ['false']);
    const next = await run(s, 'JSON.stringify([kept + 1, spins > 0])');
    assert.equal(next.status, 'ok');
    assert.deepEqual(displayedText(next.out), ["'[42,true]'"]);
  });

  void test('a busy loop after an await is stopped too, and the kernel keeps working', async () => {
    const r = await interruptAfterStart(s, 'await kernel.sleep(1);\nlet n = 0;\nwhile (true) { n++; }');
    assert.equal(r.status, 'interrupted');
    const next = await run(s, "const again = 'still alive'; again");
    assert.deepEqual(displayedText(next.out), ["'still alive'"]);
  });

  void test('a for await loop over an iterable the cell did not define stops, and the state is kept', async () => {
    await run(s, "const keptForAwait = 'kept'; let ticks = 0;");
    const pid = s.info?.pid;
    for (const loop of [
      "import { setInterval as every } from 'node:timers/promises';\nfor await (const _ of every(5)) ticks++;",
      "import { batches } from './batches.js';\nfor await (const b of batches()) ticks += b;",
    ]) {
      const r = await interruptAfterStart(s, loop);
      assert.equal(r.status, 'interrupted', `${loop}: ${r.error?.stack}`);
      assert.match(r.error?.message ?? '', /state was kept/);
    }
    assert.deepEqual(displayedText((await run(s, '[keptForAwait, typeof ticks]')).out), ["[ 'kept', 'number' ]"]);
    assert.equal(s.info?.pid, pid, 'the kernel was not restarted');
  });

  void test('an interrupt with no running cell does nothing', async () => {
    await s.interrupt();
    const r = await run(s, '1 + 1');
    assert.deepEqual(displayedText(r.out), ['2']);
  });
});

void describe('escalation', () => {
  void test('a cell that ignores the interrupt: the kernel is restarted, the cell says state was lost, queued cells are cancelled', async () => {
    const s = session(nb.dir, { interruptGraceMs: 800 });
    try {
      await run(s, 'const lost = 1;');
      const firstPid = s.info?.pid;
      const stubborn = interruptAfterStart(s, 'while (true) { try { await kernel.sleep(5); } catch { /* ignores interrupts */ } }');
      const queued = assert.rejects(run(s, 'lost'), CellCancelledError);
      await assert.rejects(stubborn, (e: unknown) => {
        assert.ok(e instanceof KernelRestartedError);
        assert.match(e.message, /did not stop within 0\.8 s .*restarted.*lost/s);
        return true;
      });
      await queued;
      const fresh = await run(s, 'typeof lost');
      assert.deepEqual(displayedText(fresh.out), ["'undefined'"]);
      assert.notEqual(s.info?.pid, firstPid);
      assert.ok(firstPid && !alive(firstPid), 'the old kernel process is gone');
    } finally {
      await s.dispose();
    }
  });

  void test('restart() gives a fresh kernel', async () => {
    const s = session(nb.dir);
    try {
      await run(s, 'const gone = 1;');
      await s.restart();
      assert.equal(s.state, 'idle');
      const r = await run(s, 'typeof gone');
      assert.deepEqual(displayedText(r.out), ["'undefined'"]);
    } finally {
      await s.dispose();
    }
  });
});

void describe('the kernel process dies', () => {
  void test('process.exit in a cell: the cell fails with the exit code and stderr tail, queued cells are cancelled, the next run starts fresh', async () => {
    const s = session(nb.dir);
    const states: string[] = [];
    s.onState((st) => states.push(st));
    try {
      await run(s, 'const before = 1;');
      const dying = run(s, "require('node:fs').writeSync(2, 'native library says goodbye\\n');\nprocess.exit(3);");
      const queued = assert.rejects(run(s, 'before'), (e: unknown) => e instanceof CellCancelledError && /kernel died/.test(e.message));
      await assert.rejects(dying, (e: unknown) => {
        assert.ok(e instanceof KernelProcessExitedError);
        assert.equal(e.exitCode, 3);
        assert.equal(e.signal, null);
        assert.match(e.stderrTail, /native library says goodbye/);
        assert.match(e.message, /kernel process died: it exited with code 3[\s\S]*native library says goodbye/);
        return true;
      });
      await queued;
      assert.ok(states.includes('dead'), `states: ${states.join(', ')}`);
      const fresh = await run(s, 'typeof before');
      assert.deepEqual(displayedText(fresh.out), ["'undefined'"]);
    } finally {
      await s.dispose();
    }
  });

  void test('killed by a signal mid-cell: the error carries the signal', async () => {
    const s = session(nb.dir);
    try {
      await assert.rejects(run(s, "await kernel.sleep(1);\nprocess.kill(process.pid, 'SIGKILL');\nawait kernel.sleep(10000);"), (e: unknown) => {
        assert.ok(e instanceof KernelProcessExitedError);
        assert.equal(e.exitCode, null);
        assert.equal(e.signal, 'SIGKILL');
        assert.match(e.message, /killed by SIGKILL/);
        return true;
      });
      const fresh = await run(s, '"fresh"');
      assert.equal(fresh.status, 'ok');
    } finally {
      await s.dispose();
    }
  });

  void test('a cell that closes the channel to the host: the cell fails through the same close path', async () => {
    const s = session(nb.dir);
    try {
      await assert.rejects(run(s, 'process.disconnect();\nawait kernel.sleep(10000);'), (e: unknown) => e instanceof KernelProcessExitedError && /kernel process died/.test(e.message));
      assert.equal((await run(s, '"fresh"')).status, 'ok');
    } finally {
      await s.dispose();
    }
  });

  void test('dispose waits for the process to exit and leaves no orphan', async () => {
    const client = await KernelClient.start({ notebookDir: nb.dir, backend: 'wasm', kernelScript });
    const pid = client.pid as number;
    let exitCode: number | null | undefined;
    client.onExit((e) => (exitCode = e.exitCode));
    await client.dispose();
    assert.equal(client.exited, true);
    assert.equal(exitCode, 0);
    assert.equal(alive(pid), false);
    await assert.rejects(client.execute({ cellId: 'x', cellLabel: 'Cell 1', code: '1', language: 'typescript' }, recorder()), KernelProcessExitedError);
  });
});

void describe('start-up', () => {
  void test('a kernel that never answers fails with a clear timeout error and is killed', async () => {
    const progress: string[] = [];
    const started = KernelClient.start({ notebookDir: nb.dir, backend: 'wasm', kernelScript: join(nb.dir, 'hangs.js'), startTimeoutMs: 1000, onProgress: (m) => progress.push(m) });
    await assert.rejects(started, (e: unknown) => {
      assert.ok(e instanceof KernelStartError);
      assert.match(e.message, /did not become ready within 1\.0 s/);
      assert.match(e.message, /hangs\.js/);
      return true;
    });
    assert.match(progress.join('\n'), /starting the kernel process/);
    assert.deepEqual(processesRunning(join(nb.dir, 'hangs.js')), [], 'the hanging process was killed');
  });

  void test('a Node path that does not exist is named in the error', async () => {
    await assert.rejects(KernelClient.start({ notebookDir: nb.dir, backend: 'wasm', kernelScript, nodePath: '/no/such/node' }), /nodePath: no Node executable at "\/no\/such\/node"/);
  });

  void test('a Node path that cannot be executed fails through the close path with the spawn error', async () => {
    const file = join(nb.dir, 'not-executable');
    chmodSync(file, 0o644);
    await assert.rejects(KernelClient.start({ notebookDir: nb.dir, backend: 'wasm', kernelScript, nodePath: file }), (e: unknown) => {
      assert.ok(e instanceof KernelStartError);
      assert.match(e.message, /could not be started \(EACCES/);
      return true;
    });
  });

  void test('a missing kernel bundle and a missing notebook folder are named', async () => {
    await assert.rejects(KernelClient.start({ notebookDir: nb.dir, backend: 'wasm', kernelScript: join(nb.dir, 'missing.js') }), /kernelScript: no kernel bundle at ".*missing\.js"/);
    await assert.rejects(KernelClient.start({ notebookDir: join(nb.dir, 'nope'), backend: 'wasm', kernelScript }), /notebookDir: expected an existing folder/);
  });

  void test('a backend that does not exist fails start-up with the runtime\'s reason', async () => {
    writeFileSync(join(nb.dir, 'marker'), '');
    await assert.rejects(KernelClient.start({ notebookDir: nb.dir, backend: 'nonsense' as unknown as 'cpu', kernelScript }), /kernel failed to initialize: .*unknown backend "nonsense"/);
  });

  void test('a session whose kernel cannot start fails the first cell with the reason and cancels the queue', async () => {
    const s = session(nb.dir, { kernelScript: join(nb.dir, 'hangs.js'), startTimeoutMs: 500 });
    const states: string[] = [];
    s.onState((st) => states.push(st));
    try {
      const first = assert.rejects(run(s, '1'), (e: unknown) => e instanceof KernelStartError && /did not become ready/.test(e.message));
      const second = assert.rejects(run(s, '2'), (e: unknown) => e instanceof CellCancelledError && /could not be started/.test(e.message));
      await first;
      await second;
      assert.deepEqual(states, ['starting', 'dead']);
    } finally {
      await s.dispose();
    }
  });

  void test("the host's NODE_OPTIONS (e.g. a debugger flag) do not reach the kernel", async () => {
    const saved = process.env.NODE_OPTIONS;
    process.env.NODE_OPTIONS = '--inspect-brk=127.0.0.1:0';
    let client: KernelClient | undefined;
    try {
      client = await KernelClient.start({ notebookDir: nb.dir, backend: 'wasm', kernelScript, startTimeoutMs: 20_000 });
    } finally {
      if (saved === undefined) delete process.env.NODE_OPTIONS;
      else process.env.NODE_OPTIONS = saved;
    }
    try {
      const out = recorder();
      await client.execute({ cellId: 'env', cellLabel: 'Cell 1', code: 'String(process.env.NODE_OPTIONS)', language: 'typescript' }, out);
      assert.deepEqual(displayedText(out), ["'undefined'"]);
    } finally {
      await client.dispose();
    }
  });

  void test('KernelInfo reports pid, node version, runtime and ready time', async () => {
    const client = await KernelClient.start({ notebookDir: nb.dir, backend: 'wasm', kernelScript });
    try {
      const info: KernelInfo = client.info;
      assert.equal(info.pid, client.pid);
      assert.equal(info.nodeVersion, process.version);
      assert.equal(info.runtime.backend, 'wasm');
      assert.ok(info.readyMs > 0);
      const states: string[] = [];
      client.onStatus((st) => states.push(`${st.state}:${typeof st.memory?.numTensors}`));
      await client.execute({ cellId: 'c', cellLabel: 'Cell 1', code: '1', language: 'typescript' }, recorder());
      await client.runtimeInfo();
      assert.deepEqual(states, ['busy:number', 'idle:number']);
    } finally {
      await client.dispose();
    }
  });
});

void describe('the host dies', () => {
  /** Starts the fixture host on `code`, waits until the cell runs, kills the host, returns how long the kernel outlived it. */
  async function killHostDuring(code: string): Promise<number> {
    const { spawn } = await import('node:child_process');
    const host = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'fixtures', 'host.ts'), nb.dir, code], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    const pid = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the host did not start the cell: ${out}`)), 30_000);
      host.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /pid (\d+)\n[\s\S]*running\n/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      });
    });
    assert.ok(alive(pid));
    await new Promise((r) => setTimeout(r, 200));
    const killed = Date.now();
    host.kill('SIGKILL');
    while (gone(pid) === false && Date.now() - killed < 10_000) await new Promise((r) => setTimeout(r, 20));
    const outlived = Date.now() - killed;
    if (!gone(pid)) process.kill(pid, 'SIGKILL');
    return outlived;
  }

  /** Ended, or a zombie nobody reaps (its parent is gone). */
  function gone(pid: number): boolean {
    try {
      return /^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    } catch {
      return true;
    }
  }

  void test('killed with SIGKILL while a cell spins in a busy loop: the kernel exits within 2 s', async () => {
    const outlived = await killHostDuring("console.log('started');\nwhile (true) {}");
    assert.ok(outlived < 2000, `the kernel outlived its host by ${outlived} ms`);
  });

  void test('killed while a cell awaits: the kernel exits within 2 s', async () => {
    const outlived = await killHostDuring("console.log('started');\nawait kernel.sleep(60_000);");
    assert.ok(outlived < 2000, `the kernel outlived its host by ${outlived} ms`);
  });
});
