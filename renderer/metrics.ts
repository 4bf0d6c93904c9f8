/**
 * Metrics view: per-class bar charts (one per metric) of several runs side by side, published rows as
 * reference lines or outlined bars, Seen/Unseen and metric toggles, classes sortable by value, and a
 * table view with the best value of each row in bold.
 */
import type { MetricName, MetricsPayload, MetricsRun, SplitName } from '../kernel/protocol';
import { axis, baseLayout, chartTitle, createChart, legendAbove, plotlyFor, type Chart } from './charts';
import { checkboxControl, fmtTable, h, onResize, plotText, segmentedControl, selectControl } from './dom';
import type { View, ViewEnv } from './renderer';
import { onThemeChange, type Theme } from './theme';
import { checkMetrics } from './validate';
import { savedBool, savedNumber, savedOneOf } from './memory';

/** KLD is a divergence (lower is better); the others are similarities (higher is better). */
const LOWER_IS_BETTER: Record<MetricName, boolean> = { KLD: true, SIM: false, NSS: false, CC: false };

type SortDir = 'none' | 'asc' | 'desc';
type RefMode = 'lines' | 'bars' | 'hidden';
/** Rows of the charts and table: the classes, or the body parts (contact channels). */
type Grouping = 'class' | 'part';
/**
 * The KLD axis: fitted to the runs (published rows beyond it drawn as markers at its edge), spanning
 * every row, or logarithmic.
 */
type KldAxis = 'fit' | 'all' | 'log';
const KLD_AXES: Record<KldAxis, string> = { fit: 'fit runs', all: 'all rows', log: 'log' };

interface MetricsState {
  split: SplitName;
  metrics: Set<MetricName>;
  refMode: RefMode;
  view: 'chart' | 'table';
  sortRun: number;
  sortMetric: MetricName;
  sortDir: SortDir;
  group: Grouping;
  /** Published KLDs span 0.1 to 19, which flattens the runs (about 1 to 2) on an axis that shows them all. */
  kldAxis: KldAxis;
}

/** Values of 1-2-5 steps (…, 0.5, 1, 2, 5, 10, 20, …) from below lo to above hi: readable log-axis ticks. */
export function logTicks(lo: number, hi: number): number[] {
  const ticks: number[] = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
    for (const m of [1, 2, 5]) {
      const v = Number((m * 10 ** e).toPrecision(1));
      if (v >= lo / 2.2 && v <= hi * 2.2) ticks.push(v);
    }
  }
  return ticks;
}

function value(run: MetricsRun, split: SplitName, key: string | null, metric: MetricName, group: Grouping = 'class'): number | null {
  const r = run.results[split];
  if (!r) return null;
  const v = key === null ? r.overall[metric] : (group === 'part' ? r.perPart : r.perClass)?.[key]?.[metric];
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/** Draws a metrics payload into `root`. */
export async function renderMetrics(root: HTMLElement, payload: unknown, env: ViewEnv): Promise<View> {
  const p: MetricsPayload = checkMetrics(payload);
  const { store, signal } = env;
  const splits = (['Seen', 'Unseen'] as const).filter((s) => p.runs.some((r) => r.results[s]));
  if (splits.length === 0) throw new Error('metrics payload: no run has Seen or Unseen results to show');
  const firstRun = Math.max(0, p.runs.findIndex((r) => r.kind === 'run'));
  const hasParts = p.runs.some((r) => Object.values(r.results).some((x) => Object.keys(x?.perPart ?? {}).length > 0));
  const saved = env.memory.load();
  const savedMetrics = Array.isArray(saved.metrics) ? p.metrics.filter((m) => (saved.metrics as unknown[]).includes(m)) : undefined;
  const state: MetricsState = {
    split: savedOneOf(saved.split, splits) ?? splits[0],
    metrics: new Set(savedMetrics ?? p.metrics),
    refMode: savedOneOf(saved.refMode, ['lines', 'bars', 'hidden'] as const) ?? 'lines',
    view: savedOneOf(saved.view, ['chart', 'table'] as const) ?? 'chart',
    sortRun: Number.isInteger(saved.sortRun) ? (savedNumber(saved.sortRun, 0, p.runs.length - 1) ?? firstRun) : firstRun,
    sortMetric: savedOneOf(saved.sortMetric, p.metrics) ?? p.metrics[0],
    sortDir: savedOneOf(saved.sortDir, ['none', 'asc', 'desc'] as const) ?? 'none',
    group: hasParts ? (savedOneOf(saved.group, ['class', 'part'] as const) ?? 'class') : 'class',
    kldAxis: savedOneOf(saved.kldAxis, ['fit', 'all', 'log'] as const) ?? (savedBool(saved.log) ? 'log' : 'fit'),
  };
  const remember = (): void => env.memory.save({ ...state, metrics: [...state.metrics] });
  const hasRefs = p.runs.some((r) => r.kind === 'reference');
  // Controls are created before the charts exist; they redraw through this late-bound hook.
  let redraw: () => Promise<void> = () => Promise.resolve();
  const refresh = (): void => {
    remember();
    redraw().catch((e: unknown) => console.error('Affordance Lab metrics: redraw failed', e));
  };

  // ---- controls ----
  const toolbar = h('div', { className: 'al-toolbar' });
  const splitCtl = segmentedControl('Split', splits, state.split, 'al-split', (v) => {
    state.split = v as SplitName;
    refresh();
  }, store);
  toolbar.append(splitCtl.wrap);
  const metricBoxes = p.metrics.map((m) => {
    const c = checkboxControl(m, state.metrics.has(m), 'al-metric-toggle');
    c.input.dataset.metric = m;
    store.listen(c.input, 'change', () => {
      if (c.input.checked) state.metrics.add(m);
      else state.metrics.delete(m);
      refresh();
    });
    return c.wrap;
  });
  toolbar.append(h('span', { className: 'al-control' }, h('span', { text: 'Metrics' }), ...metricBoxes));
  const sortCtl = selectControl('Sort', [{ value: 'none', label: 'as listed' }, { value: 'asc', label: 'by value ↑' }, { value: 'desc', label: 'by value ↓' }], state.sortDir, 'al-sort');
  store.listen(sortCtl.select, 'change', () => {
    state.sortDir = sortCtl.select.value as SortDir;
    refresh();
  });
  toolbar.append(sortCtl.wrap);
  const sortKey = h('span', { className: 'al-sub al-sort-key' });
  toolbar.append(sortKey);
  if (hasRefs) {
    const refCtl = segmentedControl('Paper rows', ['lines', 'bars', 'hidden'], state.refMode, 'al-refmode', (v) => {
      state.refMode = v as RefMode;
      refresh();
    }, store);
    toolbar.append(refCtl.wrap);
  }
  if (hasParts) {
    const groupCtl = segmentedControl('Rows', ['classes', 'body parts'], state.group === 'part' ? 'body parts' : 'classes', 'al-grouping', (v) => {
      state.group = v === 'body parts' ? 'part' : 'class';
      refresh();
    }, store);
    toolbar.append(groupCtl.wrap);
  }
  if (p.metrics.includes('KLD')) {
    const axisCtl = segmentedControl('KLD axis', Object.values(KLD_AXES), KLD_AXES[state.kldAxis], 'al-kld-axis', (v) => {
      state.kldAxis = (Object.keys(KLD_AXES) as KldAxis[]).find((k) => KLD_AXES[k] === v) ?? 'fit';
      refresh();
    }, store);
    toolbar.append(axisCtl.wrap);
  }
  const viewCtl = segmentedControl('View', ['chart', 'table'], state.view, 'al-viewmode', (v) => {
    state.view = v as 'chart' | 'table';
    refresh();
  }, store);
  toolbar.append(viewCtl.wrap);

  const chartsEl = h('div', { className: 'al-charts' });
  const tableWrap = h('div', { className: 'al-table-wrap' });
  const note = h('div', { className: 'al-note' });
  if (p.title) root.append(h('div', { className: 'al-title', text: p.title }));
  root.append(toolbar, chartsEl, tableWrap, note);

  const classesOf = (split: SplitName): string[] => {
    const seen = new Set<string>();
    for (const r of p.runs) for (const c of Object.keys((state.group === 'part' ? r.results[split]?.perPart : r.results[split]?.perClass) ?? {})) seen.add(c);
    // "As listed" is the payload's own order: object keys lose it when a notebook is saved (its JSON
    // sorts keys), the arrays keep it. Rows the arrays do not name follow in key order.
    const order = state.group === 'part' ? p.partOrder : p.classOrder;
    if (!order) return [...seen];
    return [...order.filter((c) => seen.delete(c)), ...seen];
  };

  const orderedClasses = (): string[] => {
    const classes = classesOf(state.split);
    if (state.sortDir === 'none') return classes;
    const run = p.runs[state.sortRun];
    const sign = state.sortDir === 'asc' ? 1 : -1;
    return classes
      .map((c, i) => ({ c, i, v: value(run, state.split, c, state.sortMetric, state.group) }))
      .sort((a, b) => (a.v === null ? (b.v === null ? a.i - b.i : 1) : b.v === null ? -1 : sign * (a.v - b.v) || a.i - b.i))
      .map((x) => x.c);
  };

  const visibleRuns = (): { run: MetricsRun; index: number }[] => p.runs.map((run, index) => ({ run, index })).filter(({ run }) => run.kind === 'run' || state.refMode !== 'hidden');

  // ---- charts ----
  const Plotly = await plotlyFor(signal);
  const charts = new Map<MetricName, Chart>();
  for (const m of p.metrics) charts.set(m, createChart(chartsEl, Plotly, store, 'al-metric-chart', { 'data-metric': m }));

  const chartFor = (m: MetricName, rows: string[]) => (theme: Theme) => {
    // Runs without per-class (or per-part) numbers still chart: one group of bars, their overall values.
    const classes: (string | null)[] = rows.length ? rows : [null];
    // Colours follow the run's place in the payload, so a run has the same colour on every chart.
    const colourOf = (run: MetricsRun): string => {
      const same = p.runs.filter((r) => r.kind === run.kind);
      const palette = run.kind === 'run' ? theme.series : theme.reference;
      return palette[same.indexOf(run) % palette.length];
    };
    const x = classes.map((c) => (c === null ? 'Overall' : plotText(c)));
    const axisMode: KldAxis = m === 'KLD' ? state.kldAxis : 'all';
    const log = axisMode === 'log';
    const rowsOf = (run: MetricsRun): (number | null)[] => classes.map((c) => value(run, state.split, c, m, state.group));
    const levelOf = (run: MetricsRun, ys: (number | null)[]): number | null => (ys.some((v) => v !== null) ? null : value(run, state.split, null, m));
    // Fitted axis: the runs set the top; published values above it become markers at the edge.
    const runValues = visibleRuns().filter(({ run }) => run.kind === 'run').flatMap(({ run }) => rowsOf(run)).filter((v): v is number => v !== null);
    const allValues = visibleRuns().flatMap(({ run }) => {
      const ys = rowsOf(run);
      const level = levelOf(run, ys);
      return level === null ? ys : [level];
    }).filter((v): v is number => v !== null);
    const runTop = runValues.length ? Math.max(...runValues) * 1.12 : undefined;
    const top = axisMode === 'fit' && runTop !== undefined && runTop > 0 && allValues.some((v) => v > runTop) ? runTop : undefined;
    let clippedCount = 0;
    const clippedTrace = (run: MetricsRun, xs: string[], vs: number[]): Record<string, unknown> => {
      clippedCount += vs.length;
      const name = plotText(run.name);
      return {
        type: 'scatter', mode: 'markers', name: `${name} · above the axis`, legendgroup: name, showlegend: false, x: xs, y: xs.map(() => top), customdata: vs, cliponaxis: false,
        hovertemplate: `%{x}<br>${name}: %{customdata:.3f} (above the axis)<extra></extra>`,
        marker: { color: colourOf(run), size: 9, symbol: 'triangle-up', line: { color: theme.background, width: 1 } },
      };
    };
    const clip = (run: MetricsRun, ys: (number | null)[]): { shown: (number | null)[]; extra?: Record<string, unknown> } => {
      if (top === undefined) return { shown: ys };
      const xs: string[] = [];
      const vs: number[] = [];
      const shown = ys.map((v, i) => {
        if (v === null || v <= top) return v;
        xs.push(x[i]);
        vs.push(v);
        return null;
      });
      return { shown, extra: xs.length ? clippedTrace(run, xs, vs) : undefined };
    };
    const data: Record<string, unknown>[] = [];
    for (const { run } of visibleRuns()) {
      const y = rowsOf(run);
      const name = plotText(run.name);
      const hovertemplate = `%{x}<br>${name}: %{y:.3f}<extra></extra>`;
      if (run.kind === 'run') {
        // Bar lengths mean nothing on a log axis: points there.
        if (log) data.push({ type: 'scatter', mode: 'markers', name, x, y, hovertemplate, legendgroup: name, marker: { color: colourOf(run), size: 8, symbol: 'circle' } });
        else data.push({ type: 'bar', name, x, y, hovertemplate, legendgroup: name, marker: { color: colourOf(run) } });
        continue;
      }
      const overall = levelOf(run, y);
      // The paper gives per-class KLD only; its overall SIM/NSS (and rows without per-class numbers)
      // still make a useful yardstick: a dashed level line across the chart.
      if (overall === null && !y.some((v) => v !== null)) continue;
      const colour = colourOf(run);
      if (overall !== null) {
        const label = plotText(`${run.name} · overall`);
        if (top !== undefined && overall > top) {
          data.push({ ...clippedTrace(run, [x[x.length - 1]], [overall]), name: label, legendgroup: label, showlegend: true, hovertemplate: `${label}: %{customdata:.3f} (above the axis)<extra></extra>` });
          continue;
        }
        data.push({ type: 'scatter', mode: 'lines', name: label, legendgroup: label, x, y: x.map(() => overall), hovertemplate: `${label}: %{y:.3f}<extra></extra>`, line: { color: colour, width: 1.2, dash: 'dash' } });
        continue;
      }
      const { shown, extra } = clip(run, y);
      if (state.refMode === 'bars' && !log) {
        data.push({ type: 'bar', name, x, y: shown, hovertemplate, legendgroup: name, marker: { color: 'rgba(0,0,0,0)', line: { color: colour, width: 1.5 } } });
      } else {
        data.push({ type: 'scatter', mode: 'lines+markers', name, x, y: shown, hovertemplate, legendgroup: name, line: { color: colour, width: 1.5, dash: 'dot' }, marker: { color: colour, size: 6, symbol: 'diamond' }, connectgaps: false });
      }
      if (extra) data.push(extra);
    }
    const yaxis: Record<string, unknown> = {
      title: { text: `${m} (${LOWER_IS_BETTER[m] ? 'lower' : 'higher'} is better)`, font: { size: theme.fontSize - 1 } },
      type: log ? 'log' : 'linear',
      rangemode: log ? 'normal' : m === 'KLD' || m === 'SIM' ? 'tozero' : 'normal',
    };
    if (top !== undefined) {
      yaxis.range = [0, top];
      yaxis.autorange = false;
    }
    const positive = allValues.filter((v) => v > 0);
    if (log && positive.length) {
      const lo = Math.min(...positive), hi = Math.max(...positive);
      const ticks = logTicks(lo, hi);
      yaxis.tickvals = ticks;
      yaxis.ticktext = ticks.map((t) => String(t));
      yaxis.range = [Math.log10(lo) - 0.08, Math.log10(hi) + 0.08];
      yaxis.autorange = false;
    }
    const legendEntries = data.filter((t) => t.showlegend !== false).length;
    const note = top !== undefined ? ` · axis fits the runs; ▲ ${clippedCount} published value${clippedCount === 1 ? '' : 's'} above it` : '';
    const layout = baseLayout(theme, {
      // A long legend beside the plot gets the height it needs instead of a scrollbar.
      height: legendEntries > 4 ? Math.max(300, 110 + 26 * legendEntries) : 300,
      barmode: 'group',
      bargap: 0.2,
      title: chartTitle(theme, `${m} · ${state.split}${state.group === 'part' ? ' · per body part' : ''}${note}`),
      xaxis: axis(theme, { categoryorder: 'array', categoryarray: x, tickangle: classes.length > 8 ? -40 : 0 }),
      yaxis: axis(theme, yaxis),
      // A few traces fit in one row above the plot (under the title and the mode bar); more go in a
      // column on the right so the plot keeps its height.
      ...(legendEntries > 4
        ? { legend: { orientation: 'v', x: 1.01, xanchor: 'left', y: 1, yanchor: 'top', font: { color: theme.foreground, size: theme.fontSize - 2 } } }
        : legendAbove(theme)),
      datarevision: Date.now(),
    });
    return { data, layout };
  };

  // ---- table ----
  /** One table of the classes (rows) against `metrics` x runs (columns). */
  const buildTable = (classes: string[], metrics: MetricName[]): HTMLTableElement => {
    const runs = visibleRuns();
    const table = h('table', { className: 'al-table' });
    const head1 = h('tr', {}, h('th', { text: '' }));
    const head2 = h('tr', {}, h('th', { text: state.group === 'part' ? 'Body part' : 'Class' }));
    for (const m of metrics) {
      head1.append(h('th', { text: `${m} ${LOWER_IS_BETTER[m] ? '↓' : '↑'}`, className: 'al-group-start', attrs: { colspan: String(runs.length), style: 'text-align:center' } }));
      for (const [i, { run, index }] of runs.entries()) {
        const th = h('th', { text: run.name, className: [run.kind === 'reference' ? 'al-ref' : '', i === 0 ? 'al-group-start' : ''].filter(Boolean).join(' '), attrs: { tabindex: '0', 'data-run': String(index), 'data-metric': m, title: `Sort by ${run.name} ${m}` } });
        if (state.sortDir !== 'none' && state.sortRun === index && state.sortMetric === m) th.setAttribute('aria-sort', state.sortDir === 'asc' ? 'ascending' : 'descending');
        head2.append(th);
      }
    }
    table.append(h('thead', {}, head1, head2));
    const body = h('tbody');
    const row = (label: string, cls: string | null, className = ''): void => {
      const tr = h('tr', { className }, h('td', { text: label }));
      for (const m of metrics) {
        const vals = runs.map(({ run }) => value(run, state.split, cls, m, state.group));
        const present = vals.filter((v): v is number => v !== null);
        const best = present.length > 1 ? (LOWER_IS_BETTER[m] ? Math.min(...present) : Math.max(...present)) : undefined;
        runs.forEach(({ run }, i) => {
          const v = vals[i];
          const classes = [run.kind === 'reference' ? 'al-ref' : '', v !== null && v === best ? 'al-best' : '', i === 0 ? 'al-group-start' : ''].filter(Boolean).join(' ');
          tr.append(h('td', { text: fmtTable(v), className: classes }));
        });
      }
      body.append(tr);
    };
    row('Overall', null, 'al-overall');
    for (const c of classes) row(c, c);
    table.append(body);
    return table;
  };

  /**
   * The table at the output's width: every metric side by side when that fits, else one table per
   * metric, stacked, so no value needs horizontal scrolling to reach.
   */
  const renderTable = (classes: string[]): void => {
    const metrics = p.metrics.filter((m) => state.metrics.has(m));
    tableWrap.classList.remove('al-stacked');
    tableWrap.replaceChildren(buildTable(classes, metrics));
    if (metrics.length > 1 && tableWrap.clientWidth > 0 && tableWrap.scrollWidth > tableWrap.clientWidth + 1) {
      tableWrap.classList.add('al-stacked');
      tableWrap.replaceChildren(...metrics.map((m) => buildTable(classes, [m])));
    }
  };
  let tableWidth = 0;
  onResize(
    tableWrap,
    () => {
      // Only a change of the available width can change the layout (not the table's own rebuilds).
      if (state.view !== 'table' || tableWrap.clientWidth === tableWidth) return;
      tableWidth = tableWrap.clientWidth;
      renderTable(orderedClasses());
    },
    store,
  );

  const sortByHeader = (target: EventTarget | null): void => {
    const th = target instanceof Element ? target.closest('th[data-run]') : null;
    if (!(th instanceof HTMLElement)) return;
    const run = Number(th.dataset.run);
    const metric = th.dataset.metric as MetricName;
    if (run === state.sortRun && metric === state.sortMetric) state.sortDir = state.sortDir === 'asc' ? 'desc' : state.sortDir === 'desc' ? 'none' : 'asc';
    else {
      state.sortRun = run;
      state.sortMetric = metric;
      state.sortDir = LOWER_IS_BETTER[metric] ? 'asc' : 'desc';
    }
    sortCtl.select.value = state.sortDir;
    // The table is rebuilt (synchronously, in table view): keep keyboard focus on the same header.
    const hadFocus = th === document.activeElement;
    refresh();
    if (hadFocus) tableWrap.querySelector<HTMLElement>(`th[data-run="${run}"][data-metric="${metric}"]`)?.focus();
  };
  store.listen(tableWrap, 'click', (e) => sortByHeader(e.target));
  store.listen(tableWrap, 'keydown', (e) => {
    if (e.key !== 'Enter' && e.key !== ' ') return;
    e.preventDefault();
    sortByHeader(e.target);
  });

  redraw = (): Promise<void> => {
    const classes = orderedClasses();
    sortKey.textContent = state.sortDir === 'none' ? '' : `(${p.runs[state.sortRun].name} ${state.sortMetric})`;
    viewCtl.set(state.view);
    chartsEl.hidden = state.view !== 'chart';
    tableWrap.hidden = state.view !== 'table';
    const counts = p.runs.filter((r) => r.results[state.split]?.count !== undefined).map((r) => `${r.name}: n = ${r.results[state.split]?.count ?? 0}`);
    note.textContent = [`${classes.length} ${state.group === 'part' ? 'body parts' : 'classes'} · ${state.split}`, p.nssThreshold !== undefined ? `NSS threshold ${p.nssThreshold}` : '', ...counts].filter(Boolean).join(' · ');
    if (state.view === 'table') {
      renderTable(classes);
      return Promise.resolve();
    }
    tableWrap.replaceChildren();
    const draws: Promise<void>[] = [];
    for (const [m, chart] of charts) {
      chart.el.hidden = !state.metrics.has(m);
      if (!chart.el.hidden) draws.push(chart.draw(chartFor(m, classes)));
    }
    return Promise.all(draws).then(() => undefined);
  };

  await redraw();
  store.add(onThemeChange(refresh));
  return {};
}
