/**
 * Metrics, training and dataset views in headless Chromium: plotly loaded lazily as its own chunk,
 * traces per run and metric, reference rows, split/metric toggles, sorting, the table view, live
 * training updates drawn in place, the dataset's charts, class filter and problems list.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BUNDLE_DIR, openHarness, screenshot, type Session } from './browser';
import { MIMES, datasetPayload, heatmapPayload, metricsPayload, paperData, trainingPayload } from './fixtures';

let s: Session;
before(async () => {
  s = await openHarness();
});
after(async () => {
  await s?.close();
});

interface TraceInfo {
  name: string;
  type: string;
  x: string[];
  y: (number | null)[];
}

/** Traces of the chart matching `selector` (plotly keeps them on the element). */
function traces(selector: string): Promise<TraceInfo[]> {
  return s.page.evaluate((sel) => {
    const el = document.querySelector(sel) as (HTMLElement & { data?: { name: string; type: string; x: string[]; y: (number | null)[] }[] }) | null;
    if (!el) throw new Error(`no chart matches ${sel}`);
    return (el.data ?? []).map((t) => ({ name: t.name, type: t.type, x: [...t.x], y: [...t.y] }));
  }, selector);
}

const plotlyChunkRequested = (): boolean => s.requests.some((r) => /\/renderer\/chunks\/plotly[^/]*\.js$/.test(r));

void describe('plotly loading', () => {
  void it('is a separate chunk, not in the main bundle', () => {
    const main = readFileSync(join(BUNDLE_DIR, 'renderer.js'), 'utf8');
    const chunks = readdirSync(join(BUNDLE_DIR, 'chunks')).filter((f) => f.endsWith('.js'));
    const plotlyChunk = chunks.find((f) => f.startsWith('plotly'));
    assert.ok(plotlyChunk, `expected a plotly chunk in dist/renderer/chunks, found ${chunks.join(', ')}`);
    assert.ok(readFileSync(join(BUNDLE_DIR, 'chunks', plotlyChunk), 'utf8').includes('Plotly'), 'the chunk holds plotly');
    assert.ok(!main.includes('plotly.js (cartesian') && !main.includes('Plotly.newPlot') && main.length < 400_000, `main bundle should not contain plotly (${main.length} bytes)`);
    assert.match(main, /import\(["']\.\/chunks\/plotly[^"']*\.js["']\)/, 'the main bundle loads the chunk with a dynamic import');
  });

  void it('is not fetched by outputs that do not chart', async () => {
    await s.page.evaluate(async (p) => void (await window.harness.render('lazy-hm', 'application/vnd.affordance-lab.heatmap.v1+json', p)), await heatmapPayload({ size: 64, mapSize: 16 }));
    assert.equal(plotlyChunkRequested(), false, `requests so far: ${s.requests.join(', ')}`);
    await s.page.evaluate(() => window.harness.dispose('lazy-hm'));
  });
});

void describe('metrics', () => {
  void it('draws one chart per metric with a bar per run and the paper row as a line', async () => {
    await s.page.evaluate(async (p) => void (await window.harness.render('mx', 'application/vnd.affordance-lab.metrics.v1+json', p)), metricsPayload());
    assert.equal(plotlyChunkRequested(), true, 'the metrics output loads plotly');
    const metrics = await s.page.$$eval('#out-mx .al-metric-chart', (els) => els.map((e) => (e as HTMLElement).dataset.metric));
    assert.deepEqual(metrics, ['KLD', 'SIM', 'NSS']);
    const kld = await traces('#out-mx .al-metric-chart[data-metric="KLD"]');
    assert.deepEqual(
      kld.map((t) => [t.name, t.type]),
      [['PIAL-Net (ours)', 'bar'], ['no pose branch', 'bar'], ['no interactive loss', 'bar'], ['PIAL-Net', 'scatter']],
    );
    const paper = paperData().perClassKLD.seen;
    assert.deepEqual(kld[0].x, paper.classes);
    assert.deepEqual(kld[3].y, paper.methods['PIAL-Net']);
    // The paper has per-class KLD only: on the SIM chart its overall SIM is a level line.
    const sim = await traces('#out-mx .al-metric-chart[data-metric="SIM"]');
    assert.deepEqual(sim.map((t) => [t.name, t.type]), [['PIAL-Net (ours)', 'bar'], ['no pose branch', 'bar'], ['no interactive loss', 'bar'], ['PIAL-Net · overall', 'scatter']]);
    assert.ok(sim[3].y.every((v) => v === paperData().overall['PIAL-Net'].seen.SIM));
    const ticks = await s.page.$$eval('#out-mx .al-metric-chart[data-metric="KLD"] .xtick text', (ts) => ts.length);
    assert.equal(ticks, 23);
    await screenshot(s, 'mx', 'metrics-dark');
  });

  void it('sorts classes by value', async () => {
    await s.page.selectOption('#out-mx select.al-sort', 'asc');
    const kld = await traces('#out-mx .al-metric-chart[data-metric="KLD"]');
    const ys = kld[0].y as number[];
    assert.deepEqual(ys, [...ys].sort((a, b) => a - b), 'first run ascending');
    const paper = paperData().perClassKLD.seen;
    // Every trace is reordered with the classes.
    const i = kld[3].x.indexOf(paper.classes[5]);
    assert.equal(kld[3].y[i], paper.methods['PIAL-Net'][5]);
    assert.equal(await s.page.locator('#out-mx .al-sort-key').textContent(), '(PIAL-Net (ours) KLD)');
    await s.page.selectOption('#out-mx select.al-sort', 'desc');
    const ysDesc = (await traces('#out-mx .al-metric-chart[data-metric="KLD"]'))[0].y as number[];
    assert.deepEqual(ysDesc, [...ysDesc].sort((a, b) => b - a));
    await s.page.selectOption('#out-mx select.al-sort', 'none');
    assert.deepEqual((await traces('#out-mx .al-metric-chart[data-metric="KLD"]'))[0].x, paper.classes);
  });

  void it('metric toggles hide charts; the split switch shows Unseen classes', async () => {
    await s.page.locator('#out-mx input.al-metric-toggle[data-metric="SIM"]').uncheck();
    const visible = await s.page.$$eval('#out-mx .al-metric-chart', (els) => els.filter((e) => !(e as HTMLElement).hidden).map((e) => (e as HTMLElement).dataset.metric));
    assert.deepEqual(visible, ['KLD', 'NSS']);
    await s.page.locator('#out-mx input.al-metric-toggle[data-metric="SIM"]').check();
    await s.page.locator('#out-mx button.al-split[data-value="Unseen"]').click();
    const kld = await traces('#out-mx .al-metric-chart[data-metric="KLD"]');
    assert.deepEqual(kld[0].x, paperData().perClassKLD.unseen.classes);
    assert.match((await s.page.locator('#out-mx .al-note').textContent()) ?? '', /^6 classes · Unseen · NSS threshold 0\.5/);
    await s.page.locator('#out-mx button.al-split[data-value="Seen"]').click();
  });

  void it('shows rows per body part when the runs have them', async () => {
    await s.page.locator('#out-mx button.al-grouping[data-value="body parts"]').click();
    const kld = await traces('#out-mx .al-metric-chart[data-metric="KLD"]');
    assert.deepEqual(kld[0].x, ['Back', 'Hips', 'Hands', 'Feet', 'Mouth', 'Outside']);
    // The paper row has no per-part numbers: its overall KLD is a level line.
    assert.deepEqual(kld.map((t) => t.name), ['PIAL-Net (ours)', 'no pose branch', 'no interactive loss', 'PIAL-Net · overall']);
    const p = metricsPayload();
    assert.deepEqual(kld[1].y, Object.values(p.runs[1].results.Seen!.perPart!).map((v) => v.KLD));
    assert.match((await s.page.locator('#out-mx .al-note').textContent()) ?? '', /^6 body parts · Seen/);
    await s.page.locator('#out-mx button.al-grouping[data-value="classes"]').click();
    assert.equal((await traces('#out-mx .al-metric-chart[data-metric="KLD"]'))[0].x.length, 23);
  });

  void it('draws every published row the kernel can add', async () => {
    await s.page.evaluate(async (p) => void (await window.harness.render('mxall', 'application/vnd.affordance-lab.metrics.v1+json', p)), metricsPayload({ runs: 1, allReferences: true, title: 'PIAL-Net (ours) vs published methods' }));
    const kld = await traces('#out-mxall .al-metric-chart[data-metric="KLD"]');
    // ViTPose has no per-class row in the paper: its overall KLD is a level line.
    // (Values above the fitted axis get a marker trace of their own, named "… · above the axis".)
    assert.deepEqual(kld.map((t) => t.name).filter((n) => !n.endsWith(' · above the axis')), ['PIAL-Net (ours)', 'PSPNet (CVPR 2023)', 'DeepLabV3+ (CVPR 2023)', 'SegFormer (CVPR 2023)', 'HRNet (CVPR 2023)', 'ViTPose (CVPR 2023) · overall', 'HRFormer (CVPR 2023)', 'HSNet (CVPR 2023)', 'PIAL-Net (CVPR 2023)']);
    await screenshot(s, 'mxall', 'metrics-all-references-dark');
    await s.page.locator('#out-mxall button.al-kld-axis[data-value="log"]').click();
    const axisType = await s.page.evaluate(() => (document.querySelector('#out-mxall .al-metric-chart') as HTMLElement & { _fullLayout: { yaxis: { type: string } } })._fullLayout.yaxis.type);
    assert.equal(axisType, 'log');
    await screenshot(s, 'mxall', 'metrics-all-references-log-dark');
    await s.page.locator('#out-mxall button.al-viewmode[data-value="table"]').click();
    const vitpose = await s.page.locator('#out-mxall table.al-table tbody tr.al-overall td').nth(1 + 5).textContent();
    assert.equal(vitpose, String(paperData().overall.ViTPose.seen.KLD), 'ViTPose has an overall row in the table');
    await screenshot(s, 'mxall', 'metrics-all-references-table-dark');
    await s.page.evaluate(() => window.harness.dispose('mxall'));
  });

  void it('charts overall values when the runs have no per-class numbers', async () => {
    const p = metricsPayload({ reference: false, runs: 2 });
    for (const r of p.runs) for (const split of Object.values(r.results)) split.perClass = {};
    await s.page.evaluate(async (p) => void (await window.harness.render('mxo', 'application/vnd.affordance-lab.metrics.v1+json', p)), p);
    const kld = await traces('#out-mxo .al-metric-chart[data-metric="KLD"]');
    assert.deepEqual(kld.map((t) => [t.x, t.y]), p.runs.map((r) => [['Overall'], [r.results.Seen!.overall.KLD]]));
    await s.page.evaluate(() => window.harness.dispose('mxo'));
  });

  void it('draws paper rows as bars or hides them', async () => {
    await s.page.locator('#out-mx button.al-refmode[data-value="bars"]').click();
    assert.equal((await traces('#out-mx .al-metric-chart[data-metric="KLD"]'))[3].type, 'bar');
    await s.page.locator('#out-mx button.al-refmode[data-value="hidden"]').click();
    assert.equal((await traces('#out-mx .al-metric-chart[data-metric="KLD"]')).length, 3);
    await s.page.locator('#out-mx button.al-refmode[data-value="lines"]').click();
  });

  void it('has a table view, sortable by clicking a column, best values in bold', async () => {
    await s.page.locator('#out-mx button.al-viewmode[data-value="table"]').click();
    assert.equal(await s.page.locator('#out-mx .al-charts').isHidden(), true);
    const rows = await s.page.$$eval('#out-mx table.al-table tbody tr', (trs) => trs.map((tr) => Array.from(tr.children).map((td) => td.textContent)));
    assert.equal(rows.length, 24, 'overall + 23 classes');
    assert.equal(rows[0][0], 'Overall');
    const paper = paperData();
    // Columns: class, then KLD x 4 runs, SIM x 4, NSS x 4; the paper's overall Seen KLD is the 5th cell.
    assert.equal(rows[0][4], String(paper.overall['PIAL-Net'].seen.KLD));
    const header = '#out-mx table.al-table th[data-run="3"][data-metric="KLD"]';
    await s.page.locator(header).click();
    assert.equal(await s.page.locator(header).getAttribute('aria-sort'), 'ascending');
    // Headers sort from the keyboard too, and keep focus.
    await s.page.keyboard.press('Enter');
    assert.equal(await s.page.locator(header).getAttribute('aria-sort'), 'descending');
    await s.page.waitForFunction((sel) => document.activeElement === document.querySelector(sel), header);
    await s.page.keyboard.press(' ');
    assert.equal(await s.page.locator(header).getAttribute('aria-sort'), null);
    await s.page.locator(header).click();
    assert.equal(await s.page.locator(header).getAttribute('aria-sort'), 'ascending');
    const col = await s.page.$$eval('#out-mx table.al-table tbody tr:not(.al-overall)', (trs) => trs.map((tr) => Number(tr.children[4].textContent)));
    assert.deepEqual(col, [...col].sort((a, b) => a - b));
    // In each row exactly one KLD cell (the lowest) is bold.
    const bold = await s.page.$$eval('#out-mx table.al-table tbody tr', (trs) => trs.map((tr) => Array.from(tr.children).slice(1, 5).filter((td) => td.classList.contains('al-best')).length));
    assert.ok(bold.every((n) => n === 1), `one best KLD per row, got ${bold.join(',')}`);
    await screenshot(s, 'mx', 'metrics-table-dark');
    await s.page.locator('#out-mx button.al-viewmode[data-value="chart"]').click();
    await s.page.selectOption('#out-mx select.al-sort', 'none');
  });
});

void describe('training', () => {
  void it('shows a run that has not taken a step yet', async () => {
    const p = trainingPayload(0);
    await s.page.evaluate(async (p) => void (await window.harness.render('tr0', 'application/vnd.affordance-lab.training.v1+json', p)), p);
    assert.equal(await s.page.locator('#out-tr0 [role="alert"]').count(), 0);
    assert.match((await s.page.locator('#out-tr0 .al-status').nth(1).textContent()) ?? '', /step 0\/600 \(0%\)/);
    assert.equal((await traces('#out-tr0 .al-loss-chart'))[0].x.length, 0);
    await s.page.evaluate(() => window.harness.dispose('tr0'));
  });

  void it('draws loss, lr and epoch metric curves with the run state', async () => {
    await s.page.evaluate(async (p) => void (await window.harness.render('tr', 'application/vnd.affordance-lab.training.v1+json', p)), trainingPayload(250));
    const loss = await traces('#out-tr .al-loss-chart');
    assert.deepEqual(loss.map((t) => t.name), ['loss', 'interactive', 'non-interactive']);
    assert.equal(loss[0].x.length, 50);
    assert.equal((await traces('#out-tr .al-lr-chart'))[0].y.length, 50);
    assert.deepEqual((await traces('#out-tr .al-epoch-chart')).map((t) => t.name), ['KLD', 'SIM', 'NSS']);
    assert.equal(await s.page.locator('#out-tr .al-badge').textContent(), 'running');
    const status = (await s.page.locator('#out-tr .al-status').nth(1).textContent()) ?? '';
    assert.match(status, /epoch 2\/6/);
    assert.match(status, /step 250\/600 \(42%\)/);
    assert.match(status, /41\.7 images\/s/);
    assert.match(status, /ETA 1m 10s/);
    await screenshot(s, 'tr', 'training-running-dark');
  });

  void it('takes updates of the same output in place', async () => {
    await s.page.evaluate(() => {
      (window as unknown as { lossChart: Element }).lossChart = document.querySelector('#out-tr .al-loss-chart')!;
    });
    for (const step of [300, 400, 600]) {
      await s.page.evaluate(async (p) => void (await window.harness.render('tr', 'application/vnd.affordance-lab.training.v1+json', p)), trainingPayload(step, step === 600 ? 'done' : 'running'));
    }
    const same = await s.page.evaluate(() => document.querySelector('#out-tr .al-loss-chart') === (window as unknown as { lossChart: Element }).lossChart);
    assert.equal(same, true, 'the chart element survives updates (Plotly.react, not a rebuild)');
    assert.equal((await traces('#out-tr .al-loss-chart'))[0].x.length, 120);
    assert.equal((await traces('#out-tr .al-epoch-chart'))[0].x.length, 6);
    assert.equal(await s.page.locator('#out-tr .al-badge').textContent(), 'done');
    assert.equal(await s.page.locator('#out-tr .al-message').textContent(), 'Best checkpoint: epoch 6 (KLD 1.14)');
    assert.match((await s.page.locator('#out-tr .al-summary').textContent()) ?? '', /epoch 6: KLD 1\.25 · SIM 0\.696 · NSS 3\.33/);
    assert.equal(await s.page.evaluate(() => window.harness.api.stats().outputs > 0), true);
    await screenshot(s, 'tr', 'training-done-dark');
  });

  void it('a payload of another run replaces the view', async () => {
    await s.page.evaluate(async (p) => void (await window.harness.render('tr', 'application/vnd.affordance-lab.training.v1+json', p)), trainingPayload(100, 'running', 'run-2'));
    const replaced = await s.page.evaluate(() => document.querySelector('#out-tr .al-loss-chart') !== (window as unknown as { lossChart: Element }).lossChart);
    assert.equal(replaced, true);
    assert.equal((await traces('#out-tr .al-loss-chart'))[0].x.length, 20);
  });
});

void describe('dataset', () => {
  void it('draws class counts and the contact matrix', async () => {
    await s.page.evaluate(async (p) => void (await window.harness.render('ds', 'application/vnd.affordance-lab.dataset.v1+json', p)), await datasetPayload());
    const counts = await traces('#out-ds .al-counts-chart');
    assert.deepEqual(counts.map((t) => t.name), ['interactive', 'non-interactive']);
    assert.equal(counts[0].x.length, 23);
    const matrix = await s.page.evaluate(() => {
      const el = document.querySelector('#out-ds .al-matrix-chart') as HTMLElement & { data: { type: string; y: string[]; z: number[][] }[] };
      return { type: el.data[0].type, y: el.data[0].y, rows: el.data[0].z.length, cols: el.data[0].z[0].length };
    });
    assert.deepEqual(matrix, { type: 'heatmap', y: ['Back', 'Hips', 'Hands', 'Feet', 'Mouth', 'Outside'], rows: 6, cols: 23 });
    assert.match((await s.page.locator('#out-ds .al-totals').textContent()) ?? '', /23 classes.*3 problems/);
  });

  void it('filters thumbnails by class and kind', async () => {
    const shown = (): Promise<number> => s.page.locator('#out-ds figure.al-thumb').count();
    assert.equal(await shown(), 12);
    const firstClass = paperData().perClassKLD.seen.classes[0];
    await s.page.selectOption('#out-ds select.al-class-filter', firstClass);
    assert.equal(await shown(), 3);
    const classes = await s.page.$$eval('#out-ds figure.al-thumb', (fs) => fs.map((f) => (f as HTMLElement).dataset.class));
    assert.ok(classes.every((c) => c === firstClass));
    await s.page.selectOption('#out-ds select.al-kind-filter', 'non_interactive');
    assert.equal(await shown(), 1);
    assert.equal(await s.page.locator('#out-ds .al-thumb-count').textContent(), '1 of 1 shown (12 in all)');
    await s.page.selectOption('#out-ds select.al-class-filter', '');
    await s.page.selectOption('#out-ds select.al-kind-filter', '');
    const loaded = await s.page.$$eval('#out-ds figure.al-thumb img', (imgs) => Promise.all(imgs.map((i) => (i as HTMLImageElement).decode().then(() => (i as HTMLImageElement).naturalWidth))));
    assert.ok(loaded.every((w) => w === 48), `thumbnails decode: ${loaded.join(',')}`);
  });

  void it('clicking a class in the counts chart shows its samples', async () => {
    const classes = paperData().perClassKLD.seen.classes;
    // Third class's interactive bar (fixture thumbnails cover the first four classes).
    const bar = s.page.locator('#out-ds .al-counts-chart .trace.bars').first().locator('.point').nth(2);
    await bar.scrollIntoViewIfNeeded();
    const box = await bar.boundingBox();
    assert.ok(box);
    await s.page.mouse.move(box.x + box.width / 2, box.y + box.height - 3);
    await s.page.mouse.click(box.x + box.width / 2, box.y + box.height - 3);
    await s.page.waitForFunction(() => (document.querySelector('#out-ds select.al-class-filter') as HTMLSelectElement).value !== '', undefined, { timeout: 5000 });
    assert.equal(await s.page.locator('#out-ds select.al-class-filter').inputValue(), classes[2]);
    const shown = await s.page.$$eval('#out-ds figure.al-thumb', (fs) => fs.map((f) => (f as HTMLElement).dataset.class));
    assert.ok(shown.length === 3 && shown.every((c) => c === classes[2]), `thumbnails shown: ${shown.join(', ')}`);
    await s.page.selectOption('#out-ds select.al-class-filter', '');
  });

  void it('lists the problems with file and line', async () => {
    const items = await s.page.$$eval('#out-ds .al-errors li', (lis) => lis.map((l) => l.textContent));
    assert.deepEqual(items, ['Seen/trainset/pairs.txt:12: refers to a missing image Sit_on/0099.jpg', 'Seen/trainset/Kick/0004.json: keypoints: expected 17 entries, got 16', 'Seen/trainset/Cut/0010.png: mask is 120x90, image is 128x96']);
    await screenshot(s, 'ds', 'dataset-dark');
  });
});

void it('no page errors were raised', async () => {
  assert.deepEqual(await s.page.evaluate(() => window.harnessErrors), []);
  assert.ok(MIMES.metrics);
});
