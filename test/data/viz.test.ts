import assert from 'node:assert/strict';
import { test } from 'node:test';
import sharp from 'sharp';
import { MIME_BUNDLE } from '../../kernel/display';
import { MIME } from '../../kernel/protocol';
import { channelMaps, colormapLut, datasetOutput, dequantizeMap, heatmapOutput, keypointsOutput, quantizeMap, CHANNEL_COLORS } from '../../kernel/ml/viz/index';
import { tf } from '../../kernel/runtime/tf';

void test('quantizeMap round-trips within half a step and keeps min/max', () => {
  const v = Float32Array.from({ length: 12 }, (_, i) => Math.sin(i) * 3);
  const q = quantizeMap('Hands', v, 4, 3);
  assert.equal(q.encoding, 'u8');
  assert.equal(Buffer.from(q.data, 'base64').length, 12);
  const back = dequantizeMap(q);
  const step = (q.max - q.min) / 255;
  for (let i = 0; i < 12; i++) assert.ok(Math.abs(back[i] - v[i]) <= step / 2 + 1e-6, `value ${i}: expected ${v[i]}, got ${back[i]}`);
  assert.equal(q.min, Math.min(...v));
  assert.equal(q.max, Math.max(...v));
});

void test('quantizeMap rejects a size mismatch naming both numbers', () => {
  assert.throws(() => quantizeMap('Feet', new Float32Array(5), 2, 3), /expected 6 values \(2 x 3\), got 5/);
});

void test('colormap tables run from blue to red for turbo and jet', () => {
  for (const name of ['turbo', 'jet'] as const) {
    const lut = colormapLut(name);
    assert.ok(lut[3 * 40 + 2] > lut[3 * 40], `${name} is blue at 40/255`);
    assert.ok(lut[765] > lut[767], `${name} ends red`);
  }
  assert.throws(() => colormapLut('gray' as 'turbo'), /unknown colormap "gray"/);
});

void test('heatmapOutput: payload maps, GT, small PNG fallback whose hot tile is coloured', async () => {
  const w = 32, h = 24;
  const hot = new Float32Array(w * h).fill(1);
  const cold = new Float32Array(w * h);
  const image = await sharp({ create: { width: 800, height: 600, channels: 3, background: '#808080' } }).jpeg().toBuffer();
  const out = await heatmapOutput({ image, maps: [{ name: 'Hands', values: hot, width: w, height: h }, { name: 'Feet', values: cold, width: w, height: h }], gt: [{ name: 'Hands', values: cold, width: w, height: h }], title: 'demo' });
  const bundle = out[MIME_BUNDLE]();
  const p = out.payload;
  assert.equal(bundle[MIME.heatmap], p);
  assert.equal(p.maps.length, 2);
  assert.equal(p.gt?.length, 1);
  assert.ok(p.image && p.image.width <= 512 && p.image.height <= 512, `image downscaled, got ${p.image?.width}x${p.image?.height}`);
  const png = out.png;
  assert.ok(png);
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  assert.ok(info.width <= 512, `fallback width ${info.width}`);
  // 2 maps -> 2 columns of 240 px; the hot tile (column 0) is tinted red, the cold one (column 1) stays grey.
  const px = (x: number, y: number): number[] => [...data.subarray((y * info.width + x) * info.channels, (y * info.width + x) * info.channels + 3)];
  const t = 240, y = 20 + 16 + t / 2;
  const a = px(t / 2, y), b = px(t + t / 2, y);
  assert.ok(a[0] > a[2] + 40, `expected pixel (${t / 2}, ${y}) reddish, got [${a}]`);
  assert.ok(Math.abs(b[0] - 128) < 6 && Math.abs(b[2] - 128) < 6, `expected pixel (${t + t / 2}, ${y}) grey, got [${b}]`);
});

void test('heatmapOutput rejects a tensor of the wrong shape and GT without a matching map', async () => {
  const t = { shape: [3, 4], data: () => Promise.resolve(new Float32Array(12)) };
  await assert.rejects(heatmapOutput({ maps: [{ name: 'Back', values: t, width: 3, height: 4 }] }), /expected a tensor of shape \[4, 3\], got \[3, 4\]/);
  await assert.rejects(heatmapOutput({ maps: [{ name: 'Back', values: new Float32Array(4), width: 2, height: 2 }], gt: [{ name: 'Hips', values: new Float32Array(4), width: 2, height: 2 }] }), /gt map "Hips"/);
});

void test('keypointsOutput draws contact points in their channel colour at the right place', async () => {
  const image = await sharp({ create: { width: 1024, height: 512, channels: 3, background: '#000000' } }).png().toBuffer();
  const kps = Array.from({ length: 17 }, (_, i) => [100 + i * 10, 100, 1]);
  const out = await keypointsOutput({ image, width: 1024, height: 512, keypoints: kps, contacts: { Feet: [[800, 400]] } });
  assert.equal(out.payload.keypoints.length, 17);
  assert.deepEqual(out.payload.contacts, [{ channel: 'Feet', points: [[800, 400]] }]);
  const { data, info } = await sharp(out.png).raw().toBuffer({ resolveWithObject: true });
  assert.equal(info.width, 512);
  assert.equal(info.height, 256);
  const o = (200 * info.width + 400) * info.channels;
  const want = CHANNEL_COLORS.Feet.match(/\w\w/g)?.map((x) => parseInt(x, 16)) ?? [];
  assert.deepEqual([...data.subarray(o, o + 3)], want, 'expected pixel (400, 200) in the Feet colour');
  await assert.rejects(keypointsOutput({ width: 10, height: 10, keypoints: [[1, 2, 1]], contacts: [] }), /expected 17 COCO keypoints or none, got 1/);
});

void test('datasetOutput: markdown table with totals and the part x class matrix', async () => {
  const out = await datasetOutput({ root: '/d', split: 'Seen', subset: 'trainset', classes: [{ name: 'Kick', interactive: 3, nonInteractive: 2 }, { name: 'Sit on', interactive: 1, nonInteractive: 4 }], parts: ['Feet', 'Hips'], contactMatrix: [[3, 0], [0, 5]], errors: [{ file: 'a.json', line: 2, message: 'bad | value' }] });
  const md = out.fallback['text/markdown'];
  assert.match(md, /\| Kick \| 3 \| 2 \|/);
  assert.match(md, /\| \*\*total\*\* \| \*\*4\*\* \| \*\*6\*\* \|/);
  assert.match(md, /\| Sit on \| 0 \| 5 \|/);
  assert.match(md, /`a\.json:2`: bad \\\| value/);
  await assert.rejects(datasetOutput({ root: '/d', split: 'Seen', subset: 'trainset', classes: [], parts: ['Feet'], contactMatrix: [], errors: [] }), /contactMatrix must be 1 rows/);
});

void test('channelMaps splits a real [h, w, 6] tensor into the six contact channels for heatmapOutput', async () => {
  await tf.setBackend('cpu');
  const t = tf.tidy(() => tf.stack([0, 1, 2, 3, 4, 5].map((c) => tf.fill([4, 5], c)), 2));
  try {
    const maps = await channelMaps(t);
    assert.deepEqual(maps.map((m) => m.name), ['Back', 'Hips', 'Hands', 'Feet', 'Mouth', 'Outside']);
    assert.deepEqual([...maps[3].values], Array<number>(20).fill(3));
    const out = await heatmapOutput({ maps, gt: [{ name: 'Feet', values: t.slice([0, 0, 3], [4, 5, 1]).squeeze([2]) as tf.Tensor2D, width: 5, height: 4 }] });
    assert.equal(out.payload.maps[5].max, 5);
    assert.equal(out.payload.gt?.[0].min, 3);
    await assert.rejects(channelMaps(t, ['a']), /1 names for 6 channels/);
  } finally {
    t.dispose();
  }
});

void test('builders take an ImageNet-normalised image tensor and undo the normalisation', async () => {
  await tf.setBackend('cpu');
  const img = tf.tidy(() => tf.fill([8, 8, 3], 0.2).sub(tf.tensor1d([0.485, 0.456, 0.406])).div(tf.tensor1d([0.229, 0.224, 0.225])));
  try {
    const out = await heatmapOutput({ image: img as tf.Tensor3D, maps: [{ name: 'Back', values: new Float32Array(64), width: 8, height: 8 }] });
    assert.equal(out.payload.image?.width, 8);
    const { data, info } = await sharp(out.png).raw().toBuffer({ resolveWithObject: true });
    const o = ((16 + 100) * info.width + 100) * info.channels;
    assert.deepEqual([...data.subarray(o, o + 3)].map((v) => Math.abs(v - 51) <= 1), [true, true, true], `expected pixel (100, 116) grey 51, got [${[...data.subarray(o, o + 3)]}]`);
    const kp = await keypointsOutput({ image: img as tf.Tensor3D, width: 8, height: 8, keypoints: [], contacts: [] });
    assert.equal(kp.payload.image?.height, 8);
  } finally {
    img.dispose();
  }
});

void test('heatmapOutput shrinks maps larger than maxMapSide for the payload, keeping the range', async () => {
  const w = 300, h = 150;
  const v = Float32Array.from({ length: w * h }, (_, i) => (i % w) / (w - 1));
  const out = await heatmapOutput({ maps: [{ name: 'Hands', values: v, width: w, height: h }], maxMapSide: 100 });
  const m = out.payload.maps[0];
  assert.deepEqual([m.width, m.height], [100, 50]);
  assert.ok(m.min < 0.01 && m.max > 0.99, `range [${m.min}, ${m.max}]`);
  const small = await heatmapOutput({ maps: [{ name: 'Hands', values: new Float32Array(16), width: 4, height: 4 }] });
  assert.deepEqual([small.payload.maps[0].width, small.payload.maps[0].height], [4, 4]);
});

void test('datasetOutput inlines thumbnails in the markdown fallback', async () => {
  const image = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#123456' } }).jpeg().toBuffer();
  const ref = { mime: 'image/jpeg' as const, data: image.toString('base64'), width: 8, height: 8 };
  const out = await datasetOutput({ root: '/d', split: 'Seen', subset: 'trainset', classes: [{ name: 'Kick', interactive: 1, nonInteractive: 1 }], parts: [], contactMatrix: [], errors: [], thumbnails: [{ className: 'Kick', kind: 'interactive', label: 'ball/1.jpg', image: ref }] });
  assert.ok(out.fallback['text/markdown'].includes(`![Kick interactive](data:image/jpeg;base64,${ref.data})`));
});
