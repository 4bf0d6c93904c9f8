/**
 * Behaviour shared by every view, in headless Chromium: payload strings stay text (no HTML injection),
 * malformed and unknown-version payloads show a readable error box, outputs re-rendered and disposed
 * many times leave no nodes, listeners or theme observers behind, a superseded render gives way, the
 * theme switch re-colours canvases and charts, and the standalone entry draws outside VS Code.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { build } from 'esbuild';
import { join } from 'node:path';
import { ROOT, SCREENSHOT_DIR, liveCounts, openHarness, screenshot, type Session } from './browser';
import { MIMES, datasetPayload, heatmapPayload, keypointsPayload, metricsPayload, paperData, trainingPayload } from './fixtures';

let s: Session;
const dialogs: string[] = [];
before(async () => {
  s = await openHarness();
  s.page.on('dialog', (d) => dialogs.push(d.message()));
});
after(async () => {
  await s?.close();
});

const XSS = '<img src=x onerror=alert(1)>';

async function render(id: string, mime: string, payload: unknown, raw = false): Promise<void> {
  await s.page.evaluate(async ({ id, mime, payload, raw }) => void (await window.harness.render(id, mime, payload, raw)), { id, mime, payload, raw });
}

/** Elements that an injected payload would have created. */
function injected(): Promise<number> {
  return s.page.evaluate(() => document.querySelectorAll('#outputs img:not([src^="blob:"]), #outputs script, #outputs iframe, #outputs [onerror]').length);
}

void describe('payload strings are text', () => {
  void it('in heatmap and keypoints labels', async () => {
    const hm = await heatmapPayload({ size: 64, mapSize: 16, title: XSS });
    hm.maps[0].name = XSS;
    await render('x-hm', MIMES.heatmap, hm);
    assert.equal(await s.page.locator('#out-x-hm .al-title').textContent(), XSS);
    assert.equal(await s.page.locator('#out-x-hm select.al-channel option').first().textContent(), XSS);
    const kp = await keypointsPayload({ title: XSS });
    kp.names[0] = XSS;
    kp.contacts.push({ channel: XSS as 'Back', points: [[10, 10]] });
    await render('x-kp', MIMES.keypoints, kp);
    assert.equal(await s.page.locator('#out-x-kp .al-title').textContent(), XSS);
    assert.equal(await s.page.locator('#out-x-kp circle.al-kp-joint title').first().textContent(), `${XSS} · score 0.98`);
    assert.equal(await s.page.locator('#out-x-kp button.al-chip[data-channel]').last().textContent(), `${XSS} (1)`);
    assert.equal(await injected(), 0);
  });

  void it('in metrics class and run names (charts and table)', async () => {
    const classes = [...paperData().perClassKLD.seen.classes];
    classes[0] = XSS;
    classes[1] = '<b>bold</b> & co';
    const m = metricsPayload({ classes, title: XSS });
    m.runs[0].name = XSS;
    await render('x-mx', MIMES.metrics, m);
    const ticks = await s.page.$$eval('#out-x-mx .al-metric-chart[data-metric="KLD"] .xtick text', (ts) => ts.map((t) => t.textContent));
    assert.equal(ticks[0], XSS, `tick labels: ${ticks.slice(0, 3).join(' | ')}`);
    assert.equal(ticks[1], '<b>bold</b> & co');
    const legend = await s.page.$$eval('#out-x-mx .al-metric-chart[data-metric="KLD"] .legendtext', (ts) => ts.map((t) => t.textContent));
    assert.ok(legend.includes(XSS), `legend: ${legend.join(' | ')}`);
    await s.page.locator('#out-x-mx button.al-viewmode[data-value="table"]').click();
    assert.equal(await s.page.locator('#out-x-mx table.al-table tbody tr').nth(1).locator('td').first().textContent(), XSS);
    assert.equal(await s.page.locator('#out-x-mx table.al-table thead th[data-run="0"]').first().textContent(), XSS);
    assert.equal(await injected(), 0);
    assert.equal(await s.page.locator('#out-x-mx b').count(), 0);
  });

  void it('in training and dataset text', async () => {
    const t = trainingPayload(200);
    t.title = XSS;
    t.message = XSS;
    await render('x-tr', MIMES.training, t);
    assert.equal(await s.page.locator('#out-x-tr .al-title').textContent(), XSS);
    assert.equal(await s.page.locator('#out-x-tr .al-message').textContent(), XSS);
    const classes = [...paperData().perClassKLD.seen.classes];
    classes[0] = XSS;
    const d = await datasetPayload({ classes, title: XSS });
    d.root = XSS;
    d.thumbnails[0].label = XSS;
    d.errors[0] = { file: XSS, line: 3, message: XSS };
    await render('x-ds', MIMES.dataset, d);
    assert.equal(await s.page.locator('#out-x-ds .al-root-path').textContent(), XSS);
    assert.equal(await s.page.locator('#out-x-ds .al-errors li').first().textContent(), `${XSS}:3: ${XSS}`);
    assert.equal(await s.page.locator('#out-x-ds figcaption').first().textContent(), `${XSS} · ${XSS}`);
    assert.equal(await injected(), 0);
    await screenshot(s, 'x-mx', 'xss-metrics-table');
  });

  void it('never ran injected code', async () => {
    await s.page.waitForTimeout(50);
    assert.deepEqual(dialogs, []);
    for (const id of ['x-hm', 'x-kp', 'x-mx', 'x-tr', 'x-ds']) await s.page.evaluate((id) => window.harness.dispose(id), id);
  });
});

void describe('payloads that cannot be drawn show an error box', () => {
  async function errorText(id: string): Promise<{ title: string; message: string }> {
    const box = s.page.locator(`#out-${id} [role="alert"]`);
    assert.equal(await box.count(), 1, `expected an error box in #out-${id}, got: ${await s.page.locator(`#out-${id}`).innerHTML()}`);
    return { title: (await box.locator('.al-error-title').textContent()) ?? '', message: (await box.locator('.al-error-message').textContent()) ?? '' };
  }

  void it('invalid JSON', async () => {
    await render('e-json', MIMES.heatmap, '{"version": 1, "maps": [', true);
    const e = await errorText('e-json');
    assert.equal(e.title, 'This heatmap output cannot be drawn: the payload is malformed');
    assert.match(e.message, /^heatmap payload: the output is not valid JSON/);
  });

  void it('unknown version', async () => {
    const p = { ...metricsPayload(), version: 2 };
    await render('e-ver', MIMES.metrics, p);
    const e = await errorText('e-ver');
    assert.equal(e.title, 'This metrics output was written by a newer version of Affordance Lab');
    assert.equal(e.message, 'metrics payload: version: 2 is not supported; this renderer draws version 1. Update the Affordance Lab extension to view this output.');
    await screenshot(s, 'e-ver', 'error-unknown-version-dark');
  });

  void it('a map whose data does not match its size, naming the field', async () => {
    const p = await heatmapPayload({ size: 64, mapSize: 16 });
    p.maps[2].width = 17;
    await render('e-map', MIMES.heatmap, p);
    assert.equal((await errorText('e-map')).message, 'heatmap payload: maps[2].data: decodes to 256 bytes, expected width*height = 272 (17x16)');
  });

  void it('wrong types and missing fields in every kind', async () => {
    const cases: [string, string, unknown, RegExp][] = [
      ['e-kp', MIMES.keypoints, { ...(await keypointsPayload({ image: false })), keypoints: [{ x: 1, y: 'two', score: 1 }] }, /keypoints payload: keypoints\[0\]\.y: expected a finite number, got "two"/],
      ['e-mx', MIMES.metrics, { ...metricsPayload(), runs: [] }, /metrics payload: runs: expected at least one run, got an empty array/],
      ['e-tr', MIMES.training, { ...trainingPayload(10), state: 'paused' }, /training payload: state: expected one of running, done, interrupted, error, got "paused"/],
      ['e-ds', MIMES.dataset, { ...(await datasetPayload()), contactMatrix: [[1, 2]] }, /dataset payload: contactMatrix: expected 6 rows \(one per part\), got 1/],
      ['e-null', MIMES.heatmap, null, /heatmap payload: expected an object, got null/],
      ['e-nover', MIMES.dataset, { root: '/x' }, /dataset payload: version: missing; expected 1/],
    ];
    for (const [id, mime, payload, re] of cases) {
      await render(id, mime, payload);
      assert.match((await errorText(id)).message, re, id);
    }
  });

  void it('an image that does not decode', async () => {
    const p = await heatmapPayload({ size: 64, mapSize: 16 });
    p.image!.data = Buffer.from('definitely not a PNG file').toString('base64');
    await render('e-img', MIMES.heatmap, p);
    assert.match((await errorText('e-img')).message, /^heatmap payload: image\.data: could not be decoded as image\/png/);
  });

  void it('an unknown MIME type', async () => {
    await render('e-mime', 'application/vnd.affordance-lab.nope.v1+json', { version: 1 });
    assert.match((await errorText('e-mime')).message, /no Affordance Lab view for MIME type "application\/vnd\.affordance-lab\.nope\.v1\+json"/);
  });

  void it('a bad update of a live output replaces it with the error box, a good one brings it back', async () => {
    await render('e-up', MIMES.training, trainingPayload(100));
    await render('e-up', MIMES.training, { ...trainingPayload(150), history: 'lots' });
    assert.match((await errorText('e-up')).message, /training payload: history: expected an array, got "lots"/);
    await render('e-up', MIMES.training, trainingPayload(200));
    assert.equal(await s.page.locator('#out-e-up [role="alert"]').count(), 0);
    assert.equal(await s.page.locator('#out-e-up .al-loss-chart').count(), 1);
    await s.page.evaluate(() => window.harness.disposeAll());
  });
});

void describe('lifecycle', () => {
  void it('re-rendering and disposing many times leaves nothing behind', async () => {
    const payloads: [string, unknown][] = [
      [MIMES.heatmap, await heatmapPayload({ size: 128, mapSize: 32, gt: true })],
      [MIMES.keypoints, await keypointsPayload()],
      [MIMES.metrics, metricsPayload()],
      [MIMES.training, trainingPayload(300)],
      [MIMES.dataset, await datasetPayload()],
    ];
    await s.page.evaluate((payloads) => {
      (window as unknown as { leakPayloads: unknown }).leakPayloads = payloads;
    }, payloads);
    // Canvas views are cheap: many cycles; plotly views cost ~100 ms a chart on this machine: fewer.
    const cycle = (n: number, kinds: number[]): Promise<void> =>
      s.page.evaluate(
        async ({ n, kinds }) => {
          const ps = (window as unknown as { leakPayloads: [string, unknown][] }).leakPayloads;
          for (let i = 0; i < n; i++) {
            // Same ids re-rendered (replace), then a fresh id rendered and disposed.
            for (const k of kinds) await window.harness.render(`leak-${k}`, ps[k][0], ps[k][1]);
            for (const k of kinds) {
              await window.harness.render(`tmp-${k}`, ps[k][0], ps[k][1]);
              window.harness.dispose(`tmp-${k}`);
            }
          }
        },
        { n, kinds },
      );
    const all = [0, 1, 2, 3, 4];
    await cycle(2, all);
    const base = await liveCounts(s);
    const stats0 = await s.page.evaluate(() => window.harness.api.stats());
    await cycle(10, [0, 1]);
    await cycle(2, all);
    const grown = await liveCounts(s);
    const stats1 = await s.page.evaluate(() => window.harness.api.stats());
    assert.deepEqual(stats1, stats0, 'live outputs and theme listeners are stable');
    assert.equal(stats1.outputs, 5);
    assert.ok(grown.listeners - base.listeners <= 5, `event listeners grew from ${base.listeners} to ${grown.listeners}`);
    assert.ok(grown.nodes - base.nodes <= 50, `DOM nodes grew from ${base.nodes} to ${grown.nodes}`);
    await s.page.evaluate(() => window.harness.disposeAll());
    assert.deepEqual(await s.page.evaluate(() => window.harness.api.stats()), { outputs: 0, themeListeners: 0 });
    const plotlyLeft = await s.page.evaluate(() => document.querySelectorAll('#outputs .js-plotly-plot, #outputs .al-root').length);
    assert.equal(plotlyLeft, 0);
  });

  void it('a render cancelled through its signal leaves nothing half-drawn', async () => {
    const p = metricsPayload();
    const after = await s.page.evaluate(async (p) => {
      await window.harness.renderCancelled('cancel', 'application/vnd.affordance-lab.metrics.v1+json', p);
      return { children: window.harness.element('cancel').childElementCount, outputs: window.harness.api.stats().outputs };
    }, p);
    assert.deepEqual(after, { children: 0, outputs: 0 });
    await render('cancel', MIMES.metrics, p);
    assert.equal(await s.page.locator('#out-cancel .al-metric-chart').count(), 3);
    await s.page.evaluate(() => window.harness.dispose('cancel'));
  });

  void it('a render superseded by a newer one for the same output gives way', async () => {
    const p = metricsPayload();
    await s.page.evaluate(async (p) => {
      const a = window.harness.render('race', 'application/vnd.affordance-lab.metrics.v1+json', p);
      const b = window.harness.render('race', 'application/vnd.affordance-lab.metrics.v1+json', { ...p, title: 'second' });
      await Promise.all([a, b]);
    }, p);
    assert.equal(await s.page.locator('#out-race .al-root').count(), 1);
    assert.equal(await s.page.locator('#out-race .al-title').textContent(), 'second');
    assert.equal(await s.page.locator('#out-race .al-metric-chart').count(), 3);
    assert.equal(await s.page.locator('#out-race [role="alert"]').count(), 0);
    await s.page.evaluate(() => window.harness.dispose('race'));
  });
});

void describe('control settings', () => {
  void it('survive the output being drawn again, through the renderer state', async () => {
    await render('mem-hm', MIMES.heatmap, await heatmapPayload({ size: 64, mapSize: 16, gt: true }));
    await s.page.selectOption('#out-mem-hm select.al-channel', { label: 'Feet' });
    await s.page.selectOption('#out-mem-hm select.al-colormap', 'jet');
    await s.page.locator('#out-mem-hm input.al-show-diff').check();
    await render('mem-mx', MIMES.metrics, metricsPayload());
    await s.page.locator('#out-mem-mx button.al-split[data-value="Unseen"]').click();
    await s.page.locator('#out-mem-mx button.al-viewmode[data-value="table"]').click();
    await s.page.locator('#out-mem-mx input.al-metric-toggle[data-metric="NSS"]').uncheck();
    // Drawn again into a fresh element, as after a webview reload.
    await s.page.evaluate(() => {
      window.harness.dispose('mem-hm');
      window.harness.dispose('mem-mx');
    });
    await render('mem-hm', MIMES.heatmap, await heatmapPayload({ size: 64, mapSize: 16, gt: true }));
    await render('mem-mx', MIMES.metrics, metricsPayload());
    const hm = await s.page.evaluate(() => {
      const root = document.querySelector('#out-mem-hm')!;
      const sel = root.querySelector('select.al-channel') as HTMLSelectElement;
      return {
        channel: sel.selectedOptions[0].textContent,
        colormap: (root.querySelector('select.al-colormap') as HTMLSelectElement).value,
        panels: Array.from(root.querySelectorAll('canvas.al-view')).map((c) => (c as HTMLCanvasElement).dataset.kind),
      };
    });
    assert.deepEqual(hm, { channel: 'Feet', colormap: 'jet', panels: ['pred', 'gt', 'diff'] });
    assert.equal(await s.page.locator('#out-mem-mx button.al-split[data-value="Unseen"]').getAttribute('aria-pressed'), 'true');
    assert.equal(await s.page.locator('#out-mem-mx table.al-table').count(), 1);
    assert.equal(await s.page.locator('#out-mem-mx input.al-metric-toggle[data-metric="NSS"]').isChecked(), false);
    assert.equal(await s.page.locator('#out-mem-mx table.al-table thead th[data-metric="NSS"]').count(), 0);
    // Another output keeps its own defaults.
    await render('mem-other', MIMES.heatmap, await heatmapPayload({ size: 64, mapSize: 16 }));
    assert.equal(await s.page.locator('#out-mem-other select.al-colormap').inputValue(), 'turbo');
    await s.page.evaluate(() => window.harness.disposeAll());
  });
});

void describe('theme', () => {
  void it('re-colours charts and text when the theme changes', async () => {
    await render('th-mx', MIMES.metrics, metricsPayload());
    await render('th-hm', MIMES.heatmap, await heatmapPayload({ gt: true }));
    await render('th-kp', MIMES.keypoints, await keypointsPayload());
    await render('th-tr', MIMES.training, trainingPayload(600, 'done'));
    await render('th-ds', MIMES.dataset, await datasetPayload());
    const colours = (): Promise<{ font: string; tick: string; title: string; select: string }> =>
      s.page.evaluate(() => {
        const chart = document.querySelector('#out-th-mx .al-metric-chart') as HTMLElement & { _fullLayout: { font: { color: string } } };
        const tick = document.querySelector('#out-th-mx .xtick text') as SVGTextElement;
        return {
          font: chart._fullLayout.font.color,
          tick: getComputedStyle(tick).fill,
          title: getComputedStyle(document.querySelector('#out-th-hm .al-title')!).color,
          select: getComputedStyle(document.querySelector('#out-th-hm select')!).backgroundColor,
        };
      });
    const dark = await colours();
    assert.equal(dark.font, '#d4d4d4');
    for (const id of ['th-mx', 'th-hm', 'th-kp', 'th-tr', 'th-ds']) await screenshot(s, id, `${id.slice(3)}-theme-dark`);
    await s.page.evaluate(() => window.harness.setTheme('light'));
    await s.page.waitForFunction(() => (document.querySelector('#out-th-mx .al-metric-chart') as HTMLElement & { _fullLayout: { font: { color: string } } })._fullLayout.font.color === '#1f1f1f');
    const light = await colours();
    assert.deepEqual(light, { font: '#1f1f1f', tick: 'rgb(31, 31, 31)', title: 'rgb(31, 31, 31)', select: 'rgb(255, 255, 255)' });
    assert.notEqual(dark.tick, light.tick);
    for (const id of ['th-mx', 'th-hm', 'th-kp', 'th-tr', 'th-ds']) await screenshot(s, id, `${id.slice(3)}-theme-light`);
    await s.page.evaluate(() => window.harness.setTheme('dark'));
    await s.page.evaluate(() => window.harness.disposeAll());
  });
});

void describe('standalone entry', () => {
  void it('draws, updates and disposes outside VS Code with the same bundle', async () => {
    const result = await s.page.evaluate(async (p) => {
      const container = document.createElement('div');
      container.id = 'out-standalone';
      document.getElementById('outputs')!.append(container);
      const out = await window.harness.renderer.renderStandalone(container, 'application/vnd.affordance-lab.training.v1+json', p.first);
      const chart = container.querySelector('.al-loss-chart');
      const n1 = (chart as HTMLElement & { data: { x: number[] }[] }).data[0].x.length;
      await out.update(p.second);
      const same = container.querySelector('.al-loss-chart') === chart;
      const n2 = (chart as HTMLElement & { data: { x: number[] }[] }).data[0].x.length;
      const bad = await window.harness.renderer.renderStandalone(document.createElement('div'), 'application/vnd.affordance-lab.heatmap.v1+json', { version: 9 });
      bad.dispose();
      out.dispose();
      return { n1, n2, same, empty: container.childElementCount };
    }, { first: trainingPayload(100), second: trainingPayload(200) });
    assert.deepEqual(result, { n1: 20, n2: 40, same: true, empty: 0 });
  });
});

void describe('self-contained page', () => {
  void it('renderer/standalone.ts bundled as one script draws every output with no network', async () => {
    // The way an offline HTML report embeds the renderers: one IIFE, plotly inlined.
    const bundle = await build({ entryPoints: [join(ROOT, 'renderer/standalone.ts')], bundle: true, write: false, format: 'iife', globalName: 'AffordanceLabReport', platform: 'browser', target: 'es2022', minify: true, legalComments: 'none' });
    const js = bundle.outputFiles[0].text.replace(/<\/script/gi, '<\\/script');
    const page = await s.browser.newPage({ viewport: { width: 900, height: 900 } });
    const requests: string[] = [];
    const errors: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    page.on('pageerror', (e) => errors.push(e.message));
    try {
      await page.setContent(`<!doctype html><html style="--vscode-editor-background:#ffffff;--vscode-editor-foreground:#1f1f1f"><body><div id="a"></div><div id="b"></div><div id="c"></div><script>${js}</script></body></html>`);
      const payloads = { metrics: metricsPayload(), heatmap: await heatmapPayload({ size: 128, mapSize: 32 }), training: trainingPayload(300) };
      const result = await page.evaluate(async (p) => {
        const api = (window as unknown as { AffordanceLabReport: { renderStandalone(el: HTMLElement, mime: string, payload: unknown): Promise<unknown> } }).AffordanceLabReport;
        await api.renderStandalone(document.getElementById('a')!, 'application/vnd.affordance-lab.metrics.v1+json', p.metrics);
        await api.renderStandalone(document.getElementById('b')!, 'application/vnd.affordance-lab.heatmap.v1+json', p.heatmap);
        await api.renderStandalone(document.getElementById('c')!, 'application/vnd.affordance-lab.training.v1+json', p.training);
        const c = document.querySelector('#b canvas.al-view') as HTMLCanvasElement;
        return {
          plots: document.querySelectorAll('.js-plotly-plot').length,
          canvas: c.width > 0,
          alerts: document.querySelectorAll('[role="alert"]').length,
          font: (document.querySelector('#a .al-metric-chart') as HTMLElement & { _fullLayout: { font: { color: string } } })._fullLayout.font.color,
        };
      }, payloads);
      assert.deepEqual(result, { plots: 6, canvas: true, alerts: 0, font: '#1f1f1f' });
      assert.deepEqual(errors, []);
      assert.deepEqual(requests.filter((u) => !u.startsWith('data:') && !u.startsWith('blob:') && u !== 'about:blank'), []);
      await page.screenshot({ path: join(SCREENSHOT_DIR, 'standalone-page-light.png'), fullPage: true });
    } finally {
      await page.close();
    }
  });
});

void it('no page errors were raised', async () => {
  assert.deepEqual(await s.page.evaluate(() => window.harnessErrors), []);
});
