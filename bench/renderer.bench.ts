/**
 * Renderer timings in headless Chromium (the test harness page, device scale factor 1):
 *   renderer.heatmap_512_ms       renderOutputItem -> canvas drawn, 512x512 PNG image with one 512x512 map (median)
 *   renderer.heatmap_512_p90_ms   the same, 90th percentile
 *   renderer.metrics_chart_ms     23 classes x 3 metrics x 3 runs, plotly already loaded (median)
 *   renderer.metrics_chart_cold_ms the first metrics output of the page, including the plotly chunk load
 * Times are measured inside the page with performance.now() around the renderer's own promise, so
 * browser start-up and the Node <-> page round trip are not counted.
 */
import { percentile, record } from './record';
import { openHarness } from '../test/renderer/browser';
import { gaussianMap, metricsPayload, pngImage, scenePixel } from '../test/renderer/fixtures';
import type { HeatmapPayload } from '../kernel/protocol';

const HEATMAP_RUNS = 25;
const METRICS_RUNS = 9;

async function main(): Promise<void> {
  const s = await openHarness();
  try {
    const heatmap: HeatmapPayload = {
      version: 1,
      title: 'bench',
      image: await pngImage(512, 512, scenePixel(512, 512)),
      maps: [gaussianMap('Hands', 512, 0.6, 0.4, 0.1, 1)],
      colormap: 'turbo',
      opacity: 0.6,
    };
    const hm = await s.page.evaluate(
      async ({ p, runs }) => {
        const times: number[] = [];
        for (let i = 0; i < runs + 3; i++) {
          const t = await window.harness.render(`bench-hm-${i}`, 'application/vnd.affordance-lab.heatmap.v1+json', p);
          window.harness.dispose(`bench-hm-${i}`);
          if (i >= 3) times.push(t);
        }
        return times;
      },
      { p: heatmap, runs: HEATMAP_RUNS },
    );

    const metrics = metricsPayload({ runs: 3, reference: false });
    const mx = await s.page.evaluate(
      async ({ p, runs }) => {
        const times: number[] = [];
        for (let i = 0; i < runs + 1; i++) {
          times.push(await window.harness.render(`bench-mx-${i}`, 'application/vnd.affordance-lab.metrics.v1+json', p));
          window.harness.dispose(`bench-mx-${i}`);
        }
        return times;
      },
      { p: metrics, runs: METRICS_RUNS },
    );
    const charts = metrics.metrics.length * metrics.runs.length;
    if (charts !== 9) throw new Error(`expected 3 metrics x 3 runs, got ${charts} traces`);

    record({
      'renderer.heatmap_512_ms': percentile(hm, 50),
      'renderer.heatmap_512_p90_ms': percentile(hm, 90),
      'renderer.metrics_chart_ms': percentile(mx.slice(1), 50),
      'renderer.metrics_chart_cold_ms': mx[0],
      'renderer.browser': `${s.browser.version()} headless, /usr/bin/chromium`,
    });
  } finally {
    await s.close();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
