/**
 * Training view: state, progress, throughput and ETA, the loss curves (total, interactive,
 * non-interactive), the learning rate, and validation metrics per epoch. While training runs the kernel
 * updates the same output; the view takes each update in place (Plotly.react on the same charts), so
 * the curves grow without flicker and zoom survives. The final payload is what the notebook saves, so
 * the finished state reads the same after reopening.
 */
import type { TrainingPayload } from '../kernel/protocol';
import { axis, baseLayout, chartTitle, createChart, legendAbove, plotlyFor } from './charts';
import { checkboxControl, fmt, fmtDuration, h } from './dom';
import type { View, ViewEnv } from './renderer';
import { onThemeChange, type Theme } from './theme';
import { checkTraining } from './validate';

/** Draws a training payload into `root`; later payloads of the same run update it in place. */
export async function renderTraining(root: HTMLElement, payload: unknown, env: ViewEnv): Promise<View> {
  let p: TrainingPayload = checkTraining(payload);
  const { store, signal } = env;

  const title = h('div', { className: 'al-title' });
  const badge = h('span', { className: 'al-badge' });
  const meta = h('span', { className: 'al-sub' });
  const status = h('div', { className: 'al-status' });
  const bar = h('div', { className: 'al-progress' });
  const track = h('div', { className: 'al-progress-track', attrs: { role: 'progressbar', 'aria-valuemin': '0', 'aria-valuemax': '100' } }, bar);
  const summary = h('div', { className: 'al-note al-summary' });
  const message = h('div', { className: 'al-note al-message' });
  const toolbar = h('div', { className: 'al-toolbar' });
  const logToggle = checkboxControl('Log-scale loss', false, 'al-log-loss');
  toolbar.append(logToggle.wrap);
  const chartsEl = h('div', { className: 'al-charts' });
  chartsEl.style.gridTemplateColumns = 'repeat(auto-fit, minmax(320px, 1fr))';
  root.append(h('div', { className: 'al-status' }, title, badge, meta), status, track, summary, message, toolbar, chartsEl);

  const renderText = (): void => {
    title.textContent = p.title ?? `Training ${p.runId}`;
    badge.textContent = p.state;
    badge.dataset.state = p.state;
    meta.textContent = [p.model, p.backend ? `on ${p.backend}${p.threads && p.threads > 1 ? `, ${p.threads} threads` : ''}` : ''].filter(Boolean).join(' ');
    const pct = p.totalSteps > 0 ? Math.min(100, (100 * p.step) / p.totalSteps) : 0;
    bar.style.width = `${pct}%`;
    track.setAttribute('aria-valuenow', String(Math.round(pct)));
    const parts = [
      `epoch ${p.epoch}/${p.totalEpochs}`,
      `step ${p.step.toLocaleString('en-US')}/${p.totalSteps.toLocaleString('en-US')} (${pct.toFixed(0)}%)`,
      p.imagesPerSec !== undefined ? `${fmt(p.imagesPerSec)} images/s` : '',
      p.state === 'running' && p.etaSec !== undefined ? `ETA ${fmtDuration(p.etaSec)}` : '',
      p.elapsedSec !== undefined ? `elapsed ${fmtDuration(p.elapsedSec)}` : '',
    ];
    status.replaceChildren(...parts.filter(Boolean).map((t) => h('span', { text: t })));
    const last = p.history[p.history.length - 1];
    const lastEpoch = p.epochs[p.epochs.length - 1];
    const lines: string[] = [];
    if (last) lines.push(`loss ${fmt(last.loss)}${last.lossIn !== undefined ? ` (interactive ${fmt(last.lossIn)}, non-interactive ${fmt(last.lossNon)})` : ''} · lr ${fmt(last.lr)} at step ${last.step}`);
    if (lastEpoch) lines.push(`epoch ${lastEpoch.epoch}: ${Object.entries(lastEpoch.metrics).map(([k, v]) => `${k} ${fmt(v)}`).join(' · ')}`);
    summary.textContent = lines.join('\n');
    summary.style.whiteSpace = 'pre-line';
    message.textContent = p.message ?? '';
    message.hidden = !p.message;
  };
  renderText();

  const Plotly = await plotlyFor(signal);
  const lossChart = createChart(chartsEl, Plotly, store, 'al-loss-chart');
  const lrChart = createChart(chartsEl, Plotly, store, 'al-lr-chart');
  const epochChart = createChart(chartsEl, Plotly, store, 'al-epoch-chart al-wide');

  const lossFigure = (theme: Theme) => {
    const x = p.history.map((q) => q.step);
    const series: [string, (q: TrainingPayload['history'][number]) => number | undefined][] = [
      ['loss', (q) => q.loss],
      ['interactive', (q) => q.lossIn],
      ['non-interactive', (q) => q.lossNon],
    ];
    const data = series
      .filter(([, get], i) => i === 0 || p.history.some((q) => get(q) !== undefined))
      .map(([name, get], i) => ({ type: 'scatter', mode: 'lines', name, x, y: p.history.map((q) => get(q) ?? null), line: { width: i === 0 ? 2 : 1.2, color: theme.series[i] } }));
    return {
      data,
      layout: baseLayout(theme, {
        height: 260,
        title: chartTitle(theme, 'Loss'),
        xaxis: axis(theme, { title: { text: 'step' } }),
        yaxis: axis(theme, { type: logToggle.input.checked ? 'log' : 'linear' }),
        ...legendAbove(theme),
        datarevision: p.history.length,
      }),
    };
  };

  const lrFigure = (theme: Theme) => ({
    data: [{ type: 'scatter', mode: 'lines', name: 'lr', x: p.history.map((q) => q.step), y: p.history.map((q) => q.lr), line: { width: 1.5, color: theme.series[3] } }],
    layout: baseLayout(theme, {
      height: 260,
      title: chartTitle(theme, 'Learning rate'),
      xaxis: axis(theme, { title: { text: 'step' } }),
      yaxis: axis(theme, { exponentformat: 'e' }),
      showlegend: false,
      datarevision: p.history.length,
    }),
  });

  const epochFigure = (theme: Theme) => {
    const keys = [...new Set(p.epochs.flatMap((e) => Object.keys(e.metrics)))];
    const n = Math.max(1, keys.length);
    const extra: Record<string, unknown> = {};
    const data = keys.map((k, i) => {
      const suffix = i === 0 ? '' : String(i + 1);
      extra[`xaxis${suffix}`] = axis(theme, { title: { text: 'epoch' }, dtick: p.totalEpochs <= 20 ? 1 : undefined, anchor: `y${suffix}` });
      extra[`yaxis${suffix}`] = axis(theme, { title: { text: k }, anchor: `x${suffix}` });
      return { type: 'scatter', mode: 'lines+markers', name: k, x: p.epochs.map((e) => e.epoch), y: p.epochs.map((e) => e.metrics[k] ?? null), xaxis: `x${suffix}`, yaxis: `y${suffix}`, line: { color: theme.series[i % theme.series.length] } };
    });
    return {
      data,
      layout: baseLayout(theme, {
        height: 260,
        title: chartTitle(theme, keys.length ? 'Validation metrics per epoch' : 'Validation metrics per epoch (none yet)'),
        grid: { rows: 1, columns: n, pattern: 'independent', xgap: 0.25 },
        showlegend: false,
        ...extra,
        datarevision: p.epochs.length,
      }),
    };
  };

  // Updates can arrive faster than plotly draws; each draw picks up the latest payload, and a draw that
  // is already queued is not queued again.
  let drawing: Promise<void> = Promise.resolve();
  let queued = false;
  const drawAll = (): Promise<void> => {
    if (queued) return drawing;
    queued = true;
    drawing = drawing
      .catch(() => undefined)
      .then(async () => {
        queued = false;
        if (store.isDisposed) return;
        await Promise.all([lossChart.draw(lossFigure), lrChart.draw(lrFigure), epochChart.draw(epochFigure)]);
      });
    return drawing;
  };
  const redrawLater = (): void => {
    drawAll().catch((e: unknown) => console.error('Affordance Lab training: redraw failed', e));
  };

  store.listen(logToggle.input, 'change', redrawLater);
  store.add(onThemeChange(redrawLater));
  await drawAll();

  return {
    async update(next) {
      const q = checkTraining(next);
      // Another run in the same output: start over rather than mixing curves.
      if (q.runId !== p.runId) return false;
      p = q;
      renderText();
      await drawAll();
      return true;
    },
  };
}
