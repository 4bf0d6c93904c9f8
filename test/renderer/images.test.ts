/**
 * Heatmap and keypoints views in headless Chromium: canvas pixels under known hot spots, the controls
 * (channel, colormap, opacity, image, difference, threshold, contact focus), the value under the cursor,
 * devicePixelRatio-aware sizing, and screenshots for review.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { canvasPixel, openHarness, screenshot, type Session } from './browser';
import { HOT_SPOTS, MIMES, heatmapPayload, keypointsPayload, solidPng } from './fixtures';

let s: Session;
before(async () => {
  s = await openHarness({ deviceScaleFactor: 2 });
});
after(async () => {
  await s?.close();
});

type RGBA = [number, number, number, number];
const isHot = ([r, g, b]: RGBA): boolean => r > 110 && r > g + 40 && r > b + 60;
const describePx = (p: RGBA): string => `[${p.join(', ')}]`;

async function pixel(id: string, kind: string, fx: number, fy: number): Promise<RGBA> {
  return canvasPixel(s.page, `#out-${id} canvas.al-view[data-kind="${kind}"]`, fx, fy);
}

void describe('heatmap', () => {
  void it('draws the overlay: the pixel under the hot spot is hot, a far pixel is not', async () => {
    await s.page.evaluate(async (p) => void (await window.harness.render('hm', 'application/vnd.affordance-lab.heatmap.v1+json', p)), await heatmapPayload({ size: 256 }));
    // Channel 0 is Back.
    const [hx, hy] = HOT_SPOTS.Back;
    const hot = await pixel('hm', 'pred', hx, hy);
    assert.ok(isHot(hot), `expected pixel at (${hx}, ${hy}) to be red-ish (turbo's top), got ${describePx(hot)}`);
    const cold = await pixel('hm', 'pred', 0.9, 0.9);
    // Low values fade out: far from the hot spot the grey image shows through unchanged.
    assert.ok(!isHot(cold) && Math.abs(cold[0] - cold[1]) < 6 && cold[0] > 150, `expected pixel at (0.9, 0.9) to be the grey image, got ${describePx(cold)}`);
    await s.page.locator('#out-hm input.al-fade').uncheck();
    const coldUniform = await pixel('hm', 'pred', 0.9, 0.9);
    assert.ok(!isHot(coldUniform) && coldUniform[0] < 110, `with a uniform overlay the far pixel shows turbo's dark low end over grey, got ${describePx(coldUniform)}`);
    const hotUniform = await pixel('hm', 'pred', hx, hy);
    assert.ok(isHot(hotUniform), `hot spot stays hot with a uniform overlay, got ${describePx(hotUniform)}`);
    await s.page.locator('#out-hm input.al-fade').check();
    await screenshot(s, 'hm', 'heatmap-dark');
  });

  void it('is crisp: the canvas backing store is its CSS size times devicePixelRatio', async () => {
    const dims = await s.page.evaluate(() => {
      const c = document.querySelector('#out-hm canvas.al-view') as HTMLCanvasElement;
      return { w: c.width, h: c.height, cw: c.getBoundingClientRect().width, ch: c.getBoundingClientRect().height, dpr: window.devicePixelRatio };
    });
    assert.equal(dims.dpr, 2);
    assert.ok(Math.abs(dims.w - dims.cw * 2) <= 1, `backing width ${dims.w} vs CSS width ${dims.cw} x 2`);
    assert.ok(Math.abs(dims.h - dims.ch * 2) <= 1, `backing height ${dims.h} vs CSS height ${dims.ch} x 2`);
    assert.ok(dims.cw > 256, `the 256 px image should be drawn wider than its own size in an 860 px output, got ${dims.cw}`);
  });

  void it('switching the channel moves the hot spot', async () => {
    const sel = '#out-hm select.al-channel';
    const names = await s.page.$$eval(`${sel} option`, (os) => os.map((o) => o.textContent));
    assert.deepEqual(names, ['Back', 'Hips', 'Hands', 'Feet', 'Mouth', 'Outside', 'all channels']);
    const [hx, hy] = HOT_SPOTS.Hands;
    const before = await pixel('hm', 'pred', hx, hy);
    assert.ok(!isHot(before), `Hands' hot spot should not be hot on the Back channel, got ${describePx(before)}`);
    await s.page.selectOption(sel, { label: 'Hands' });
    const afterPx = await pixel('hm', 'pred', hx, hy);
    assert.ok(isHot(afterPx), `expected Hands' hot spot to be hot after switching, got ${describePx(afterPx)}`);
    const back = await pixel('hm', 'pred', HOT_SPOTS.Back[0], HOT_SPOTS.Back[1]);
    assert.ok(!isHot(back), `Back's hot spot should have cooled, got ${describePx(back)}`);
  });

  void it('shows every channel at once in the overview', async () => {
    await s.page.selectOption('#out-hm select.al-channel', { label: 'all channels' });
    const panels = await s.page.$$eval('#out-hm canvas.al-view', (cs) => cs.map((c) => `${(c as HTMLCanvasElement).dataset.kind}:${(c as HTMLCanvasElement).dataset.map}`));
    assert.deepEqual(panels, ['pred:0', 'pred:1', 'pred:2', 'pred:3', 'pred:4', 'pred:5']);
    const titles = await s.page.$$eval('#out-hm .al-panel-title', (ts) => ts.map((t) => t.textContent));
    assert.deepEqual(titles, ['Back', 'Hips', 'Hands', 'Feet', 'Mouth', 'Outside']);
    const sel = (i: number): string => `#out-hm canvas.al-view[data-map="${i}"]`;
    const hands = await canvasPixel(s.page, sel(2), HOT_SPOTS.Hands[0], HOT_SPOTS.Hands[1]);
    const feetAtHands = await canvasPixel(s.page, sel(3), HOT_SPOTS.Hands[0], HOT_SPOTS.Hands[1]);
    assert.ok(isHot(hands), `Hands panel is hot at its spot, got ${describePx(hands)}`);
    assert.ok(!isHot(feetAtHands), `Feet panel is not hot at Hands' spot, got ${describePx(feetAtHands)}`);
    const box = await s.page.locator(sel(3)).boundingBox();
    assert.ok(box);
    await s.page.mouse.move(box.x + HOT_SPOTS.Feet[0] * box.width, box.y + HOT_SPOTS.Feet[1] * box.height);
    assert.match((await s.page.locator('#out-hm .al-tooltip').textContent()) ?? '', /^Feetx \d+, y \d+ px of 256 × 256value0\.[78]\d* ± /);
    await s.page.mouse.move(0, 0);
    await screenshot(s, 'hm', 'heatmap-all-channels-dark');
    await s.page.selectOption('#out-hm select.al-channel', { label: 'Hands' });
  });

  void it('colormap and opacity change the drawn pixels', async () => {
    const [hx, hy] = HOT_SPOTS.Hands;
    const turbo = await pixel('hm', 'pred', hx, hy);
    await s.page.selectOption('#out-hm select.al-colormap', 'viridis');
    const viridis = await pixel('hm', 'pred', hx, hy);
    // Viridis peaks in yellow: green well above blue, unlike turbo's dark red.
    assert.ok(viridis[1] > turbo[1] + 40 && viridis[1] > viridis[2], `viridis top should be yellow-green, got ${describePx(viridis)} (turbo ${describePx(turbo)})`);
    await s.page.selectOption('#out-hm select.al-colormap', 'turbo');
    await s.page.locator('#out-hm input.al-opacity').fill('0');
    const none = await pixel('hm', 'pred', hx, hy);
    // Opacity 0 shows the grey image only.
    assert.ok(Math.abs(none[0] - none[1]) < 12, `with opacity 0 the pixel should be the grey image, got ${describePx(none)}`);
    assert.equal(await s.page.locator('#out-hm .al-range-value').textContent(), '0%');
    await s.page.locator('#out-hm input.al-opacity').fill('1');
    const full = await pixel('hm', 'pred', hx, hy);
    // The peak is 0.8 on the shared [0, 1] scale: turbo's orange-red, with no grey mixed in.
    assert.ok(isHot(full) && full[2] < 40 && full[2] < turbo[2] - 30, `opacity 1 should be pure turbo orange-red (no grey mixed in), got ${describePx(full)} (0.6: ${describePx(turbo)})`);
    await s.page.locator('#out-hm input.al-show-image').uncheck();
    const mapOnly = await pixel('hm', 'pred', 0.02, 0.02);
    // Turbo's low end is near-black; the grey image (≈150) is gone.
    assert.ok(Math.max(mapOnly[0], mapOnly[1], mapOnly[2]) < 60, `without the image a corner shows turbo's dark low end, got ${describePx(mapOnly)}`);
  });

  void it('shows the value under the cursor and the legend range', async () => {
    await s.page.selectOption('#out-hm select.al-channel', { label: 'Hands' });
    const box = await s.page.locator('#out-hm canvas.al-view[data-kind="pred"]').boundingBox();
    assert.ok(box);
    const [hx, hy] = HOT_SPOTS.Hands;
    await s.page.mouse.move(box.x + hx * box.width, box.y + hy * box.height);
    const text = (await s.page.locator('#out-hm .al-tooltip').textContent()) ?? '';
    const m = /^Handsx (\d+), y (\d+) px of 256 × 256value([\d.]+) ± 0\.002map 64 × 64/.exec(text);
    assert.ok(m, `readout should name the channel, the pixel and the value with its 8-bit error (0.8 / 510), got ${JSON.stringify(text)}`);
    assert.ok(Number(m[3]) > 0.7 && Number(m[3]) <= 0.8, `value at the hot spot should be near the map's max 0.8, got ${m[3]}`);
    assert.ok(Math.abs(Number(m[1]) - hx * 256) <= 3 && Math.abs(Number(m[2]) - hy * 256) <= 3, `pixel coordinates should be in image space, got (${m[1]}, ${m[2]})`);
    // Maps within [0, 1] share the natural scale; the legend adds the map's own range.
    assert.equal(await s.page.locator('#out-hm .al-legend-min').first().textContent(), '0');
    assert.equal(await s.page.locator('#out-hm .al-legend-max').first().textContent(), '1');
    assert.equal(await s.page.locator('#out-hm .al-legend-scale').first().textContent(), 'shared scale · this map 0 – 0.8');
  });

  void it('shows prediction and ground truth side by side, and their difference', async () => {
    await s.page.evaluate(async (p) => void (await window.harness.render('hmgt', 'application/vnd.affordance-lab.heatmap.v1+json', p)), await heatmapPayload({ gt: true, title: 'Prediction vs ground truth' }));
    await s.page.selectOption('#out-hmgt select.al-channel', { label: 'Hands' });
    const kinds = await s.page.$$eval('#out-hmgt canvas.al-view', (cs) => cs.map((c) => (c as HTMLCanvasElement).dataset.kind));
    assert.deepEqual(kinds, ['pred', 'gt']);
    await s.page.locator('#out-hmgt input.al-show-diff').check();
    const kinds2 = await s.page.$$eval('#out-hmgt canvas.al-view', (cs) => cs.map((c) => (c as HTMLCanvasElement).dataset.kind));
    assert.deepEqual(kinds2, ['pred', 'gt', 'diff']);
    // GT is shifted by (+0.08, +0.04): where only the prediction is hot the difference is positive (red),
    // where only GT is hot it is negative (blue).
    const [hx, hy] = HOT_SPOTS.Hands;
    await s.page.locator('#out-hmgt input.al-opacity').fill('1');
    const plus = await pixel('hmgt', 'diff', hx - 0.06, hy - 0.03);
    const minus = await pixel('hmgt', 'diff', hx + 0.14, hy + 0.07);
    assert.ok(plus[0] > plus[2] + 40, `prediction-only area should be red in the difference, got ${describePx(plus)}`);
    assert.ok(minus[2] > minus[0] + 40, `GT-only area should be blue in the difference, got ${describePx(minus)}`);
    await s.page.locator('#out-hmgt canvas.al-view[data-kind="gt"]').scrollIntoViewIfNeeded();
    const box = await s.page.locator('#out-hmgt canvas.al-view[data-kind="gt"]').boundingBox();
    assert.ok(box);
    await s.page.mouse.move(box.x + (hx + 0.08) * box.width, box.y + (hy + 0.04) * box.height);
    const text = (await s.page.locator('#out-hmgt .al-tooltip').textContent()) ?? '';
    assert.match(text, /^Hands · ground truthx \d+, y \d+ px of 256 × 256prediction[\d.]+ ± [\d.]+ground truth(0\.9\d*|1\.0*) ± [\d.]+difference-[\d.]+ ± [\d.]+map/);
    await s.page.mouse.move(0, 0);
    await screenshot(s, 'hmgt', 'heatmap-gt-diff-dark');
  });

  void it('downscales images above 2048 px and still draws the hot spot', async () => {
    const big = await heatmapPayload({ image: false, title: 'Large image' });
    big.image = await solidPng(2600, 1300);
    await s.page.evaluate(async (p) => void (await window.harness.render('hmbig', 'application/vnd.affordance-lab.heatmap.v1+json', p)), big);
    const dims = await s.page.evaluate(() => {
      const c = document.querySelector('#out-hmbig canvas.al-view') as HTMLCanvasElement;
      return { w: c.width, h: c.height };
    });
    assert.ok(dims.w <= 2048 && Math.abs(dims.w / dims.h - 2) < 0.02, `display canvas should keep the 2:1 aspect within 2048 px, got ${dims.w}x${dims.h}`);
    const hot = await pixel('hmbig', 'pred', HOT_SPOTS.Back[0], HOT_SPOTS.Back[1]);
    assert.ok(isHot(hot), `hot spot on the large image, got ${describePx(hot)}`);
    await s.page.evaluate(() => window.harness.dispose('hmbig'));
  });
});

void describe('keypoints', () => {
  void it('draws the skeleton with joints coloured by body part, and contact channels', async () => {
    await s.page.evaluate(async (p) => void (await window.harness.render('kp', 'application/vnd.affordance-lab.keypoints.v1+json', p)), await keypointsPayload());
    const info = await s.page.evaluate(() => {
      const root = document.querySelector('#out-kp')!;
      const joints = Array.from(root.querySelectorAll('circle.al-kp-joint'));
      return {
        joints: joints.length,
        bones: root.querySelectorAll('.al-kp-bones line').length,
        fills: Object.fromEntries(joints.map((j) => [j.getAttribute('data-name'), j.getAttribute('fill')])),
        titles: joints.map((j) => j.querySelector('title')?.textContent),
        contacts: root.querySelectorAll('path.al-kp-contact').length,
        rings: Array.from(root.querySelectorAll('circle.al-kp-ring')).map((r) => `${r.getAttribute('data-channel')}`),
        chips: Array.from(root.querySelectorAll('button.al-chip[data-channel]')).map((b) => b.textContent),
      };
    });
    assert.equal(info.joints, 17);
    assert.equal(info.bones, 19);
    assert.equal(info.contacts, 6);
    assert.notEqual(info.fills.left_wrist, info.fills.right_wrist, 'left and right arms differ in colour');
    assert.equal(info.fills.left_wrist, info.fills.left_elbow, 'joints of one arm share a colour');
    assert.notEqual(info.fills.nose, info.fills.left_knee);
    assert.equal(info.titles[9], 'left_wrist · score 0.85');
    assert.deepEqual(info.chips, ['Back', 'Hips (3)', 'Hands (2)', 'Feet (1)', 'Mouth', 'Outside']);
    // Hips ring both hips, Hands both wrists, Feet both ankles.
    assert.deepEqual(info.rings.sort(), ['Feet', 'Feet', 'Hands', 'Hands', 'Hips', 'Hips']);
    await screenshot(s, 'kp', 'keypoints-dark');
  });

  void it('shows joint name and score on hover', async () => {
    await s.page.locator('#out-kp circle.al-kp-joint[data-name="left_wrist"]').hover({ force: true });
    assert.equal(await s.page.locator('#out-kp .al-readout').textContent(), 'left_wrist · score 0.85 · (225, 235)');
  });

  void it('the score threshold hides low-score joints and their bones', async () => {
    const visible = (): Promise<{ joints: number; bones: number; count: string | null }> =>
      s.page.evaluate(() => ({
        joints: Array.from(document.querySelectorAll('#out-kp circle.al-kp-joint')).filter((j) => j.getAttribute('display') !== 'none').length,
        bones: Array.from(document.querySelectorAll('#out-kp .al-kp-bones line')).filter((j) => j.getAttribute('display') !== 'none').length,
        count: document.querySelector('#out-kp .al-kp-count')!.textContent,
      }));
    assert.deepEqual(await visible(), { joints: 17, bones: 19, count: '17 of 17 joints shown' });
    await s.page.locator('#out-kp input.al-threshold').fill('0.5');
    // Scores below 0.5: left_ear 0.22, right_wrist 0.4, right_ankle 0.35.
    const v = await visible();
    assert.equal(v.joints, 14);
    assert.equal(v.count, '14 of 17 joints shown');
    // Bones touching them: left_ear-left_eye, left_ear-left_shoulder, right_elbow-right_wrist, right_ankle-right_knee.
    assert.equal(v.bones, 15);
    await s.page.locator('#out-kp input.al-threshold').fill('0');
  });

  void it('focusing a contact channel fades the other contacts', async () => {
    await s.page.locator('#out-kp button.al-chip[data-channel="Hands"]').click();
    const st = await s.page.evaluate(() => ({
      pressed: document.querySelector('#out-kp button.al-chip[data-channel="Hands"]')!.getAttribute('aria-pressed'),
      hands: Array.from(document.querySelectorAll('#out-kp path.al-kp-contact[data-channel="Hands"]')).map((p) => p.getAttribute('opacity')),
      hips: Array.from(document.querySelectorAll('#out-kp path.al-kp-contact[data-channel="Hips"]')).map((p) => p.getAttribute('opacity')),
      rings: Array.from(document.querySelectorAll('#out-kp circle.al-kp-ring')).filter((r) => r.getAttribute('display') !== 'none').map((r) => r.getAttribute('data-channel')),
    }));
    assert.equal(st.pressed, 'true');
    assert.deepEqual(st.hands, ['1', '1']);
    assert.deepEqual(st.hips, ['0.15', '0.15', '0.15']);
    assert.deepEqual(st.rings, ['Hands', 'Hands']);
    await screenshot(s, 'kp', 'keypoints-hands-focus-dark');
    await s.page.locator('#out-kp button.al-chip[data-channel="Hands"]').click();
  });

  void it('the image toggle clears the picture under the skeleton', async () => {
    const sel = '#out-kp .al-stage canvas';
    const withImage = await canvasPixel(s.page, sel, 0.05, 0.05);
    assert.ok(withImage[3] === 255 && withImage[0] > 100, `image pixel expected, got ${describePx(withImage)}`);
    await s.page.locator('#out-kp input.al-show-image').uncheck();
    const without = await canvasPixel(s.page, sel, 0.05, 0.05);
    assert.equal(without[3], 0, `canvas should be cleared, got ${describePx(without)}`);
    await s.page.locator('#out-kp input.al-show-image').check();
  });

  void it('an image without a person says so', async () => {
    const p = await keypointsPayload({ title: 'Non-interactive sample' });
    p.keypoints = [];
    p.names = [];
    p.contacts = [];
    await s.page.evaluate(async (p) => void (await window.harness.render('kp0', 'application/vnd.affordance-lab.keypoints.v1+json', p)), p);
    assert.equal(await s.page.locator('#out-kp0 .al-readout').textContent(), 'No person keypoints in this image (non-interactive).');
    assert.equal(await s.page.locator('#out-kp0 circle.al-kp-joint').count(), 0);
  });
});

void it('no page errors were raised', async () => {
  assert.deepEqual(await s.page.evaluate(() => window.harnessErrors), []);
  assert.ok(MIMES.heatmap);
});
