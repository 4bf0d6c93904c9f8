/**
 * Real-browser harness for the renderer tests and benchmark: builds the bundle when it is older than its
 * sources, serves dist/renderer and harness.html from 127.0.0.1 on an ephemeral port (ES module chunks
 * need http, not file://), and opens the page in headless Chromium through playwright-core.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { chromium, type Browser, type CDPSession, type Page } from 'playwright-core';

export const ROOT = resolve(__dirname, '../..');
export const BUNDLE_DIR = join(ROOT, 'dist/renderer');
export const SCREENSHOT_DIR = join(ROOT, 'out/renderer-screenshots');

const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** The page-side harness (see harness.html). */
export interface PageHarness {
  render(id: string, mime: string, payload: unknown, raw?: boolean): Promise<number>;
  renderCancelled(id: string, mime: string, payload: unknown): Promise<void>;
  dispose(id: string, removeElement?: boolean): void;
  disposeAll(): void;
  setTheme(name: 'dark' | 'light'): void;
  element(id: string): HTMLElement;
  api: { stats(): { outputs: number; themeListeners: number } };
  renderer: {
    renderStandalone(container: HTMLElement, mime: string, payload: unknown): Promise<{ id: string; update(p: unknown): Promise<void>; dispose(): void }>;
  };
}

declare global {
  interface Window {
    harness: PageHarness;
    harnessReady: true | string | undefined;
    harnessErrors: string[];
  }
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = statSync(p);
    newest = Math.max(newest, st.isDirectory() ? newestMtime(p) : st.mtimeMs);
  }
  return newest;
}

/** Builds dist/renderer with the project's esbuild script unless it is newer than renderer/ and the protocol. */
export function ensureBundle(): void {
  const bundle = join(BUNDLE_DIR, 'renderer.js');
  const sources = Math.max(newestMtime(join(ROOT, 'renderer')), statSync(join(ROOT, 'kernel/protocol.ts')).mtimeMs);
  if (existsSync(bundle) && statSync(bundle).mtimeMs >= sources) return;
  const r = spawnSync(process.execPath, ['esbuild.mjs'], { cwd: ROOT, encoding: 'utf8' });
  // Another runtime's bundle may fail to build while the renderer's is written fine; only ours matters here.
  if (!existsSync(bundle) || statSync(bundle).mtimeMs < sources) {
    throw new Error(`building the renderer bundle failed (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
  }
}

const TYPES: Record<string, string> = { '.js': 'text/javascript; charset=utf-8', '.map': 'application/json', '.html': 'text/html; charset=utf-8' };

/** Serves `/` (harness.html) and `/renderer/**` (the bundle). Records every path asked for. */
export async function startServer(): Promise<{ url: string; requests: string[]; close(): Promise<void> }> {
  const requests: string[] = [];
  const harness = readFileSync(join(__dirname, 'harness.html'));
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    requests.push(path);
    if (path === '/' || path === '/harness.html') {
      res.writeHead(200, { 'content-type': TYPES['.html'] }).end(harness);
      return;
    }
    if (path.startsWith('/renderer/')) {
      const file = normalize(join(BUNDLE_DIR, path.slice('/renderer/'.length)));
      if (file.startsWith(BUNDLE_DIR + sep) && existsSync(file) && statSync(file).isFile()) {
        res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
        return;
      }
    }
    res.writeHead(404).end('not found');
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    requests,
    close: () => new Promise<void>((ok) => server.close(() => ok())),
  };
}

/** A browser with the harness page open. */
export interface Session {
  browser: Browser;
  page: Page;
  cdp: CDPSession;
  requests: string[];
  close(): Promise<void>;
}

/** Launches Chromium once and opens the harness page (dark theme). */
export async function openHarness(opts: { deviceScaleFactor?: number; width?: number } = {}): Promise<Session> {
  ensureBundle();
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const server = await startServer();
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS, headless: true });
  try {
    const context = await browser.newContext({ viewport: { width: opts.width ?? 920, height: 900 }, deviceScaleFactor: opts.deviceScaleFactor ?? 1 });
    const page = await context.newPage();
    // Any dialog (alert from an injected handler) is recorded by the tests that look for it, then dismissed.
    page.on('dialog', (d) => void d.dismiss().catch(() => undefined));
    await page.goto(server.url);
    await page.waitForFunction(() => window.harnessReady !== undefined);
    const ready = await page.evaluate(() => window.harnessReady);
    if (ready !== true) throw new Error(`harness page did not start: ${String(ready)}`);
    const cdp = await context.newCDPSession(page);
    await cdp.send('Performance.enable');
    return {
      browser,
      page,
      cdp,
      requests: server.requests,
      close: async () => {
        await browser.close();
        await server.close();
      },
    };
  } catch (e) {
    await browser.close();
    await server.close();
    throw e;
  }
}

/** DOM node and JS event listener counts after a forced garbage collection. */
export async function liveCounts(s: Session): Promise<{ nodes: number; listeners: number }> {
  await s.cdp.send('HeapProfiler.collectGarbage');
  const { metrics } = await s.cdp.send('Performance.getMetrics');
  const get = (n: string): number => metrics.find((m) => m.name === n)?.value ?? NaN;
  return { nodes: get('Nodes'), listeners: get('JSEventListeners') };
}

/** Saves a screenshot of one output (its cell element) under out/renderer-screenshots. */
export async function screenshot(s: Session, id: string, name: string): Promise<string> {
  const path = join(SCREENSHOT_DIR, `${name}.png`);
  await s.page.locator(`#out-${id}`).screenshot({ path });
  return path;
}

/** Reads one canvas pixel at a fraction of its CSS box (works at any devicePixelRatio). */
export async function canvasPixel(page: Page, selector: string, fx: number, fy: number): Promise<[number, number, number, number]> {
  return page.evaluate(
    ({ selector, fx, fy }) => {
      const c = document.querySelector(selector);
      if (!(c instanceof HTMLCanvasElement)) throw new Error(`no canvas matches ${selector}`);
      const ctx = c.getContext('2d');
      if (!ctx) throw new Error(`canvas ${selector} has no 2d context`);
      const x = Math.min(c.width - 1, Math.floor(fx * c.width));
      const y = Math.min(c.height - 1, Math.floor(fy * c.height));
      return Array.from(ctx.getImageData(x, y, 1, 1).data) as [number, number, number, number];
    },
    { selector, fx, fy },
  );
}
