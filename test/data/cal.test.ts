import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { DISPLAY_HANDLE, setDisplaySink } from '../../kernel/display';
import { CAL_CLASSES, CalDataError, COCO17_FLIP_PAIRS, decodeImage, openCAL, type CalBatch } from '../../kernel/ml/data/index';
import { MIME, type MimeBundle } from '../../kernel/protocol';
import { tf } from '../../kernel/runtime/tf';
import { copyOfSynCAL, firstImage, smallSynCAL } from './helpers';

before(async () => {
  await tf.setBackend('cpu');
});

const channelMax = (t: tf.Tensor, c: number): number => tf.tidy(() => t.slice([0, 0, c], [-1, -1, 1]).max().dataSync()[0]);

void test('get(i): image, pose, GT shapes; test pairs mask non-interactive channels the interactive image lacks', async () => {
  const root = await smallSynCAL();
  const ds = await openCAL(root, { split: 'Seen', subset: 'testset' });
  const before = tf.memory().numTensors;
  const p = await ds.get(0);
  try {
    assert.deepEqual(p.interactive.image.shape, [224, 224, 3]);
    assert.deepEqual(p.nonInteractive.gt.shape, [224, 224, 6]);
    assert.deepEqual(p.interactive.pose.shape, [17, 3]);
    const info = ds.pairInfo(0);
    assert.equal(p.affordance, info.affordance);
    assert.equal(info.line, 1);
    // Pose maps to the 224 image with pixel centres: x' = (x + 0.5) * 224 / W - 0.5.
    const pose = p.interactive.pose.arraySync();
    const [x, y] = p.interactive.keypoints[5];
    assert.ok(Math.abs(pose[5][0] - ((x + 0.5) * 224) / p.interactive.originalSize.width + 0.5) < 1e-3);
    assert.ok(Math.abs(pose[5][1] - ((y + 0.5) * 224) / p.interactive.originalSize.height + 0.5) < 1e-3);
    for (let c = 0; c < 6; c++) {
      const inHas = p.interactive.contacts[c].length > 0;
      const nonHas = p.nonInteractive.contacts[c].length > 0;
      assert.equal(p.maskedChannels.includes(c), !inHas, `channel ${c} masked iff the interactive image has no points`);
      const mNon = channelMax(p.nonInteractive.gt, c);
      assert.ok(inHas && nonHas ? Math.abs(mNon - 1) < 0.05 : mNon === 0, `non-interactive channel ${c}: max ${mNon}`);
      const mIn = channelMax(p.interactive.gt, c);
      assert.ok(inHas ? mIn > 0.95 : mIn === 0, `interactive channel ${c}: max ${mIn}`);
    }
  } finally {
    p.dispose();
  }
  assert.equal(tf.memory().numTensors, before, 'pair.dispose() frees every tensor');
  // Training pairs keep the full non-interactive GT unless asked.
  const train = await openCAL(root, { split: 'Seen', subset: 'trainset', mask: 'never' });
  const q = await train.get(0);
  assert.deepEqual(q.maskedChannels, []);
  q.dispose();
  await assert.rejects(ds.get(999), /pair index 999 out of range \(expected 0\.\.45\)/);
});

void test('training pairs are drawn within the class with the seed', async () => {
  const root = await smallSynCAL();
  const a = await openCAL(root, { seed: 1 });
  const b = await openCAL(root, { seed: 1 });
  for (let i = 0; i < a.length; i++) {
    assert.equal(a.pairInfo(i).nonInteractive.path, b.pairInfo(i).nonInteractive.path);
    assert.equal(a.pairInfo(i).nonInteractive.className, a.pairInfo(i).interactive.className);
  }
});

async function collect(ds: Awaited<ReturnType<typeof openCAL>>, opts: Parameters<typeof ds.batches>[0]): Promise<{ indices: number[][]; arrays: { imageIn: Float32Array; gtIn: Float32Array; pose: Float32Array; imageNon: Float32Array; gtNon: Float32Array }[] }> {
  const indices: number[][] = [];
  const arrays: { imageIn: Float32Array; gtIn: Float32Array; pose: Float32Array; imageNon: Float32Array; gtNon: Float32Array }[] = [];
  for await (const b of ds.batches(opts)) {
    indices.push(b.indices);
    arrays.push({ imageIn: b.imageIn.dataSync() as Float32Array, gtIn: b.gtIn.dataSync() as Float32Array, pose: b.pose.dataSync() as Float32Array, imageNon: b.imageNon.dataSync() as Float32Array, gtNon: b.gtNon.dataSync() as Float32Array });
    b.dispose();
  }
  return { indices, arrays };
}

void test('batches: shapes, seeded shuffling, prefetch, and no tensor left behind (also when breaking early)', async () => {
  const root = await smallSynCAL();
  const ds = await openCAL(root, { size: 64 });
  const before = tf.memory().numTensors;
  let first: CalBatch | undefined;
  const seen: number[] = [];
  for await (const b of ds.batches({ batchSize: 5, seed: 3, prefetch: 3 })) {
    if (!first) {
      assert.deepEqual(b.imageIn.shape, [5, 64, 64, 3]);
      assert.deepEqual(b.imageNon.shape, [5, 64, 64, 3]);
      assert.deepEqual(b.pose.shape, [5, 17, 3]);
      assert.deepEqual(b.gtIn.shape, [5, 64, 64, 6]);
      assert.deepEqual(b.gtNon.shape, [5, 64, 64, 6]);
      assert.equal(b.classIndex.dtype, 'int32');
      assert.deepEqual([...b.classIndex.dataSync()].map((i) => CAL_CLASSES[i].name), b.classNames);
      first = b;
    }
    seen.push(...b.indices);
    b.dispose();
  }
  assert.deepEqual([...seen].sort((x, y) => x - y), [...Array(ds.length).keys()], 'one pass visits every pair once');
  assert.equal(tf.memory().numTensors, before);
  const again: number[] = [];
  for await (const b of ds.batches({ batchSize: 5, seed: 3 })) {
    again.push(...b.indices);
    b.dispose();
  }
  assert.deepEqual(again, seen, 'same seed, same order');
  const other: number[] = [];
  for await (const b of ds.batches({ batchSize: 5, seed: 4 })) {
    other.push(...b.indices);
    b.dispose();
  }
  assert.notDeepEqual(other, seen, 'another seed, another order');
  for await (const b of ds.batches({ batchSize: 4, prefetch: 4 })) {
    b.dispose();
    break;
  }
  assert.equal(tf.memory().numTensors, before, 'breaking out of the loop leaks no tensor');
});

void test('horizontal flip mirrors images and heatmaps, mirrors x and swaps left/right keypoints', async () => {
  const root = await smallSynCAL();
  const S = 32;
  const ds = await openCAL(root, { size: S, normalize: 'unit' });
  const plain = await collect(ds, { batchSize: 3, shuffle: false, repair: false });
  const flipped = await collect(ds, { batchSize: 3, shuffle: false, repair: false, augment: { flip: 1, jitter: 0 } });
  assert.deepEqual(flipped.indices, plain.indices);
  const a = plain.arrays[0], b = flipped.arrays[0];
  for (let n = 0; n < 3; n++) {
    for (const [y, x, c] of [[3, 0, 1], [10, 5, 2], [31, 31, 0]]) {
      const src = ((n * S + y) * S + x) * 3 + c, dst = ((n * S + y) * S + (S - 1 - x)) * 3 + c;
      assert.equal(b.imageIn[dst], a.imageIn[src], `image ${n}: expected pixel (${S - 1 - x}, ${y}) to be the source pixel (${x}, ${y})`);
      assert.equal(b.imageNon[dst], a.imageNon[src]);
    }
    for (let y = 0; y < S; y += 7) for (let x = 0; x < S; x += 5) for (let c = 0; c < 6; c++) {
      assert.equal(b.gtIn[((n * S + y) * S + (S - 1 - x)) * 6 + c], a.gtIn[((n * S + y) * S + x) * 6 + c]);
      assert.equal(b.gtNon[((n * S + y) * S + (S - 1 - x)) * 6 + c], a.gtNon[((n * S + y) * S + x) * 6 + c]);
    }
    const swap = new Map<number, number>();
    for (const [l, r] of COCO17_FLIP_PAIRS) swap.set(l, r).set(r, l);
    for (let k = 0; k < 17; k++) {
      const s = swap.get(k) ?? k;
      assert.ok(Math.abs(b.pose[(n * 17 + k) * 3] - (S - 1 - a.pose[(n * 17 + s) * 3])) < 1e-4, `keypoint ${k} x`);
      assert.equal(b.pose[(n * 17 + k) * 3 + 1], a.pose[(n * 17 + s) * 3 + 1]);
      assert.equal(b.pose[(n * 17 + k) * 3 + 2], a.pose[(n * 17 + s) * 3 + 2]);
    }
  }
});

void test('summary() and show(i) display the dataset and pair outputs with fallbacks', async () => {
  const root = await smallSynCAL();
  const ds = await openCAL(root, { split: 'Unseen', subset: 'testset' });
  const shown: MimeBundle[] = [];
  setDisplaySink({ display: (b) => shown.push(b), clear: () => undefined, toBundle: (v) => (v as { [k: symbol]: () => MimeBundle })[Symbol.for('affordance-lab.mimeBundle')]() });
  try {
    const before = tf.memory().numTensors;
    const s = await ds.summary();
    assert.equal(shown.length, 1);
    assert.equal(shown[0][MIME.dataset], s.payload);
    assert.ok(DISPLAY_HANDLE in s, 'the returned output is marked as shown, so a cell ending with it does not show it twice');
    assert.deepEqual(s.payload.classes.map((c) => c.interactive), [2, 2, 2, 2, 2, 2]);
    assert.equal(s.payload.contactMatrix.length, 6);
    assert.equal(s.payload.contactMatrix[0].length, 6);
    assert.ok(s.payload.thumbnails.length >= 6);
    assert.match(s.fallback['text/markdown'], /\| Lie on \| 2 \| 2 \| 2 \|/);
    const outs = await ds.show(1);
    assert.deepEqual(outs.map((o) => o.mime), [MIME.keypoints, MIME.keypoints, MIME.heatmap, MIME.heatmap]);
    assert.equal(shown.length, 5);
    assert.ok(DISPLAY_HANDLE in outs);
    for (const o of outs) assert.ok(o.png && o.png.length > 1000, `${o.mime} has a PNG fallback`);
    assert.equal(tf.memory().numTensors, before);
  } finally {
    setDisplaySink(undefined);
  }
});

// ---------------------------------------------------------------------------------------------------------------
// Bad input: each names the file (and line or field) and what was expected; `skip` collects them instead.
// ---------------------------------------------------------------------------------------------------------------

async function expectError(p: Promise<unknown>, file: string, pattern: RegExp): Promise<CalDataError> {
  let err: unknown;
  try {
    await p;
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof CalDataError, `expected a CalDataError, got ${String(err)}`);
  assert.equal(err.file, file);
  assert.match(err.message, pattern);
  return err;
}

void test('bad input: a missing folder', async () => {
  const root = await copyOfSynCAL();
  rmSync(join(root, 'Seen', 'trainset', 'non_interactive'), { recursive: true });
  await expectError(openCAL(root), join(root, 'Seen', 'trainset', 'non_interactive'), /missing folder \(expected the non_interactive folder/);
  await expectError(openCAL(join(root, 'nope')), join(root, 'nope'), /missing folder \(expected the dataset root folder\)/);
});

void test('bad input: an image that is not an image, and a truncated image, are reported when read', async () => {
  const root = await copyOfSynCAL();
  const notImage = firstImage(root, 'Seen', 'testset', 'interactive', 'Kick');
  writeFileSync(notImage, 'this is text, not a JPEG\n');
  const truncated = firstImage(root, 'Seen', 'testset', 'non_interactive', 'Ride');
  const bytes = readFileSync(truncated);
  writeFileSync(truncated, bytes.subarray(0, Math.floor(bytes.length / 2)));
  const ds = await openCAL(root, { split: 'Seen', subset: 'testset' });
  const idx = (p: string, kind: 'interactive' | 'nonInteractive'): number => [...Array(ds.length).keys()].find((i) => ds.pairInfo(i)[kind].path === p) ?? -1;
  await expectError(ds.get(idx(notImage, 'interactive')), notImage, /cannot decode image .*expected a complete JPEG or PNG file/);
  await expectError(ds.get(idx(truncated, 'nonInteractive')), truncated, /cannot decode image .*expected a complete JPEG or PNG file/);
  // skip: the pairs are left out of the batches and reported.
  const skip = await openCAL(root, { split: 'Seen', subset: 'testset', onError: 'skip', size: 32 });
  let n = 0;
  for await (const b of skip.batches({ batchSize: 16 })) {
    n += b.indices.length;
    b.dispose();
  }
  const bad = [idx(notImage, 'interactive'), idx(truncated, 'nonInteractive')];
  const badPairs = [...Array(ds.length).keys()].filter((i) => bad.includes(i) || ds.pairInfo(i).nonInteractive.path === truncated || ds.pairInfo(i).interactive.path === notImage);
  assert.equal(n, ds.length - badPairs.length);
  assert.ok(skip.issues.some((e) => e.file === notImage && /cannot decode/.test(e.message)));
  assert.ok(skip.issues.some((e) => e.file === truncated));
  const md = (await skip.summary()).fallback['text/markdown'];
  assert.match(md, /problems? skipped/);
  assert.ok(md.includes(notImage), 'the summary lists the bad file');
});

void test('bad input: JSON that is not JSON names the line', async () => {
  const root = await copyOfSynCAL();
  const img = firstImage(root, 'Seen', 'trainset', 'interactive', 'Jump');
  const ann = img.replace(/\.jpg$/, '.json');
  writeFileSync(ann, '{\n "image_width": 128,\n "image_height": 96\n "kps1": []\n}\n');
  const e = await expectError(openCAL(root), ann, /not valid JSON .*expected a JSON object/);
  assert.equal(e.line, 4);
});

void test('bad input: an annotation missing a field names the field', async () => {
  const root = await copyOfSynCAL();
  const ann = firstImage(root, 'Seen', 'trainset', 'non_interactive', 'Swing').replace(/\.jpg$/, '.json');
  const o = JSON.parse(readFileSync(ann, 'utf8')) as Record<string, unknown>;
  delete o.kps3;
  writeFileSync(ann, JSON.stringify(o, null, 1));
  const e = await expectError(openCAL(root), ann, /kps3: missing field \(expected a list of \[x, y\] Hands contact points/);
  assert.equal(e.field, 'kps3');
});

void test('bad input: a pose with the wrong number of keypoints', async () => {
  const root = await copyOfSynCAL();
  const pose = firstImage(root, 'Seen', 'trainset', 'interactive', 'Hit').replace(/\.jpg$/, '.pose.json');
  const o = JSON.parse(readFileSync(pose, 'utf8')) as { keypoints: number[][] };
  writeFileSync(pose, `{\n"keypoints":\n${JSON.stringify(o.keypoints.slice(0, 16))}\n}\n`);
  const e = await expectError(openCAL(root), pose, /keypoints: expected 17 COCO-17 keypoints, got 16/);
  assert.equal(e.line, 2);
});

void test('bad input: a contact point outside the image', async () => {
  const root = await copyOfSynCAL();
  const ann = firstImage(root, 'Seen', 'trainset', 'interactive', 'Ride').replace(/\.jpg$/, '.json');
  const o = JSON.parse(readFileSync(ann, 'utf8')) as Record<string, unknown>;
  o.kps2 = [[10, 10], [500, 20]];
  writeFileSync(ann, JSON.stringify(o, null, 1));
  const e = await expectError(openCAL(root), ann, /kps2\[1\]: contact point \(500, 20\) lies outside the 128 x \d+ image \(expected 0 <= x <= 128/);
  assert.ok(e.line !== undefined && e.line > 1);
});

void test('bad input: a pairs line naming a missing file', async () => {
  const root = await copyOfSynCAL();
  const pairs = join(root, 'Seen', 'test_pairs.txt');
  const lines = readFileSync(pairs, 'utf8').trimEnd().split('\n');
  lines[2] = lines[2].replace(/,.*$/, ',testset/non_interactive/Kick/ball/missing.jpg');
  writeFileSync(pairs, lines.join('\n') + '\n');
  const e = await expectError(openCAL(root, { split: 'Seen', subset: 'testset' }), pairs, /non-interactive image "testset\/non_interactive\/Kick\/ball\/missing\.jpg" does not exist/);
  assert.equal(e.line, 3);
  const skip = await openCAL(root, { split: 'Seen', subset: 'testset', onError: 'skip' });
  assert.equal(skip.length, lines.length - 1);
  assert.deepEqual(skip.issues.map((i) => [i.file, i.line]), [[pairs, 3]]);
});

void test('bad input: an empty class', async () => {
  const root = await copyOfSynCAL();
  const dir = join(root, 'Seen', 'trainset', 'non_interactive', 'Boxing');
  rmSync(dir, { recursive: true });
  mkdirSync(join(dir, 'punching_bag'), { recursive: true });
  await expectError(openCAL(root), dir, /empty class: no usable non_interactive images/);
  const skip = await openCAL(root, { onError: 'skip' });
  assert.equal(skip.length, 22, 'the Boxing pair cannot be formed');
  assert.equal(skip.issues.length, 2, 'the empty folder and the unpaired class are both reported');
  assert.match(skip.issues[1].message, /empty class: Boxing has interactive images but no non-interactive images/);
});

void test('EXIF orientation is applied when reading, so a rotated photo matches its annotation size', async () => {
  const root = await copyOfSynCAL();
  const img = firstImage(root, 'Seen', 'trainset', 'interactive', 'Mix');
  const ann = JSON.parse(readFileSync(img.replace(/\.jpg$/, '.json'), 'utf8')) as { image_width: number; image_height: number };
  const upright = await decodeImage(img, 16);
  // Store the pixels rotated by 90 degrees with EXIF orientation 8 (rotate back 90 degrees to view).
  const { default: sharp } = await import('sharp');
  writeFileSync(img, await sharp(readFileSync(img)).rotate(90).withMetadata({ orientation: 8 }).jpeg().toBuffer());
  const ds = await openCAL(root, { size: 16 });
  const i = [...Array(ds.length).keys()].find((k) => ds.pairInfo(k).interactive.path === img) ?? -1;
  const p = await ds.get(i);
  assert.deepEqual(p.interactive.originalSize, { width: ann.image_width, height: ann.image_height });
  p.dispose();
  const back = await decodeImage(img, 16);
  let diff = 0;
  for (let k = 0; k < back.rgb.length; k++) diff += Math.abs(back.rgb[k] - upright.rgb[k]);
  assert.ok(diff / back.rgb.length < 12, `the decoded pixels are upright again (mean difference ${(diff / back.rgb.length).toFixed(1)})`);
});

void test('region masking (off by default, the paper\'s protocol): when asked, a test pair keeps only the non-interactive regions its interaction touches', async () => {
  const root = await smallSynCAL();
  const ds = await openCAL(root, { split: 'Seen', subset: 'testset', size: 16, regionMask: true });
  const plain = await openCAL(root, { split: 'Seen', subset: 'testset', size: 16 });
  const hands = 2;
  let checked = 0;
  for (let i = 0; i < ds.length; i++) {
    const { interactive, nonInteractive } = ds.pairInfo(i);
    const touched = new Set((interactive.regions ?? []).filter((r) => r.channel === hands).map((r) => r.name));
    const offered = (nonInteractive.regions ?? []).filter((r) => r.channel === hands);
    const names = new Set(offered.map((r) => r.name));
    if (touched.size !== 1 || names.size < 2 || ![...touched].every((n) => names.has(n))) continue;
    const want = offered.filter((r) => touched.has(r.name)).flatMap((r) => r.points);
    const p = await ds.get(i);
    const q = await plain.get(i);
    try {
      assert.deepEqual(p.gtNonContacts[hands], want, `pair ${i}: Hands GT from the ${[...touched].join()} region only`);
      assert.deepEqual(q.gtNonContacts[hands], nonInteractive.contacts[hands], `pair ${i}: without region masking, every Hands point`);
      assert.ok(want.length < nonInteractive.contacts[hands].length);
    } finally {
      p.dispose();
      q.dispose();
    }
    checked++;
  }
  assert.ok(checked >= 3, `only ${checked} pairs had a choice of distinguishable hand regions`);
});

void test('bad input: a region with an unknown channel', async () => {
  const root = await copyOfSynCAL();
  const ann = firstImage(root, 'Seen', 'trainset', 'non_interactive', 'Cut').replace(/\.jpg$/, '.json');
  const o = JSON.parse(readFileSync(ann, 'utf8')) as { regions: { channel: string }[] };
  o.regions[0].channel = 'Elbow';
  writeFileSync(ann, JSON.stringify(o, null, 1));
  await expectError(openCAL(root), ann, /regions\[0\]\.channel: unknown channel "Elbow" \(expected one of Back, Hips, Hands, Feet, Mouth, Outside\)/);
});
