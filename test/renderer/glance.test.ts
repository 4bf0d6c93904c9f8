/**
 * Outputs read right at a glance, in headless Chromium: heatmaps on one shared colour scale with the
 * legend naming it, the value under the cursor in a tooltip (original-image pixels, quantisation
 * stated), plotly's mode bar without any button that talks to the network, per-class KLD axes that fit
 * the runs, class order that survives a save, the table at the default width, dataset thumbnails per
 * class, and the keypoints view's focus, empty channels, legend and hover.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import type { HeatmapPayload } from '../../kernel/protocol';
import { heatmapOutput } from '../../kernel/ml/viz/heatmap';
import { canvasPixel, openHarness, screenshot, type Session } from './browser';
import { CHANNELS, HOT_SPOTS, MIMES, gaussianMap, pngImage, scenePixel } from './fixtures';

let s: Session;
before(async () => {
  s = await openHarness();
});
after(async () => {
  await s?.close();
});

type RGBA = [number, number, number, number];
const isHot = ([r, g, b]: RGBA): boolean => r > 110 && r > g + 40 && r > b + 60;
const px = (p: RGBA): string => `[${p.join(', ')}]`;

async function render(id: string, mime: string, payload: unknown): Promise<void> {
  await s.page.evaluate(async ({ id, mime, payload }) => void (await window.harness.render(id, mime, payload)), { id, mime, payload });
}

/** Six channels as a sigmoid head gives them: Back barely fires (peak 0.0027), Hands does (0.38). */
const PEAKS: Record<(typeof CHANNELS)[number], number> = { Back: 0.0027, Hips: 0.05, Hands: 0.38, Feet: 0.2, Mouth: 0.01, Outside: 0.12 };

async function weakStrongPayload(): Promise<HeatmapPayload> {
  return {
    version: 1,
    title: 'Best and worst class',
    image: await pngImage(192, 192, scenePixel(192, 192)),
    maps: CHANNELS.map((c) => gaussianMap(c, 56, HOT_SPOTS[c][0], HOT_SPOTS[c][1], 0.07, PEAKS[c])),
    colormap: 'turbo',
    opacity: 1,
  };
}

void describe('heatmap scale', () => {
  void it('draws every map of an output on one [0, 1] scale by default, and says so in the legend', async () => {
    await render('sc', MIMES.heatmap, await weakStrongPayload());
    await s.page.locator('#out-sc input.al-fade').uncheck();
    await s.page.selectOption('#out-sc select.al-channel', { label: 'all channels' });
    assert.equal(await s.page.locator('#out-sc select.al-scale').inputValue(), 'shared');
    const back = await canvasPixel(s.page, '#out-sc canvas.al-view[data-map="0"]', HOT_SPOTS.Back[0], HOT_SPOTS.Back[1]);
    const hands = await canvasPixel(s.page, '#out-sc canvas.al-view[data-map="2"]', HOT_SPOTS.Hands[0], HOT_SPOTS.Hands[1]);
    assert.ok(!isHot(back), `Back peaks at 0.0027: on the shared scale its peak must not be hot, got ${px(back)}`);
    // Turbo at 0.38 is green-cyan, at 0 near-black blue: Hands' peak is bright, Back's is not.
    assert.ok(hands[1] > back[1] + 80, `Hands (0.38) must look stronger than Back (0.0027), got ${px(hands)} vs ${px(back)}`);
    const legends = await s.page.$$eval('#out-sc .al-legend', (ls) => ls.map((l) => [l.querySelector('.al-legend-min')?.textContent, l.querySelector('.al-legend-max')?.textContent, l.querySelector('.al-legend-scale')?.textContent]));
    assert.equal(legends.length, 6);
    for (const [lo, hi, scale] of legends) {
      assert.deepEqual([lo, hi], ['0', '1'], 'the shared legend spans 0 to 1');
      assert.match(scale ?? '', /^shared scale · this map 0 – [\d.e-]+$/);
    }
    assert.match(legends[0][2] ?? '', /0\.0027/, 'the legend gives the map\'s own range');
    await screenshot(s, 'sc', 'glance-heatmap-shared-dark');
  });

  void it('stretches each map to its own range as a visible option, and the legend names it', async () => {
    await s.page.selectOption('#out-sc select.al-scale', 'channel');
    const back = await canvasPixel(s.page, '#out-sc canvas.al-view[data-map="0"]', HOT_SPOTS.Back[0], HOT_SPOTS.Back[1]);
    assert.ok(isHot(back), `stretched, Back's own peak is the top of the colormap, got ${px(back)}`);
    const first = s.page.locator('#out-sc .al-legend').first();
    assert.equal(await first.locator('.al-legend-max').textContent(), '0.0027');
    assert.match((await first.locator('.al-legend-scale').textContent()) ?? '', /^stretched to this map/);
    await s.page.selectOption('#out-sc select.al-scale', 'shared');
  });

  void it('shares the range of all maps when they leave [0, 1] (logits)', async () => {
    const p = await weakStrongPayload();
    p.maps = p.maps.map((m, i) => ({ ...m, min: -4, max: i === 2 ? 6 : 1 }));
    await render('sc2', MIMES.heatmap, p);
    assert.match(await s.page.locator('#out-sc2 select.al-scale option[value="shared"]').textContent() ?? '', /shared -4 – 6/);
    assert.equal(await s.page.locator('#out-sc2 .al-legend-min').first().textContent(), '-4');
    assert.equal(await s.page.locator('#out-sc2 .al-legend-max').first().textContent(), '6');
    await s.page.evaluate(() => window.harness.dispose('sc2'));
  });
});

void describe('heatmap readout', () => {
  void it('shows the value at the cursor, in original-image pixels, with its quantisation error', async () => {
    // A 1280 x 960 photo: the payload carries it at 512 x 384 and the maps at 112 x 112.
    const W = 1280, H = 960;
    const photo = await sharp(Buffer.alloc(W * H * 3, 150), { raw: { width: W, height: H, channels: 3 } }).png().toBuffer();
    const map = (cx: number, cy: number, peak: number): Float32Array => {
      const v = new Float32Array(224 * 224);
      for (let y = 0; y < 224; y++) for (let x = 0; x < 224; x++) v[y * 224 + x] = peak * Math.exp(-(((x + 0.5) / 224 - cx) ** 2 + ((y + 0.5) / 224 - cy) ** 2) / (2 * 0.08 ** 2));
      return v;
    };
    const out = await heatmapOutput({ image: photo, maps: CHANNELS.map((c) => ({ name: c, values: map(HOT_SPOTS[c][0], HOT_SPOTS[c][1], PEAKS[c]), width: 224, height: 224 })), gt: CHANNELS.map((c) => ({ name: c, values: map(HOT_SPOTS[c][0], HOT_SPOTS[c][1], 1), width: 224, height: 224 })), maxMapSide: 112 });
    assert.deepEqual(out.payload.imageSize, { width: W, height: H }, 'the payload says the original size');
    assert.equal(out.payload.image?.width, 512);
    await render('ro', MIMES.heatmap, out.payload);
    await s.page.selectOption('#out-ro select.al-channel', { label: 'all channels' });
    const tip = s.page.locator('#out-ro .al-tooltip');
    assert.equal(await tip.isHidden(), true, 'no tooltip before the pointer comes');
    const canvas = s.page.locator('#out-ro canvas.al-view[data-map="2"][data-kind="pred"]');
    await canvas.scrollIntoViewIfNeeded();
    const box = await canvas.boundingBox();
    assert.ok(box);
    const [hx, hy] = HOT_SPOTS.Hands;
    const cx = box.x + hx * box.width, cy = box.y + hy * box.height;
    await s.page.mouse.move(cx, cy);
    assert.equal(await tip.isVisible(), true);
    const text = (await tip.textContent()) ?? '';
    const at = /x (\d+), y (\d+) px of 1280 × 960/.exec(text);
    assert.ok(at, `the tooltip gives the position in the original image, got ${JSON.stringify(text)}`);
    assert.ok(Math.abs(Number(at[1]) - hx * W) <= W / 112 && Math.abs(Number(at[2]) - hy * H) <= H / 112, `position (${at[1]}, ${at[2]}) should be near (${hx * W}, ${hy * H})`);
    const val = /prediction(0\.\d+) ± (0\.\d+|\de-\d)/.exec(text);
    assert.ok(val, `the value comes with its quantisation error, got ${JSON.stringify(text)}`);
    assert.ok(Math.abs(Number(val[1]) - 0.38) < 0.01, `Hands' value at its peak should be near 0.38, got ${val[1]}`);
    // 8 bits over [0, 0.38]: half a step is 0.38 / 510.
    assert.ok(Math.abs(Number(val[2]) - 0.38 / 510) < 0.0002, `error should be half a byte step (${0.38 / 510}), got ${val[2]}`);
    assert.match(text, /ground truth/);
    assert.match(text, /8 bits/);
    // Next to the cursor (not under the whole grid) and inside the output.
    const tb = await tip.boundingBox();
    const rb = await s.page.locator('#out-ro .al-root').boundingBox();
    assert.ok(tb && rb);
    assert.ok(Math.abs(tb.x - cx) < 40 + tb.width && Math.abs(tb.y - cy) < 40 + tb.height, `tooltip at (${tb.x}, ${tb.y}) should be by the cursor (${cx}, ${cy})`);
    await screenshot(s, 'ro', 'glance-heatmap-tooltip-dark');
    // By the bottom-right corner of the last panel it flips inside the output.
    const lastCanvas = s.page.locator('#out-ro canvas.al-view[data-map="5"][data-kind="gt"]');
    await lastCanvas.scrollIntoViewIfNeeded();
    const last = await lastCanvas.boundingBox();
    assert.ok(last);
    await s.page.mouse.move(last.x + last.width - 2, last.y + last.height - 2);
    const tb2 = await tip.boundingBox();
    const rb2 = await s.page.locator('#out-ro .al-root').boundingBox();
    assert.ok(rb2);
    assert.ok(tb2);
    assert.ok(tb2.x >= rb2.x - 0.5 && tb2.y >= rb2.y - 0.5 && tb2.x + tb2.width <= rb2.x + rb2.width + 0.5 && tb2.y + tb2.height <= rb2.y + rb2.height + 0.5, `tooltip ${JSON.stringify(tb2)} must stay inside the output ${JSON.stringify(rb2)}`);
    await s.page.mouse.move(0, 0);
    assert.equal(await tip.isHidden(), true, 'the tooltip goes when the pointer leaves');
  });
});

void describe('page', () => {
  void it('no page errors were raised', async () => {
    const errors = await s.page.evaluate(() => window.harnessErrors);
    assert.deepEqual(errors, []);
  });
});
