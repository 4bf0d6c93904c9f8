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
import { metricsOutput } from '../../kernel/ml/metrics/evaluate';
import { datasetOutput, datasetThumbnails, THUMBNAIL_BUDGET } from '../../kernel/ml/viz/dataset';
import { CHANNELS, HOT_SPOTS, MIMES, datasetPayload, gaussianMap, keypointsPayload, metricsPayload, paperData, pngImage, scenePixel, trainingPayload } from './fixtures';

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

/** Plotly's state on a chart element. */
interface ChartState {
  data: { name: string; type: string; mode?: string; x: string[]; y: (number | null)[]; customdata?: number[]; hovertemplate?: string }[];
  yaxis: { type: string; range: [number, number] };
}

function chartState(selector: string): Promise<ChartState> {
  return s.page.evaluate((sel) => {
    const el = document.querySelector(sel) as (HTMLElement & { data?: ChartState['data']; _fullLayout?: { yaxis: ChartState['yaxis'] } }) | null;
    if (!el?.data || !el._fullLayout) throw new Error(`no drawn chart matches ${sel}`);
    return { data: el.data.map((t) => ({ name: t.name, type: t.type, mode: t.mode, x: [...t.x], y: [...t.y], customdata: t.customdata ? [...t.customdata] : undefined, hovertemplate: t.hovertemplate })), yaxis: { type: el._fullLayout.yaxis.type, range: [el._fullLayout.yaxis.range[0], el._fullLayout.yaxis.range[1]] } };
  }, selector);
}

void describe('plotly mode bar', () => {
  void it('offers only local buttons (no Chart Studio, no logo) on every chart, and clicking them all sends nothing', async () => {
    const outside: string[] = [];
    const onRequest = (r: { url(): string }): void => {
      const u = new URL(r.url());
      if (!(u.protocol === 'data:' || u.protocol === 'blob:' || u.hostname === '127.0.0.1')) outside.push(r.url());
    };
    s.page.on('request', onRequest);
    try {
      await render('mb-m', MIMES.metrics, metricsPayload());
      await render('mb-t', MIMES.training, trainingPayload(300));
      await render('mb-d', MIMES.dataset, await datasetPayload());
      const bars = await s.page.$$eval('.al-chart', (charts) => charts.map((c) => ({
        chart: c.className,
        titles: Array.from(c.querySelectorAll('.modebar-btn')).map((b) => b.getAttribute('data-title') ?? ''),
        links: Array.from(c.querySelectorAll('.modebar a[href]')).map((a) => a.getAttribute('href') ?? ''),
        logo: c.querySelectorAll('.modebar-btn--logo').length,
      })));
      assert.ok(bars.length >= 7, `expected the charts of three outputs, got ${bars.length}`);
      for (const b of bars) {
        assert.deepEqual(b.titles, ['Download plot as a PNG', 'Zoom', 'Pan', 'Zoom in', 'Zoom out', 'Reset axes'], `mode bar of ${b.chart}`);
        assert.deepEqual(b.links, [], `no link in the mode bar of ${b.chart}`);
        assert.equal(b.logo, 0, `no plotly logo on ${b.chart}`);
      }
      // Every button, pressed: still nothing leaves the machine.
      await s.page.$$eval('.al-chart .modebar-btn', (bs) => bs.forEach((b) => (b as HTMLElement).dispatchEvent(new MouseEvent('click', { bubbles: true }))));
      await s.page.waitForTimeout(300);
      assert.deepEqual(outside, []);
    } finally {
      s.page.off('request', onRequest);
    }
  });

  void it('never covers a legend entry', async () => {
    const overlaps = await s.page.$$eval('.al-chart', (charts) => charts.flatMap((c) => {
      const bar = c.querySelector('.modebar');
      if (!bar) return [`${c.className}: no mode bar`];
      const m = bar.getBoundingClientRect();
      return Array.from(c.querySelectorAll('.legend .traces')).flatMap((t) => {
        const r = t.getBoundingClientRect();
        const hit = r.left < m.right && r.right > m.left && r.top < m.bottom && r.bottom > m.top;
        return hit ? [`${c.className}: "${t.textContent}" under the mode bar`] : [];
      });
    }));
    assert.deepEqual(overlaps, []);
    const legends = await s.page.$$eval('#out-mb-t .al-chart .legend .traces', (ts) => ts.map((t) => t.textContent));
    assert.deepEqual(legends, ['loss', 'interactive', 'non-interactive']);
    await screenshot(s, 'mb-t', 'glance-training-legend-dark');
    for (const id of ['mb-m', 'mb-t', 'mb-d']) await s.page.evaluate((i) => window.harness.dispose(i), id);
  });
});

void describe('per-class KLD axis', () => {
  void it('fits the runs; published rows beyond it are markers at the edge with their values on hover', async () => {
    await render('kld', MIMES.metrics, metricsPayload({ runs: 1, allReferences: true, title: 'PIAL-Net (ours) vs published methods' }));
    const st = await chartState('#out-kld .al-metric-chart[data-metric="KLD"]');
    const run = st.data[0];
    assert.equal(run.type, 'bar');
    const runMax = Math.max(...run.y.filter((v): v is number => v !== null));
    assert.ok(st.yaxis.range[1] >= runMax && st.yaxis.range[1] <= runMax * 1.2, `the axis top ${st.yaxis.range[1]} should fit the run (max ${runMax}), not HRNet's 19`);
    const hrnet = paperData().perClassKLD.seen.methods.HRNet;
    const line = st.data.find((t) => t.name === 'HRNet (CVPR 2023)');
    assert.ok(line && line.y.every((v) => v === null), 'HRNet (9.5 to 19) is all above the axis');
    const clipped = st.data.find((t) => t.name === 'HRNet (CVPR 2023) · above the axis');
    assert.ok(clipped, `a marker trace for HRNet's clipped values, traces: ${st.data.map((t) => t.name).join(', ')}`);
    assert.deepEqual(clipped.customdata, hrnet);
    assert.ok(clipped.y.every((v) => v === st.yaxis.range[1]), 'the markers sit at the axis edge');
    assert.match((await s.page.locator('#out-kld .al-metric-chart[data-metric="KLD"] .gtitle').textContent()) ?? '', /axis fits the runs; ▲ \d+ published values above it/);
    // Hover the first HRNet marker: the tooltip gives its value.
    const i = st.data.indexOf(clipped);
    const point = s.page.locator('#out-kld .al-metric-chart[data-metric="KLD"] .scatterlayer .trace').nth(i - st.data.filter((t, k) => k < i && t.type === 'bar').length).locator('.points path').first();
    await point.scrollIntoViewIfNeeded();
    const box = await point.boundingBox();
    assert.ok(box);
    // Just inside the plot area (the marker sits on its top edge).
    await s.page.mouse.move(box.x + box.width / 2 - 3, box.y + box.height / 2 + 6);
    await s.page.mouse.move(box.x + box.width / 2, box.y + box.height / 2 + 3);
    await s.page.waitForSelector('#out-kld .hoverlayer .hovertext');
    const hover = (await s.page.locator('#out-kld .hoverlayer .hovertext').first().textContent()) ?? '';
    assert.match(hover, new RegExp(`HRNet \\(CVPR 2023\\): ${hrnet[0].toFixed(3).replace('.', '\\.')} \\(above the axis\\)`));
    await s.page.mouse.move(0, 0);
    await screenshot(s, 'kld', 'glance-kld-fit-dark');
    // "all rows" spans every published value again.
    await s.page.locator('#out-kld button.al-kld-axis[data-value="all rows"]').click();
    const all = await chartState('#out-kld .al-metric-chart[data-metric="KLD"]');
    assert.ok(all.yaxis.range[1] >= Math.max(...hrnet), `all rows: the axis reaches HRNet's ${Math.max(...hrnet)}, got ${all.yaxis.range[1]}`);
    assert.equal(all.data.some((t) => t.name.endsWith('· above the axis')), false);
  });

  void it('log axis: ticks at 1, 2, 5, 10, 20 and points instead of bars', async () => {
    await s.page.locator('#out-kld button.al-kld-axis[data-value="log"]').click();
    const st = await chartState('#out-kld .al-metric-chart[data-metric="KLD"]');
    assert.equal(st.yaxis.type, 'log');
    assert.deepEqual([st.data[0].type, st.data[0].mode], ['scatter', 'markers'], 'runs are points on a log axis');
    assert.equal(st.data.some((t) => t.type === 'bar'), false);
    const ticks = await s.page.$$eval('#out-kld .al-metric-chart[data-metric="KLD"] .ytick text', (ts) => ts.map((t) => t.textContent));
    for (const t of ['1', '2', '5', '10', '20']) assert.ok(ticks.includes(t), `tick ${t} expected, got ${ticks.join(' ')}`);
    assert.ok(ticks.every((t) => /^(0\.0?[125]|[125]|[125]0)$/.test(t ?? '')), `only 1-2-5 ticks, got ${ticks.join(' ')}`);
    await screenshot(s, 'kld', 'glance-kld-log-dark');
    await s.page.locator('#out-kld button.al-kld-axis[data-value="fit runs"]').click();
  });
});

/** A JSON value with every object's keys sorted, as a saved notebook holds it. */
function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]));
  return v;
}

void describe('class order', () => {
  void it('"as listed" keeps the runs\' order after the notebook is saved (keys sorted) and reopened', async () => {
    const classes = ['Sit on', 'Ride', 'Kick', 'Board', 'Lie on', 'Hold'];
    const parts = [...CHANNELS];
    const per = (names: string[], k: number): Record<string, { KLD: number; SIM: number; NSS: number }> => Object.fromEntries(names.map((c, i) => [c, { KLD: 1 + ((i * k) % 5) / 10, SIM: 0.4, NSS: 1.2 }]));
    const out = metricsOutput([{ name: 'run A', results: { Seen: { overall: { KLD: 1.2, SIM: 0.4, NSS: 1.2 }, perClass: per(classes, 3), perPart: per(parts, 2) } } }]);
    const saved = sortKeys(JSON.parse(JSON.stringify(out.payload)));
    await render('ord', MIMES.metrics, saved);
    assert.deepEqual((await chartState('#out-ord .al-metric-chart[data-metric="KLD"]')).data[0].x, classes);
    await s.page.locator('#out-ord button.al-grouping[data-value="body parts"]').click();
    assert.deepEqual((await chartState('#out-ord .al-metric-chart[data-metric="KLD"]')).data[0].x, parts);
    await s.page.evaluate(() => window.harness.dispose('ord'));
  });
});

void describe('metrics table', () => {
  void it('fits the default output width: every metric is reachable without scrolling', async () => {
    for (const [id, payload] of [['tb', metricsPayload()], ['tball', metricsPayload({ runs: 1, allReferences: true })]] as const) {
      await render(id, MIMES.metrics, payload);
      await s.page.locator(`#out-${id} button.al-viewmode[data-value="table"]`).click();
      const fit = await s.page.$eval(`#out-${id} .al-table-wrap`, (w) => {
        const box = w.getBoundingClientRect();
        const heads = Array.from(w.querySelectorAll('th[data-metric]')).map((th) => ({ m: (th as HTMLElement).dataset.metric, right: th.getBoundingClientRect().right }));
        return { scroll: w.scrollWidth, client: w.clientWidth, right: box.right, heads, tables: w.querySelectorAll('table').length };
      });
      assert.ok(fit.scroll <= fit.client + 1, `${id}: the table needs ${fit.scroll} px in ${fit.client} px`);
      for (const m of ['KLD', 'SIM', 'NSS']) assert.ok(fit.heads.some((hd) => hd.m === m && hd.right <= fit.right + 1), `${id}: ${m} is in view`);
      await screenshot(s, id, `glance-table-${id}-dark`);
      if (id === 'tball') assert.equal(fit.tables, 3, 'nine rows of numbers per metric: one table per metric, stacked');
      await s.page.evaluate((i) => window.harness.dispose(i), id);
    }
  });
});

void describe('keypoints', () => {
  void it('focusing a channel dims the rest and enlarges its contact marks', async () => {
    await render('kpf', MIMES.keypoints, await keypointsPayload());
    const size = (sel: string): Promise<number[]> => s.page.$$eval(sel, (ps) => ps.map((p) => (p as SVGGraphicsElement).getBBox().width));
    const before = await size('#out-kpf path.al-kp-contact[data-channel="Hands"]');
    await s.page.locator('#out-kpf button.al-chip[data-channel="Hands"]').click();
    const after = await size('#out-kpf path.al-kp-contact[data-channel="Hands"]');
    after.forEach((w, i) => assert.ok(w >= before[i] * 1.8, `focused contact marks grow: ${before[i]} -> ${w}`));
    const st = await s.page.evaluate(() => ({
      bones: Array.from(document.querySelectorAll('#out-kpf .al-kp-bones line')).map((l) => Number(l.getAttribute('opacity') ?? 1)),
      wrist: Number(document.querySelector('#out-kpf circle.al-kp-joint[data-name="left_wrist"]')!.getAttribute('opacity') ?? 1),
      knee: Number(document.querySelector('#out-kpf circle.al-kp-joint[data-name="left_knee"]')!.getAttribute('opacity') ?? 1),
      image: Number(getComputedStyle(document.querySelector('#out-kpf .al-stage canvas')!).opacity),
      note: document.querySelector('#out-kpf .al-kp-focus-note')!.textContent,
    }));
    assert.ok(st.bones.every((o) => o <= 0.3), `bones dim, got ${st.bones.join(' ')}`);
    assert.equal(st.wrist, 1, 'the joints that touch stay bright');
    assert.ok(st.knee <= 0.3, `other joints dim, got ${st.knee}`);
    assert.ok(st.image < 0.8, `the image dims, got opacity ${st.image}`);
    assert.equal(st.note, 'Hands: 2 contact points (diamonds), the joints that touch ringed.');
    await screenshot(s, 'kpf', 'glance-keypoints-focus-dark');
  });

  void it('a channel without contacts says so', async () => {
    await s.page.locator('#out-kpf button.al-chip[data-channel="Back"]').click();
    assert.equal(await s.page.locator('#out-kpf .al-kp-focus-note').textContent(), 'No contacts for Back in this image.');
    await s.page.locator('#out-kpf button.al-chip[data-channel="Back"]').click();
    assert.equal(await s.page.locator('#out-kpf .al-kp-focus-note').textContent(), '');
  });

  void it('the body-part legend shows and hides parts', async () => {
    const shown = (part: string): Promise<number> => s.page.$$eval(`#out-kpf [data-part="${part}"]`, (els) => els.filter((e) => e instanceof SVGElement && e.getAttribute('display') !== 'none').length);
    const legend = s.page.locator('#out-kpf button.al-part[data-part="left leg"]');
    assert.equal(await legend.getAttribute('aria-pressed'), 'true');
    const before = await shown('left leg');
    assert.equal(before, 3 + 2, 'left hip, knee, ankle and two bones');
    await legend.click();
    assert.equal(await legend.getAttribute('aria-pressed'), 'false');
    assert.equal(await shown('left leg'), 0);
    assert.match((await s.page.locator('#out-kpf .al-kp-count').textContent()) ?? '', /^14 of 17 joints shown$/);
    await legend.click();
    assert.equal(await shown('left leg'), before);
  });

  void it('hover: the nearest joint wins, within a radius fixed on screen', async () => {
    // A small person in a large photo: nose and eyes overlap on screen.
    const p = await keypointsPayload({ image: false, title: 'Far away' });
    p.width = 1280;
    p.height = 960;
    p.keypoints = p.keypoints.map((k) => ({ ...k, x: 600 + (k.x - 160) * 0.6, y: 300 + (k.y - 70) * 0.6 }));
    await render('kph', MIMES.keypoints, p);
    const stage = s.page.locator('#out-kph .al-stage');
    await stage.scrollIntoViewIfNeeded();
    const box = await stage.boundingBox();
    assert.ok(box);
    const at = async (x: number, y: number, dx = 0, dy = 0): Promise<string> => {
      await s.page.mouse.move(box.x + (x / 1280) * box.width + dx, box.y + (y / 960) * box.height + dy);
      return (await s.page.locator('#out-kph .al-readout').textContent()) ?? '';
    };
    const nose = p.keypoints[0];
    assert.match(await at(nose.x, nose.y), /^nose · score 0\.98/);
    const eye = p.keypoints[2];
    assert.match(await at(eye.x, eye.y), /^right_eye · /);
    // 10 CSS px from an isolated joint still reads it (the mark itself is smaller than that on screen).
    const ankle = p.keypoints[15];
    assert.match(await at(ankle.x, ankle.y, 10, 0), /^left_ankle · /);
    assert.equal(await at(ankle.x, ankle.y, 60, 0), 'Hover a joint for its name and score.');
    await s.page.mouse.move(0, 0);
  });
});

void describe('dataset thumbnails', () => {
  void it('carry a few per class within the budget, and every class shows its own', async () => {
    const base = await datasetPayload();
    const classes = base.classes.map((c) => c.name);
    // 23 classes x 4 images of 160 x 120 noise (JPEG compresses noise badly: a hard case for the budget).
    const candidates = classes.flatMap((c, ci) => [0, 1, 2, 3].map((k) => ({
      className: c,
      kind: (k === 3 ? 'non_interactive' : 'interactive') as 'interactive' | 'non_interactive',
      label: `${c}/${k}.jpg`,
      image: () => sharp(Buffer.from(Array.from({ length: 160 * 120 * 3 }, (_, i) => (i * 7919 + ci * 104729 + k * 31) % 251)), { raw: { width: 160, height: 120, channels: 3 } }).jpeg().toBuffer(),
    })));
    const thumbnails = await datasetThumbnails(candidates, { perClass: 3 });
    const out = await datasetOutput({ ...base, thumbnails });
    const size = JSON.stringify(out.payload).length;
    assert.ok(size < THUMBNAIL_BUDGET + 100_000, `payload ${size} chars, budget ${THUMBNAIL_BUDGET}`);
    for (const c of classes) assert.equal(out.payload.thumbnails.filter((t) => t.className === c).length, 3, `3 thumbnails of ${c}`);
    await render('dst', MIMES.dataset, out.payload);
    for (const c of ['Shelter', classes[10], classes[0]]) {
      await s.page.selectOption('#out-dst select.al-class-filter', c);
      const shown = await s.page.$$eval('#out-dst figure.al-thumb', (fs) => fs.map((f) => (f as HTMLElement).dataset.class));
      assert.ok(shown.length === 3 && shown.every((x) => x === c), `${c}: ${shown.join(', ')}`);
      assert.equal(await s.page.locator('#out-dst .al-thumb-empty').isHidden(), true);
    }
    await s.page.evaluate(() => window.harness.dispose('dst'));
  });

  void it('a tight budget keeps every class\'s first thumbnail and says how many were left out', async () => {
    const base = await datasetPayload();
    const big = base.thumbnails[0];
    const many = base.classes.flatMap((c) => [0, 1, 2].map((k) => ({ ...big, className: c.name, label: `${c.name}/${k}.jpg` })));
    const per = big.image.data.length + 120;
    const out = await datasetOutput({ ...base, thumbnails: many });
    assert.equal(out.payload.thumbnails.length, many.length, 'the default budget fits these');
    // fitThumbnails through datasetOutput's budget: shrink it by giving huge thumbnails.
    const huge = many.map((t) => ({ ...t, image: { ...t.image, data: t.image.data.repeat(Math.ceil(THUMBNAIL_BUDGET / 23 / 1.5 / per)) } }));
    const fitted = await datasetOutput({ ...base, thumbnails: huge });
    const kept = fitted.payload.thumbnails;
    assert.ok(kept.length >= 23 && kept.length < huge.length, `kept ${kept.length} of ${huge.length}`);
    assert.equal(new Set(kept.map((t) => t.className)).size, 23, 'every class keeps one');
    assert.equal(fitted.payload.thumbnailsOmitted, huge.length - kept.length);
    assert.ok(JSON.stringify(fitted.payload).length < THUMBNAIL_BUDGET + 100_000);
  });

  void it('a class without thumbnails in the payload says so and how to get them', async () => {
    await render('dsn', MIMES.dataset, await datasetPayload());
    const options = await s.page.$$eval('#out-dsn select.al-class-filter option', (os) => os.map((o) => o.textContent));
    assert.equal(options.length, 24, 'every class is in the filter');
    assert.ok(options.includes('Shelter (0)'));
    await s.page.selectOption('#out-dsn select.al-class-filter', 'Shelter');
    assert.equal(await s.page.locator('#out-dsn figure.al-thumb').count(), 0);
    const note = s.page.locator('#out-dsn .al-thumb-empty');
    assert.equal(await note.isVisible(), true);
    assert.equal(await note.textContent(), 'No thumbnails of Shelter in this output: it carries thumbnails of 4 of 23 classes. summary({ thumbnails: 23 }) on the dataset carries them for every class.');
    await screenshot(s, 'dsn', 'glance-dataset-no-thumbnails-dark');
    await s.page.evaluate(() => window.harness.dispose('dsn'));
    // A payload that names the call showing one class's images: the note gives it for that class.
    await render('dsc', MIMES.dataset, { ...(await datasetPayload()), showClassCode: 'ds.show({ class: {class} })' });
    await s.page.selectOption('#out-dsc select.al-class-filter', 'Shelter');
    assert.equal(await s.page.locator('#out-dsc .al-thumb-empty').textContent(), "No thumbnails of Shelter in this output: it carries thumbnails of 4 of 23 classes. ds.show({ class: 'Shelter' }) shows its images.");
    await s.page.evaluate(() => window.harness.dispose('dsc'));
  });
});

void describe('page', () => {
  void it('no page errors were raised', async () => {
    const errors = await s.page.evaluate(() => window.harnessErrors);
    assert.deepEqual(errors, []);
  });
});
