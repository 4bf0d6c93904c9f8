/**
 * The HTML report (scripts/build-report.mjs) in headless Chromium: notebook markdown rendered as VS
 * Code renders it (markdown-it: tables, links, images, code), raw HTML in markdown shown as text and
 * never run, and Affordance Lab outputs drawn by the bundled renderer.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ROOT, SCREENSHOT_DIR } from './browser';
import { MIMES, metricsPayload, solidPng } from './fixtures';

let browser: Browser;
let page: Page;
let dir: string;
const dialogs: string[] = [];

const MARKDOWN = [
  '# Results on SynCAL',
  '',
  'Per-class KLD of the **small** model, see [the paper](https://example.org/pial) or https://example.org/cal.',
  '',
  '| class | KLD ↓ | SIM ↑ |',
  '|---|---:|---:|',
  '| Sit on | 1.234 | 0.512 |',
  '| Kick | 0.987 | 0.601 |',
  '',
  '- first item with `inline code`',
  '- second ~~item~~',
  '',
  '<script>window.pwned = 1</script><img src=x onerror="window.pwned = 2">',
  '',
  '[click](javascript:window.pwned=3)',
  '',
].join('\n');

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'al-report-'));
  const dot = await solidPng(8, 8, 200);
  const nb = {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {},
    cells: [
      { cell_type: 'markdown', metadata: {}, source: `${MARKDOWN}\n![a grey square](data:image/png;base64,${dot.data})\n` },
      { cell_type: 'code', metadata: {}, execution_count: 1, source: 'metricsOutput(runs)', outputs: [{ output_type: 'display_data', metadata: {}, data: { [MIMES.metrics]: metricsPayload({ runs: 1 }), 'text/markdown': '| a | b |\n|---|---|\n| 1 | 2 |\n' } }] },
    ],
  };
  writeFileSync(join(dir, 'nb.ipynb'), JSON.stringify(nb));
  const r = spawnSync(process.execPath, ['scripts/build-report.mjs', join(dir, 'report.html'), join(dir, 'nb.ipynb')], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(r.status, 0, `build-report failed:\n${r.stdout}\n${r.stderr}`);
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--no-first-run'], headless: true });
  page = await browser.newPage({ viewport: { width: 1150, height: 900 } });
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss().catch(() => undefined);
  });
  await page.goto(pathToFileURL(join(dir, 'report.html')).href);
  await page.waitForSelector('.al-metric-chart .main-svg', { timeout: 30_000 });
});
after(async () => {
  await browser?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

void describe('report markdown', () => {
  void it('renders tables, links, lists, code and images as the notebook shows them', async () => {
    const md = page.locator('section.notebook > .md').first();
    assert.equal(await md.locator('h1').textContent(), 'Results on SynCAL');
    const rows = await md.locator('table tr').evaluateAll((trs) => trs.map((tr) => Array.from(tr.children).map((c) => c.textContent)));
    assert.deepEqual(rows, [['class', 'KLD ↓', 'SIM ↑'], ['Sit on', '1.234', '0.512'], ['Kick', '0.987', '0.601']]);
    assert.equal(await md.locator('td').nth(1).evaluate((td) => getComputedStyle(td).textAlign), 'right', 'alignment from the separator row');
    assert.equal(await md.locator('a[href="https://example.org/pial"]').textContent(), 'the paper');
    assert.equal(await md.locator('a[href="https://example.org/cal"]').count(), 1, 'bare links become links');
    assert.equal(await md.locator('strong').textContent(), 'small');
    assert.deepEqual(await md.locator('li').allTextContents(), ['first item with inline code', 'second item']);
    assert.equal(await md.locator('li code').textContent(), 'inline code');
    assert.equal(await md.locator('li s').textContent(), 'item');
    const img = md.locator('img[alt="a grey square"]');
    assert.equal(await img.evaluate((i) => (i as HTMLImageElement).decode().then(() => (i as HTMLImageElement).naturalWidth)), 8);
    await page.locator('section.notebook').first().screenshot({ path: join(SCREENSHOT_DIR, 'report-markdown.png') });
  });

  void it('shows HTML in markdown as text and runs none of it', async () => {
    const md = page.locator('section.notebook > .md').first();
    assert.match((await md.textContent()) ?? '', /<script>window\.pwned = 1<\/script><img src=x onerror="window\.pwned = 2">/);
    assert.equal(await md.locator('script').count(), 0);
    assert.equal(await md.locator('img[src="x"]').count(), 0);
    assert.equal(await md.locator('a[href^="javascript:"]').count(), 0, 'javascript: links are not links');
    assert.equal(await page.evaluate(() => (window as { pwned?: number }).pwned), undefined);
    assert.deepEqual(dialogs, []);
  });

  void it('still draws the rich outputs with the bundled renderer', async () => {
    assert.equal(await page.locator('.al-output .al-metric-chart').count(), 3);
  });
});
