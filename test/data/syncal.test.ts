import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { test } from 'node:test';
import { CAL_CLASSES, ensureSynCAL, generateSynCAL, openCAL, UNSEEN_CLASS_NAMES } from '../../kernel/ml/data/index';
import { CONTACT_CHANNELS } from '../../kernel/protocol';
import { smallSynCAL, tempDir, walk } from './helpers';

const digest = (root: string): Map<string, string> => new Map(walk(root).map((f) => [relative(root, f), createHash('sha256').update(readFileSync(f)).digest('hex')]));

void test('SynCAL is deterministic: the same seed writes the same bytes, another seed does not', async () => {
  const a = await smallSynCAL();
  const b = tempDir('syncal-b');
  const c = tempDir('syncal-c');
  try {
    await generateSynCAL(b.dir, { seed: 7, perClass: 1, size: 128, testPairs: 0 });
    await generateSynCAL(c.dir, { seed: 8, perClass: 1, size: 128, testPairs: 0 });
    const da = digest(a), db = digest(b.dir), dc = digest(c.dir);
    assert.deepEqual([...db.keys()], [...da.keys()]);
    for (const [k, v] of da) assert.equal(db.get(k), v, `${k} differs between two runs with seed 7`);
    const differing = [...da].filter(([k, v]) => k.endsWith('.jpg') && dc.get(k) !== v).length;
    assert.ok(differing > 100, `seed 8 should draw different images, only ${differing} differ`);
  } finally {
    b.cleanup();
    c.cleanup();
  }
});

void test('SynCAL opens cleanly in all four split/subsets with the Unseen objects held out', async () => {
  const root = await smallSynCAL();
  const counts: Record<string, number> = {};
  const objects: Record<string, Set<string>> = {};
  for (const split of ['Seen', 'Unseen'] as const) {
    for (const subset of ['trainset', 'testset'] as const) {
      const ds = await openCAL(root, { split, subset });
      assert.deepEqual(ds.issues, []);
      counts[`${split}/${subset}`] = ds.length;
      objects[`${split}/${subset}`] = new Set(ds.interactiveImages.concat(ds.nonInteractiveImages).filter((r) => UNSEEN_CLASS_NAMES.includes(r.className)).map((r) => `${r.className}/${r.object}`));
      if (split === 'Unseen' && subset === 'testset') assert.deepEqual(ds.stats().classes.map((c) => c.name), [...UNSEEN_CLASS_NAMES]);
      else assert.equal(ds.stats().classes.length, 23);
    }
  }
  assert.deepEqual(counts, { 'Seen/trainset': 23, 'Seen/testset': 46, 'Unseen/trainset': 23, 'Unseen/testset': 12 });
  for (const o of objects['Unseen/testset']) assert.ok(!objects['Unseen/trainset'].has(o), `${o} appears in Unseen train and test`);
});

void test('SynCAL contacts follow the class x body-part table and touch the posed body', async () => {
  const t = tempDir('syncal-contacts');
  try {
    await generateSynCAL(t.dir, { seed: 3, perClass: 6, size: 128, testPairs: 0 });
    const ds = await openCAL(t.dir, { split: 'Seen', subset: 'trainset' });
    let ambiguous = 0;
    for (const cls of CAL_CLASSES) {
      const inter = ds.interactiveImages.filter((r) => r.classIndex === cls.index);
      const non = ds.nonInteractiveImages.filter((r) => r.classIndex === cls.index);
      for (const r of [...inter, ...non]) {
        r.contacts.forEach((pts, c) => {
          if (pts.length === 0) return;
          assert.ok(cls.parts.includes(CONTACT_CHANNELS[c]), `${r.rel}: ${CONTACT_CHANNELS[c]} contact in class ${cls.name}, whose parts are ${cls.parts.join(', ')}`);
        });
        assert.ok(r.contacts[5].length > 0, `${r.rel}: no Outside contact`);
      }
      for (const r of inter) {
        const kp = r.pose ?? [];
        const near = (pts: [number, number][], idx: number[], what: string): void => {
          if (pts.length === 0) return;
          const d = Math.min(...idx.map((k) => Math.min(...pts.map(([x, y]) => Math.hypot(x - kp[k][0], y - kp[k][1])))));
          assert.ok(d < 0.06 * r.height, `${r.rel}: ${what} contact is ${d.toFixed(1)} px from the nearest ${what} keypoint`);
        };
        near(r.contacts[2], [9, 10], 'Hands');
        if (cls.name !== 'Lie on') near(r.contacts[3], [15, 16], 'Feet');
        near(r.contacts[4], [0], 'Mouth');
      }
      // The object alone is ambiguous: the non-interactive images mark more contact points than a single interaction uses.
      const mean = (rs: typeof inter): number => rs.reduce((a, r) => a + r.contacts.slice(0, 5).reduce((b, p) => b + p.length, 0), 0) / Math.max(1, rs.length);
      if (mean(non) > mean(inter)) ambiguous++;
    }
    // Every body part of the class table is touched in some interactive image of the class.
    for (const cls of CAL_CLASSES) {
      const touched = new Set(ds.interactiveImages.filter((r) => r.classIndex === cls.index).flatMap((r) => CONTACT_CHANNELS.filter((_, c) => r.contacts[c].length > 0)));
      assert.deepEqual([...touched].sort(), [...cls.parts].sort(), `${cls.name}: interactive images touch ${[...touched].join(', ')}; the table says ${cls.parts.join(', ')}`);
    }
    assert.ok(ambiguous >= 15, `only ${ambiguous} classes have non-interactive annotations richer than their interactions`);
  } finally {
    t.cleanup();
  }
});

void test('generateSynCAL rejects bad options', async () => {
  await assert.rejects(generateSynCAL('/tmp/never', { perClass: 0 }), /perClass must be a positive integer, got 0/);
  await assert.rejects(generateSynCAL('/tmp/never', { size: 20 }), /size must be an integer from 96 to 1024, got 20/);
});

void test('the default SynCAL has at least 100 test pairs in each split (Seen 115, Unseen 102)', async () => {
  const t = tempDir('syncal-default');
  try {
    const r = await generateSynCAL(t.dir, { seed: 0, size: 96 });
    assert.equal(r.counts['Seen/testset'].pairs, 115);
    assert.equal(r.counts['Unseen/testset'].pairs, 102);
    for (const split of ['Seen', 'Unseen'] as const) {
      const ds = await openCAL(t.dir, { split, subset: 'testset', size: 64 });
      assert.ok(ds.length >= 100, `${split}: ${ds.length} test pairs`);
    }
  } finally {
    t.cleanup();
  }
  await assert.rejects(generateSynCAL('/tmp/never', { testPairs: -1 }), /testPairs must be an integer from 0 to 10000, got -1/);
});

void test('ensureSynCAL never touches a folder it did not make: a foreign folder survives and a fresh one is used', async () => {
  const t = tempDir('syncal-ensure');
  try {
    const { mkdirSync, writeFileSync, readFileSync: read, existsSync } = await import('node:fs');
    const { join } = await import('node:path');
    const mine = join(t.dir, 'my-cal');
    mkdirSync(join(mine, 'Seen'), { recursive: true });
    writeFileSync(join(mine, 'Seen', 'notes.txt'), 'my annotations');
    const opts = { seed: 0, perClass: 1, size: 96, testPairs: 0 };
    const r = await ensureSynCAL(mine, opts);
    assert.notEqual(r.root, mine);
    assert.match(r.note ?? '', /files that are not a SynCAL set; it is left as it is/);
    assert.equal(read(join(mine, 'Seen', 'notes.txt'), 'utf8'), 'my annotations');
    assert.ok(existsSync(join(r.root, 'syncal.json')));
    // A second call reuses the fresh folder; a folder with the same set is used as it is.
    const again = await ensureSynCAL(mine, opts);
    assert.equal(again.root, r.root);
    assert.equal(again.generated, undefined);
    assert.equal((await ensureSynCAL(r.root, opts)).root, r.root);
    // Other options: the existing set is left alone too.
    const other = await ensureSynCAL(r.root, { ...opts, seed: 1 });
    assert.notEqual(other.root, r.root);
    assert.match(other.note ?? '', /a SynCAL generated with other options/);
    assert.ok(existsSync(join(r.root, 'syncal.json')));
  } finally {
    t.cleanup();
  }
});
