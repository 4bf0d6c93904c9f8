/**
 * Dataset view: totals, class counts (interactive vs non-interactive), the body-part x class contact
 * matrix as a heatmap, a thumbnail grid filtered by class and kind, and the problems found while
 * reading the dataset (file, line, message).
 */
import type { DatasetPayload, DatasetThumbnail } from '../kernel/protocol';
import { axis, baseLayout, chartTitle, createChart, legendAbove, plotlyFor } from './charts';
import { base64ToBytes, h, plotText, selectControl } from './dom';
import type { View, ViewEnv } from './renderer';
import { onThemeChange, type Theme } from './theme';
import { checkDataset } from './validate';

/** Thumbnails drawn at most at once; the filter narrows the rest down. */
const MAX_THUMBNAILS = 120;
/** Problems listed at most; the count says how many more there are. */
const MAX_ERRORS = 200;

/** A class name as a single-quoted TypeScript string. */
const quoted = (s: string): string => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/** Draws a dataset payload into `root`. */
export async function renderDataset(root: HTMLElement, payload: unknown, env: ViewEnv): Promise<View> {
  const p: DatasetPayload = checkDataset(payload);
  const { store, signal } = env;

  const interactive = p.classes.reduce((s, c) => s + c.interactive, 0);
  const nonInteractive = p.classes.reduce((s, c) => s + c.nonInteractive, 0);
  const pairs = p.classes.reduce((s, c) => s + (c.pairs ?? 0), 0);
  root.append(h('div', { className: 'al-title', text: p.title ?? `Dataset · ${p.split} ${p.subset}` }));
  root.append(h('div', { className: 'al-sub al-root-path', text: p.root }));
  const totals = [
    `${p.classes.length} classes`,
    `${interactive.toLocaleString('en-US')} interactive`,
    `${nonInteractive.toLocaleString('en-US')} non-interactive images`,
    pairs ? `${pairs.toLocaleString('en-US')} pairs` : '',
    p.errors.length ? `${p.errors.length} problem${p.errors.length === 1 ? '' : 's'}` : 'no problems',
  ];
  root.append(h('div', { className: 'al-status al-totals' }, ...totals.filter(Boolean).map((t) => h('span', { text: t }))));

  const chartsEl = h('div', { className: 'al-charts al-section' });
  const thumbsSection = h('div', { className: 'al-section' });
  const errorsSection = h('div', { className: 'al-section' });
  root.append(chartsEl, thumbsSection, errorsSection);

  // ---- thumbnails (no plotly needed: shown while the chart library loads) ----
  const urls = new Map<DatasetThumbnail, string>();
  store.defer(() => {
    for (const u of urls.values()) URL.revokeObjectURL(u);
    urls.clear();
  });
  const urlFor = (t: DatasetThumbnail): string => {
    let u = urls.get(t);
    if (!u) {
      u = URL.createObjectURL(new Blob([base64ToBytes(t.image.data)], { type: t.image.mime }));
      urls.set(t, u);
    }
    return u;
  };
  /** Narrows the thumbnails to one class (from a click on a chart); clicking it again shows all. */
  let showClass: (name: string) => void = () => undefined;
  {
    // Every class is in the filter: a class without thumbnails in the payload says so instead of
    // showing an empty grid.
    const perClass = new Map<string, number>();
    for (const t of p.thumbnails) perClass.set(t.className, (perClass.get(t.className) ?? 0) + 1);
    const classNames = [...new Set([...p.classes.map((c) => c.name), ...perClass.keys()])];
    const withThumbs = classNames.filter((c) => perClass.has(c)).length;
    const classCtl = selectControl('Class', [{ value: '', label: 'all classes' }, ...classNames.map((c) => ({ value: c, label: `${c} (${perClass.get(c) ?? 0})` }))], '', 'al-class-filter');
    const kindCtl = selectControl('Kind', [{ value: '', label: 'all' }, { value: 'interactive', label: 'interactive' }, { value: 'non_interactive', label: 'non-interactive' }], '', 'al-kind-filter');
    const count = h('span', { className: 'al-sub al-thumb-count' });
    const grid = h('div', { className: 'al-grid' });
    const empty = h('div', { className: 'al-note al-thumb-empty', attrs: { role: 'status' } });
    const omitted = p.thumbnailsOmitted ? h('div', { className: 'al-note al-thumb-omitted', text: `${p.thumbnailsOmitted} more thumbnail${p.thumbnailsOmitted === 1 ? ' was' : 's were'} left out to keep this output under ${Math.round((p.thumbnailBudget ?? 2_000_000) / 1e6)} MB.` }) : undefined;
    thumbsSection.append(h('div', { className: 'al-section-title', text: 'Samples' }), h('div', { className: 'al-toolbar' }, classCtl.wrap, kindCtl.wrap, count), empty, grid, ...(omitted ? [omitted] : []));
    /** How to get the images of a class that the payload has no thumbnails of. */
    const howTo = `summary({ thumbnails: ${p.classes.length} })`;
    const drawThumbs = (): void => {
      const cls = classCtl.select.value;
      const kind = kindCtl.select.value;
      const shown = p.thumbnails.filter((t) => (!cls || t.className === cls) && (!kind || t.kind === kind));
      grid.replaceChildren(
        ...shown.slice(0, MAX_THUMBNAILS).map((t) => {
          const img = h('img', { attrs: { alt: `${t.className}: ${t.label}`, loading: 'lazy', width: String(t.image.width), height: String(t.image.height) } });
          img.src = urlFor(t);
          const caption = `${t.label} · ${t.className}${t.kind === 'non_interactive' ? ' · non-interactive' : ''}`;
          return h('figure', { className: 'al-thumb', attrs: { 'data-class': t.className, 'data-kind': t.kind }, title: caption }, img, h('figcaption', { text: caption }));
        }),
      );
      count.textContent = `${Math.min(shown.length, MAX_THUMBNAILS)} of ${shown.length} shown${shown.length !== p.thumbnails.length ? ` (${p.thumbnails.length} in all)` : ''}`;
      let message = '';
      if (p.thumbnails.length === 0) message = `This output carries no thumbnails. ${howTo} on the dataset adds them.`;
      else if (cls && !perClass.has(cls)) {
        message = `No thumbnails of ${cls} in this output: it carries thumbnails of ${withThumbs} of ${classNames.length} classes. `;
        message += p.showClassCode ? `${p.showClassCode.split('{class}').join(quoted(cls))} shows its images.` : `${howTo} on the dataset carries them for every class.`;
      }
      else if (shown.length === 0) message = `No ${kind === 'interactive' ? 'interactive' : 'non-interactive'} thumbnails${cls ? ` of ${cls}` : ''} in this output.`;
      empty.textContent = message;
      empty.hidden = message === '';
    };
    showClass = (name) => {
      if (!classNames.includes(name)) return;
      classCtl.select.value = classCtl.select.value === name ? '' : name;
      drawThumbs();
    };
    store.listen(classCtl.select, 'change', drawThumbs);
    store.listen(kindCtl.select, 'change', drawThumbs);
    drawThumbs();
  }

  // ---- problems ----
  if (p.errors.length) {
    const list = h('ul', { className: 'al-errors' });
    for (const e of p.errors.slice(0, MAX_ERRORS)) {
      list.append(h('li', {}, h('span', { className: 'al-file', text: e.line !== undefined ? `${e.file}:${e.line}` : e.file }), `: ${e.message}`));
    }
    const details = h('details', {}, h('summary', { className: 'al-section-title', text: `${p.errors.length} problem${p.errors.length === 1 ? '' : 's'} while reading the dataset` }), list);
    details.open = p.errors.length <= 10;
    if (p.errors.length > MAX_ERRORS) details.append(h('div', { className: 'al-note', text: `… and ${p.errors.length - MAX_ERRORS} more` }));
    errorsSection.append(details);
  }

  // ---- charts ----
  const Plotly = await plotlyFor(signal);
  const countsChart = createChart(chartsEl, Plotly, store, 'al-counts-chart');
  const matrixChart = createChart(chartsEl, Plotly, store, 'al-matrix-chart');
  const names = p.classes.map((c) => plotText(c.name));

  const countsFigure = (theme: Theme) => ({
    data: [
      { type: 'bar', name: 'interactive', x: names, y: p.classes.map((c) => c.interactive), marker: { color: theme.series[0] }, hovertemplate: '%{x}<br>interactive: %{y}<extra></extra>' },
      { type: 'bar', name: 'non-interactive', x: names, y: p.classes.map((c) => c.nonInteractive), marker: { color: theme.series[1] }, hovertemplate: '%{x}<br>non-interactive: %{y}<extra></extra>' },
    ],
    layout: baseLayout(theme, {
      height: 280,
      barmode: 'group',
      title: chartTitle(theme, 'Images per class'),
      xaxis: axis(theme, { tickangle: p.classes.length > 8 ? -40 : 0, categoryorder: 'array', categoryarray: names }),
      yaxis: axis(theme, { title: { text: 'images' } }),
      ...legendAbove(theme),
    }),
  });

  const matrixFigure = (theme: Theme) => ({
    data: [
      {
        type: 'heatmap',
        x: names,
        y: p.parts.map(plotText),
        z: p.contactMatrix,
        colorscale: 'Viridis',
        // Zero cells stay blank so the contacts that exist stand out.
        text: p.contactMatrix.map((row) => row.map((v) => (v ? String(v) : ''))),
        texttemplate: p.classes.length <= 30 ? '%{text}' : undefined,
        hovertemplate: '%{y} × %{x}: %{z} images<extra></extra>',
        colorbar: { thickness: 10, outlinewidth: 0, tickfont: { color: theme.foreground }, title: { text: 'images', font: { color: theme.foreground } } },
        xgap: 1,
        ygap: 1,
      },
    ],
    layout: baseLayout(theme, {
      height: 90 + 26 * p.parts.length + 60,
      title: chartTitle(theme, 'Contacts: body part × class'),
      xaxis: axis(theme, { tickangle: p.classes.length > 8 ? -40 : 0, showgrid: false }),
      yaxis: axis(theme, { autorange: 'reversed', showgrid: false }),
    }),
  });

  // Clicking a class's bars or a matrix cell shows that class's samples (clicking again shows all).
  countsChart.onClick((i) => showClass(p.classes[i]?.name ?? ''));
  matrixChart.onClick((i) => showClass(p.classes[i]?.name ?? ''));

  const drawCharts = (): Promise<void> => Promise.all([countsChart.draw(countsFigure), matrixChart.draw(matrixFigure)]).then(() => undefined);
  await drawCharts();
  store.add(
    onThemeChange(() => {
      drawCharts().catch((e: unknown) => console.error('Affordance Lab dataset: redraw failed', e));
    }),
  );
  return {};
}
