/**
 * Plotly, loaded on demand. `import()` makes esbuild put plotly in its own chunk, fetched only when an
 * output that charts is drawn (heatmaps and keypoints never load it). Each chart is purged when its view
 * is disposed and re-laid out with the theme's colours on every draw.
 */
import type { PlotData, PlotlyStatic } from 'plotly.js-cartesian-dist-min';
import { DisposableStore, checkSignal, h, onResize } from './dom';
import { readTheme, type Theme } from './theme';

let loading: Promise<PlotlyStatic> | undefined;

/** Loads plotly once per page; a failed load is retried by the next caller. */
export function loadPlotly(): Promise<PlotlyStatic> {
  loading ??= import('plotly.js-cartesian-dist-min').then(
    (m) => m.default,
    (e: unknown) => {
      loading = undefined;
      throw new Error(`the chart library (plotly.js) could not be loaded: ${e instanceof Error ? e.message : String(e)}`);
    },
  );
  return loading;
}

/**
 * The mode bar's buttons, all local: a PNG download and the view controls. Plotly's defaults also offer
 * "Edit in Chart Studio" (`sendChartToCloud`, on by default in plotly.js 4), which uploads the chart's
 * data to a web service; the list below leaves it and anything like it out, and so do the flags.
 */
export const MODE_BAR_BUTTONS = ['toImage', 'zoom2d', 'pan2d', 'zoomIn2d', 'zoomOut2d', 'resetScale2d'] as const;

const CONFIG: PlotData = {
  displaylogo: false,
  showSendToCloud: false,
  showLink: false,
  // Without a server URL, nothing in plotly can post a chart anywhere.
  plotlyServerURL: '',
  showTips: false,
  // Plotly's own `responsive` adds a window listener per chart; a ResizeObserver per chart is released with it.
  responsive: false,
  displayModeBar: 'hover',
  modeBarButtons: [[...MODE_BAR_BUTTONS]],
  toImageButtonOptions: { format: 'png', scale: 2 },
};

/** Height of the top band that holds the title (left) and the mode bar (right). */
const TITLE_BAND = 30;
/** Height of one row of a legend laid out above the plot, under the title band. */
const LEGEND_ROW = 22;

/** A chart's title, at the left of the top band (the mode bar has its right end). */
export function chartTitle(theme: Theme, text: string): PlotData {
  return { text, x: 0, xref: 'container', xanchor: 'left', y: 1, yref: 'container', yanchor: 'top', pad: { t: 7, l: 4 }, font: { size: theme.fontSize + 1, color: theme.foreground } };
}

/**
 * A horizontal legend in its own band between the title band and the plot, so the mode bar (top right)
 * never covers an entry; `margin.t` makes room for it. Spread the result into the layout.
 */
export function legendAbove(theme: Theme, rows = 1): PlotData {
  return {
    legend: { orientation: 'h', x: 0, xanchor: 'left', y: 1, yanchor: 'bottom', font: { color: theme.foreground } },
    margin: { l: 56, r: 16, t: TITLE_BAND + LEGEND_ROW * rows + 6, b: 8 },
  };
}

/** Axis styling from the theme, merged with `extra`. */
export function axis(theme: Theme, extra: PlotData = {}): PlotData {
  return {
    gridcolor: theme.grid,
    linecolor: theme.border,
    zerolinecolor: theme.border,
    tickcolor: theme.border,
    automargin: true,
    ...extra,
  };
}

/** Layout with the theme's colours (transparent backgrounds: the cell output's own background shows). */
export function baseLayout(theme: Theme, extra: PlotData = {}): PlotData {
  return {
    autosize: true,
    // A constant uirevision keeps what the user did (zoom, traces hidden from the legend) across redraws.
    uirevision: 'affordance-lab',
    paper_bgcolor: 'rgba(0,0,0,0)',
    plot_bgcolor: 'rgba(0,0,0,0)',
    font: { color: theme.foreground, family: theme.fontFamily, size: Math.max(10, theme.fontSize - 1) },
    colorway: theme.series,
    margin: { l: 56, r: 16, t: TITLE_BAND + 10, b: 8 },
    legend: { orientation: 'h', x: 0, y: 1.0, yanchor: 'bottom', font: { color: theme.foreground } },
    modebar: { bgcolor: 'rgba(0,0,0,0)', color: theme.muted, activecolor: theme.foreground },
    hoverlabel: { bgcolor: theme.background, bordercolor: theme.border, font: { color: theme.foreground } },
    xaxis: axis(theme),
    yaxis: axis(theme),
    ...extra,
  };
}

/** One plotly chart in a div, purged with the view. */
export interface Chart {
  el: HTMLDivElement;
  /** Draws or redraws in place (Plotly.react) with the current theme. */
  draw(build: (theme: Theme) => { data: PlotData[]; layout: PlotData }): Promise<void>;
  /** Calls `fn` with the x index of a clicked bar or cell (after the first draw; removed by purge). */
  onClick(fn: (xIndex: number, yIndex: number | undefined) => void): void;
}

/**
 * Creates a chart container under `parent`. The plotly instance is passed in so that views await the
 * library once, then create their charts synchronously.
 */
export function createChart(parent: HTMLElement, Plotly: PlotlyStatic, store: DisposableStore, className: string, attrs: Record<string, string> = {}): Chart {
  const el = h('div', { className: `al-chart ${className}`, attrs });
  parent.append(el);
  let drawn = false;
  const clickHandlers: ((x: number, y: number | undefined) => void)[] = [];
  let clickBound = false;
  store.defer(() => {
    Plotly.purge(el);
    el.remove();
  });
  onResize(
    el,
    () => {
      if (drawn && el.isConnected && el.clientWidth > 0) void Promise.resolve(Plotly.Plots.resize(el)).catch(() => undefined);
    },
    store,
  );
  return {
    el,
    async draw(build) {
      if (store.isDisposed) return;
      const { data, layout } = build(readTheme(el));
      const plot = await Plotly.react(el, data, layout, CONFIG);
      drawn = true;
      if (!clickBound && clickHandlers.length) {
        clickBound = true;
        plot.on('plotly_click', (e) => {
          const pt = e.points[0];
          if (!pt) return;
          // Heatmaps report [row, column] in pointNumber; bars their index.
          const pn = pt.pointNumber;
          const [yi, xi] = Array.isArray(pn) ? pn : [undefined, pt.pointIndex ?? pn];
          if (typeof xi === 'number') for (const fn of clickHandlers) fn(xi, yi);
        });
      }
    },
    onClick(fn) {
      clickHandlers.push(fn);
    },
  };
}

/** Awaits plotly for a view, honouring the render's cancellation. */
export async function plotlyFor(signal: AbortSignal): Promise<PlotlyStatic> {
  const Plotly = await loadPlotly();
  checkSignal(signal);
  return Plotly;
}
