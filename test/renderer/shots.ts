/**
 * Review screenshots of the heatmap grid, the per-class KLD chart and the dataset view, in the dark and
 * the light theme, from a given renderer bundle (so a build of an older tree can be compared).
 * Usage: node --import tsx test/renderer/shots.ts <bundle dir> <out dir> <name prefix>
 * Each PNG is scaled to at most 760 px wide and palette-compressed, small enough to commit.
 */
import { mkdirSync, readFileSync, existsSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { chromium } from 'playwright-core';
import sharp from 'sharp';
import type { HeatmapPayload } from '../../kernel/protocol';
import { CHANNELS, HOT_SPOTS, datasetPayload, gaussianMap, metricsPayload, pngImage, scenePixel } from './fixtures';

const [bundleArg, outArg, prefix = 'shot'] = process.argv.slice(2);
if (!bundleArg || !outArg) throw new Error('usage: shots.ts <bundle dir> <out dir> <name prefix>');
const bundle = resolve(bundleArg);
const outDir = resolve(outArg);
mkdirSync(outDir, { recursive: true });

const PEAKS: Record<(typeof CHANNELS)[number], number> = { Back: 0.0027, Hips: 0.05, Hands: 0.38, Feet: 0.2, Mouth: 0.01, Outside: 0.12 };

async function heatmap(): Promise<HeatmapPayload> {
  return {
    version: 1,
    title: 'PIAL-Net: D_non vs GT (best and worst class)',
    image: await pngImage(224, 224, scenePixel(224, 224)),
    maps: CHANNELS.map((c) => gaussianMap(c, 56, HOT_SPOTS[c][0], HOT_SPOTS[c][1], 0.07, PEAKS[c])),
    gt: CHANNELS.map((c) => gaussianMap(c, 56, HOT_SPOTS[c][0] + 0.05, HOT_SPOTS[c][1] + 0.03, 0.06, 1)),
    colormap: 'turbo',
    opacity: 0.6,
  };
}

async function main(): Promise<void> {
  const harness = readFileSync(join(__dirname, 'harness.html'));
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    if (path === '/') return void res.writeHead(200, { 'content-type': 'text/html' }).end(harness);
    const file = normalize(join(bundle, path.slice('/renderer/'.length)));
    if (path.startsWith('/renderer/') && file.startsWith(bundle + sep) && existsSync(file) && statSync(file).isFile()) {
      return void res.writeHead(200, { 'content-type': extname(file) === '.js' ? 'text/javascript' : 'application/octet-stream' }).end(readFileSync(file));
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'], headless: true });
  try {
    const page = await browser.newPage({ viewport: { width: 920, height: 1000 } });
    await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    await page.waitForFunction(() => window.harnessReady !== undefined);
    const payloads = { heatmap: await heatmap(), kld: metricsPayload({ runs: 2, allReferences: true, title: 'Per-class KLD: two runs and the published rows' }), dataset: await datasetPayload() };
    for (const theme of ['dark', 'light'] as const) {
      await page.evaluate((t) => window.harness.setTheme(t), theme);
      await page.evaluate(async (p) => void (await window.harness.render('heatmap', 'application/vnd.affordance-lab.heatmap.v1+json', p)), payloads.heatmap);
      await page.selectOption('#out-heatmap select.al-channel', { label: 'all channels' });
      // A hover on the top row: where the value under the pointer shows up.
      const canvas = page.locator('#out-heatmap canvas.al-view').nth(2);
      const box = await canvas.boundingBox();
      if (box) await page.mouse.move(box.x + HOT_SPOTS.Hands[0] * box.width, box.y + HOT_SPOTS.Hands[1] * box.height);
      await page.waitForTimeout(100);
      await shot(page, 'heatmap', `${prefix}-heatmap-grid-${theme}`);
      await page.mouse.move(0, 0);
      await page.evaluate(async (p) => void (await window.harness.render('kld', 'application/vnd.affordance-lab.metrics.v1+json', p)), payloads.kld);
      for (const m of ['SIM', 'NSS']) await page.locator(`#out-kld input.al-metric-toggle[data-metric="${m}"]`).uncheck();
      await page.waitForTimeout(300);
      await shot(page, 'kld', `${prefix}-kld-chart-${theme}`);
      await page.evaluate(async (p) => void (await window.harness.render('dataset', 'application/vnd.affordance-lab.dataset.v1+json', p)), payloads.dataset);
      // Shelter has no thumbnail in this payload.
      await page.selectOption('#out-dataset select.al-class-filter', 'Shelter', { timeout: 1000 }).catch(() => undefined);
      await page.waitForTimeout(300);
      await shot(page, 'dataset', `${prefix}-dataset-${theme}`);
      await page.evaluate(() => window.harness.disposeAll());
    }
  } finally {
    await browser.close();
    server.close();
  }
}

async function shot(page: import('playwright-core').Page, id: string, name: string): Promise<void> {
  const png = await page.locator(`#out-${id}`).screenshot();
  const file = join(outDir, `${name}.png`);
  const info = await sharp(png).resize({ width: 760, withoutEnlargement: true }).png({ palette: true, colours: 128, compressionLevel: 9, effort: 10 }).toFile(file);
  console.log(`${file}: ${info.width}x${info.height}, ${(info.size / 1024).toFixed(0)} KB`);
}

void main();
