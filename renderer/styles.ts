/**
 * The renderers' stylesheet, added once per document. Colours come only from --vscode-* variables (with
 * fallbacks for pages outside VS Code), so text, borders and controls follow the theme without redraws.
 */

const STYLE_ID = 'affordance-lab-renderer-styles';

const CSS = `
.al-root { font-family: var(--vscode-font-family, system-ui, sans-serif); font-size: var(--vscode-font-size, 13px);
  color: var(--vscode-editor-foreground, var(--vscode-foreground, #1f1f1f)); line-height: 1.4; max-width: 100%; box-sizing: border-box; }
.al-root * { box-sizing: border-box; }
.al-root [hidden] { display: none !important; }
.al-title { font-weight: 600; margin: 2px 0 6px; font-size: 1.05em; }
.al-sub { color: var(--vscode-descriptionForeground, #717171); font-size: 0.92em; }
.al-toolbar { display: flex; flex-wrap: wrap; gap: 6px 14px; align-items: center; margin: 4px 0 8px; }
.al-control { display: inline-flex; align-items: center; gap: 6px; white-space: nowrap; }
.al-control > span:first-child { color: var(--vscode-descriptionForeground, #717171); }
.al-check > span:first-child { color: inherit; }
.al-root select, .al-root input[type=range] { font: inherit; color: var(--vscode-dropdown-foreground, var(--vscode-input-foreground, inherit));
  background: var(--vscode-dropdown-background, var(--vscode-input-background, transparent));
  border: 1px solid var(--vscode-dropdown-border, var(--vscode-input-border, #c0c0c0)); border-radius: 2px; padding: 1px 4px; }
.al-root input[type=range] { padding: 0; width: 110px; accent-color: var(--vscode-focusBorder, #0066b8); border: none; background: transparent; }
.al-root input[type=checkbox] { accent-color: var(--vscode-focusBorder, #0066b8); margin: 0; }
.al-range-value { font-variant-numeric: tabular-nums; min-width: 3ch; }
.al-segmented { gap: 0; }
.al-segmented > span:first-child { margin-right: 6px; }
.al-seg { font: inherit; cursor: pointer; padding: 1px 8px; color: var(--vscode-foreground, inherit);
  background: transparent; border: 1px solid var(--vscode-button-border, var(--vscode-input-border, #c0c0c0)); margin-left: -1px; }
.al-seg[aria-pressed=true] { background: var(--vscode-button-background, #0066b8); color: var(--vscode-button-foreground, #fff); }
.al-seg:focus-visible, .al-root select:focus-visible, .al-root input:focus-visible, .al-root th:focus-visible { outline: 1px solid var(--vscode-focusBorder, #0066b8); outline-offset: 1px; }
.al-error { border: 1px solid var(--vscode-inputValidation-errorBorder, var(--vscode-errorForeground, #c72e0f));
  background: var(--vscode-inputValidation-errorBackground, rgba(199, 46, 15, 0.08)); padding: 8px 10px; border-radius: 3px; }
.al-error-title { font-weight: 600; color: var(--vscode-errorForeground, #c72e0f); }
.al-error-message { white-space: pre-wrap; margin-top: 4px; font-family: var(--vscode-editor-font-family, ui-monospace, monospace); font-size: 0.95em; }
.al-error details { margin-top: 6px; } .al-error pre { white-space: pre-wrap; word-break: break-all; max-height: 160px; overflow: auto; margin: 4px 0 0; }
.al-panels { display: grid; gap: 10px; }
.al-panel { min-width: 0; }
.al-panel-title { font-size: 0.92em; color: var(--vscode-descriptionForeground, #717171); margin-bottom: 3px; }
.al-panel canvas.al-view { display: block; width: 100%; cursor: crosshair; border-radius: 2px; }
.al-legend { display: grid; grid-template-columns: auto 1fr auto; gap: 6px; align-items: center; margin-top: 4px; font-size: 0.9em; font-variant-numeric: tabular-nums; }
.al-legend canvas { width: 100%; height: 10px; display: block; image-rendering: auto; border: 1px solid var(--vscode-panel-border, rgba(128,128,128,0.35)); }
.al-legend-scale { grid-column: 1 / -1; margin-top: -2px; color: var(--vscode-descriptionForeground, #717171); font-size: 0.92em; }
.al-has-tooltip { position: relative; }
.al-tooltip { position: absolute; z-index: 5; pointer-events: none; max-width: 300px; padding: 4px 8px; border-radius: 3px;
  font-size: 0.92em; font-variant-numeric: tabular-nums; line-height: 1.35; white-space: nowrap;
  color: var(--vscode-editorHoverWidget-foreground, var(--vscode-foreground, inherit));
  background: var(--vscode-editorHoverWidget-background, var(--vscode-editorWidget-background, #f3f3f3));
  border: 1px solid var(--vscode-editorHoverWidget-border, var(--vscode-panel-border, rgba(128,128,128,0.5))); box-shadow: 0 2px 8px rgba(0,0,0,0.25); }
.al-tooltip-title { font-weight: 600; }
.al-tooltip-row { display: flex; justify-content: space-between; gap: 12px; }
.al-tooltip-value { font-family: var(--vscode-editor-font-family, ui-monospace, monospace); }
.al-tooltip-at, .al-tooltip-note { color: var(--vscode-descriptionForeground, #717171); font-size: 0.92em; }
.al-readout { font-family: var(--vscode-editor-font-family, ui-monospace, monospace); font-size: 0.92em; min-height: 1.4em; margin-top: 6px;
  color: var(--vscode-foreground, inherit); font-variant-numeric: tabular-nums; }
.al-stage { position: relative; width: 100%; max-width: 100%; overflow: hidden; border-radius: 2px;
  background: var(--vscode-editorWidget-background, rgba(128,128,128,0.08)); }
.al-stage > canvas, .al-stage > svg { position: absolute; inset: 0; width: 100%; height: 100%; display: block; }
.al-kp-joint { stroke: var(--vscode-editor-background, #fff); }
.al-kp-ring { fill: none; pointer-events: none; }
.al-kp-contact { stroke: var(--vscode-editor-background, #fff); }
.al-kp-joint, .al-kp-contact { pointer-events: none; }
.al-kp-hover { pointer-events: none; }
.al-stage.al-focused > canvas { opacity: 0.55; }
.al-kp-focus-note { min-height: 1.3em; margin: -2px 0 4px; }
.al-chip.al-part[aria-pressed=false] { opacity: 0.45; text-decoration: line-through; }
.al-chips { display: flex; flex-wrap: wrap; gap: 4px 6px; margin: 6px 0; }
.al-chip { font: inherit; font-size: 0.9em; display: inline-flex; align-items: center; gap: 5px; cursor: pointer; padding: 1px 8px; border-radius: 10px;
  border: 1px solid var(--vscode-panel-border, rgba(128,128,128,0.35)); background: transparent; color: var(--vscode-foreground, inherit); }
.al-chip[aria-pressed=true] { border-color: var(--vscode-focusBorder, #0066b8); background: var(--vscode-list-activeSelectionBackground, rgba(0,102,184,0.15)); }
.al-chip[data-empty=true] { opacity: 0.5; }
.al-swatch { width: 10px; height: 10px; border-radius: 50%; display: inline-block; flex: none; }
.al-charts { display: grid; gap: 8px; }
.al-chart { width: 100%; min-height: 120px; min-width: 0; }
.al-chart.al-wide { grid-column: 1 / -1; }
.al-table-wrap { overflow-x: auto; max-width: 100%; }
.al-table { border-collapse: collapse; font-variant-numeric: tabular-nums; font-size: 0.95em; }
.al-table th, .al-table td { padding: 2px 8px; border-bottom: 1px solid var(--vscode-panel-border, rgba(128,128,128,0.35)); text-align: right; white-space: nowrap; }
.al-table th:first-child, .al-table td:first-child { text-align: left; }
.al-table thead th { position: sticky; top: 0; background: var(--vscode-editor-background, #fff); cursor: pointer; user-select: none; }
.al-table th[aria-sort=ascending]::after { content: ' ▲'; } .al-table th[aria-sort=descending]::after { content: ' ▼'; }
.al-table thead tr + tr th { white-space: normal; max-width: 7.5em; vertical-align: bottom; overflow-wrap: anywhere; }
.al-stacked .al-table + .al-table { margin-top: 10px; }
.al-table td.al-best { font-weight: 700; }
.al-table .al-group-start { border-left: 1px solid var(--vscode-panel-border, rgba(128,128,128,0.35)); }
.al-table tr.al-overall td { font-weight: 600; border-bottom-width: 2px; }
.al-table td.al-ref, .al-table th.al-ref { color: var(--vscode-descriptionForeground, #717171); }
.al-note { color: var(--vscode-descriptionForeground, #717171); font-size: 0.9em; margin-top: 4px; }
.al-status { display: flex; flex-wrap: wrap; gap: 4px 14px; align-items: baseline; font-variant-numeric: tabular-nums; }
.al-badge { font-size: 0.85em; font-weight: 600; padding: 0 7px; border-radius: 9px; border: 1px solid currentColor; text-transform: uppercase; letter-spacing: 0.03em; }
.al-badge[data-state=running] { color: var(--vscode-charts-blue, #1a85ff); }
.al-badge[data-state=done] { color: var(--vscode-charts-green, #388a34); }
.al-badge[data-state=interrupted] { color: var(--vscode-charts-orange, #d18616); }
.al-badge[data-state=error] { color: var(--vscode-errorForeground, #c72e0f); }
.al-progress { height: 4px; background: var(--vscode-progressBar-background, #0e70c0); border-radius: 2px; transition: width 0.2s; }
.al-progress-track { height: 4px; background: var(--vscode-panel-border, rgba(128,128,128,0.25)); border-radius: 2px; margin: 6px 0; overflow: hidden; }
.al-grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(120px, 1fr)); gap: 8px; }
.al-thumb { margin: 0; font-size: 0.85em; min-width: 0; }
.al-thumb img { width: 100%; height: auto; aspect-ratio: 1; object-fit: cover; display: block; border-radius: 2px; background: var(--vscode-editorWidget-background, rgba(128,128,128,0.08)); }
.al-thumb figcaption { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; color: var(--vscode-descriptionForeground, #717171); }
.al-section { margin-top: 10px; }
.al-section-title { font-weight: 600; margin-bottom: 4px; }
.al-errors { margin: 4px 0; padding-left: 18px; font-family: var(--vscode-editor-font-family, ui-monospace, monospace); font-size: 0.92em; }
.al-errors li { color: var(--vscode-errorForeground, #c72e0f); }
.al-errors .al-file { color: var(--vscode-textLink-foreground, inherit); }
`;

/** Adds the stylesheet to `doc` unless it is there. */
export function ensureStyles(doc: Document = document): void {
  if (doc.getElementById(STYLE_ID)) return;
  const style = doc.createElement('style');
  style.id = STYLE_ID;
  style.textContent = CSS;
  (doc.head ?? doc.documentElement).append(style);
}
