import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { useCpu, tf } from './setup';
import { PIALNet, predictionOutput, disposeBatch } from '../../kernel/ml/model/index';
import { MIME_BUNDLE } from '../../kernel/display';
import { MIME, type HeatmapPayload } from '../../kernel/protocol';
import { makeBatch } from './fixtures';

before(useCpu);

void test('predictionOutput shows D_non and the GT of one pair as a heatmap output, leaking nothing', async () => {
  const batch = makeBatch(2, 32, 3);
  const model = PIALNet.create('nano', { build: true });
  const before = tf.memory().numTensors;
  const out = await predictionOutput(model, batch, { index: 1 });
  assert.equal(tf.memory().numTensors, before);
  const bundle = out[MIME_BUNDLE]();
  const p = bundle[MIME.heatmap] as HeatmapPayload;
  assert.deepEqual(p.maps.map((m) => [m.name, m.width, m.height]), ['Back', 'Hips', 'Hands', 'Feet', 'Mouth', 'Outside'].map((n) => [n, 8, 8]));
  assert.deepEqual(p.gt?.map((m) => [m.name, m.width]), ['Back', 'Hips', 'Hands', 'Feet', 'Mouth', 'Outside'].map((n) => [n, 32]));
  assert.match(p.title ?? '', /nano: D_non vs GT \(Ride\)/);
  assert.ok(typeof bundle['image/png'] === 'string');
  await assert.rejects(predictionOutput(model, batch, { index: 2 }), /index must be an integer in \[0, 1\], got 2/);
  const base = PIALNet.create({ base: 'nano', baseline: 'encoder-decoder' });
  await assert.rejects(predictionOutput(base, batch, { which: 'in' }), /no interactive prediction/);
  base.dispose();
  model.dispose();
  disposeBatch(batch);
});
