/**
 * A process killed (SIGKILL) at every stage of a checkpoint save: the next load always finds a complete
 * checkpoint, the newest or the previous one, says which, and removes the dead save's temporary folder.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useCpu, tf } from './setup';
import { PIALNet } from '../../kernel/ml/model/index';
import { SAVE_STAGES } from '../../kernel/ml/model/checkpoint';
import { train } from '../../kernel/ml/train/index';
import { makeBatch } from './fixtures';

before(useCpu);

const child = join(__dirname, 'fixtures', 'checkpointCrash.ts');

function crashAt(dir: string, stage: string, env: Record<string, string> = {}): ReturnType<typeof spawnSync> {
  return spawnSync(process.execPath, ['--import', 'tsx', child, dir, stage], { encoding: 'utf8', env: { ...process.env, ...env } });
}

/** First weight of the reloaded model: nano seed 1's value (the step-1 save) or that + 1 (the step-2 save). */
async function loadedVersion(dir: string): Promise<{ step: number; note?: string; offset: number; loadedFrom: string }> {
  const fresh = PIALNet.create({ base: 'nano', seed: 1 }, { build: true });
  const w0 = fresh.variables()[0].dataSync()[0];
  const m = PIALNet.create({ base: 'nano', seed: 5 }, { build: true });
  const loaded = await m.load(dir);
  tf.dispose(Object.values(loaded.optimizer ?? {}));
  const w = m.variables()[0].dataSync()[0];
  fresh.dispose();
  m.dispose();
  return { step: (loaded.state as { step: number }).step, note: loaded.note, offset: Math.round(w - w0), loadedFrom: loaded.dir };
}

for (const stage of SAVE_STAGES) {
  void test(`killed at "${stage}" of a save: a complete checkpoint is loaded`, async () => {
    const root = mkdtempSync(join(tmpdir(), 'ckpt-crash-'));
    try {
      const dir = join(root, 'ckpt');
      const r = crashAt(dir, stage);
      assert.equal(r.signal, 'SIGKILL', `the child should die at ${stage}: ${String(r.stderr)}`);
      const v = await loadedVersion(dir);
      const beforeSwap = SAVE_STAGES.indexOf(stage) < SAVE_STAGES.indexOf('current-moved-aside');
      if (stage === 'renamed') {
        assert.equal(v.step, 2);
        assert.equal(v.offset, 1, 'the new weights');
        assert.equal(v.note, undefined);
      } else if (beforeSwap) {
        assert.equal(v.step, 1);
        assert.equal(v.offset, 0, 'the old weights');
        assert.equal(v.note, undefined, 'the folder itself still holds the previous save');
      } else {
        assert.equal(v.step, 1);
        assert.equal(v.offset, 0);
        assert.match(v.note ?? '', /was missing .*loaded the previous complete one from .*\.ckpt\.prev/);
      }
      const left = readdirSync(root).filter((n) => n.includes('.tmp-'));
      assert.deepEqual(left, [], 'the dead save\'s temporary folder is removed');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
}

void test('resume after a crash between the two renames continues from the previous checkpoint, not from scratch', async () => {
  const root = mkdtempSync(join(tmpdir(), 'ckpt-crash-resume-'));
  const batch = makeBatch(2, 32, 8);
  try {
    const dir = join(root, 'ckpt');
    const model = PIALNet.create({ base: 'nano', seed: 1 });
    await train(model, [batch, batch], { epochs: 1, display: false, disposeBatches: false, checkpointDir: dir });
    model.dispose();
    // Simulate the crash window: the current checkpoint moved aside, the new one not yet in place.
    renameSync(dir, join(root, '.ckpt.prev'));
    mkdirSync(join(root, `.ckpt.tmp-999999-x`));
    writeFileSync(join(root, '.ckpt.tmp-999999-x', 'weights.bin'), 'partial');
    const again = PIALNet.create({ base: 'nano', seed: 2 });
    const r = await train(again, [batch, batch], { epochs: 2, display: false, disposeBatches: false, checkpointDir: dir, resume: true });
    assert.match(r.message ?? '', /resumed from .*\.ckpt\.prev at step 2 \(the checkpoint in .* was missing/);
    assert.equal(r.step, 4);
    assert.ok(existsSync(join(dir, 'config.json')), 'the resumed run wrote its checkpoint in place');
    assert.ok(!existsSync(join(root, '.ckpt.tmp-999999-x')), 'the stale temporary folder is gone');
    again.dispose();
  } finally {
    tf.dispose(Object.values(batch));
    rmSync(root, { recursive: true, force: true });
  }
});

void test('a truncated newest checkpoint falls back to the previous one; a checkpoint of another model is an error', async () => {
  const root = mkdtempSync(join(tmpdir(), 'ckpt-trunc-'));
  try {
    const dir = join(root, 'ckpt');
    const r = crashAt(dir, 'none');
    assert.equal(r.status, 0, String(r.stderr));
    writeFileSync(join(dir, 'weights.bin'), Buffer.alloc(16));
    const v = await loadedVersion(dir);
    assert.equal(v.step, 1);
    assert.match(v.note ?? '', /was incomplete .*truncated.*loaded the previous complete one/);
    const small = PIALNet.create({ base: 'small' }, { build: true });
    await assert.rejects(small.load(dir), /does not match the model/);
    small.dispose();
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
