// @ts-check
// Builds a self-contained HTML report from executed notebooks: markdown, code, text and image outputs as
// HTML, and every Affordance Lab output drawn by the same renderer code VS Code uses (bundled inline,
// plotly included), so the file opens in any browser without VS Code or a network.
// Usage: node scripts/build-report.mjs <out.html> <notebook.ipynb> [...]
import * as esbuild from 'esbuild';
import MarkdownIt from 'markdown-it';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { basename, dirname } from 'node:path';

const [outFile, ...notebooks] = process.argv.slice(2);
if (!outFile || notebooks.length === 0) {
  console.error('usage: node scripts/build-report.mjs <out.html> <notebook.ipynb> [...]');
  process.exit(2);
}

/** @param {string} s */
const esc = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
/** @param {string | string[] | undefined} s */
const joined = (s) => (Array.isArray(s) ? s.join('') : (s ?? ''));

/**
 * Notebook markdown as VS Code renders it: markdown-it (the library of VS Code's own notebook markdown)
 * with CommonMark plus tables, strikethrough and bare links. Raw HTML in the markdown is escaped, never
 * passed through, and markdown-it refuses javascript:, vbscript: and file: links.
 */
const md = new MarkdownIt({ html: false, linkify: true, typographer: false });
/** @param {string} src */
const markdown = (src) => md.render(src);

let customCount = 0;
/** @param {Record<string, unknown>} data */
function renderData(data) {
  const custom = Object.keys(data).find((m) => m.startsWith('application/vnd.affordance-lab.'));
  if (custom) {
    const id = `al-out-${++customCount}`;
    const payload = JSON.stringify(data[custom]).replace(/</g, '\\u003c');
    return `<div class="al-output" id="${id}" data-mime="${esc(custom)}"></div><script type="application/json" data-for="${id}">${payload}</script>`;
  }
  if (typeof data['image/png'] === 'string') return `<img alt="output" src="data:image/png;base64,${joined(/** @type {string} */ (data['image/png'])).trim()}">`;
  if (data['text/markdown'] !== undefined) return `<div class="md">${markdown(joined(/** @type {string[]} */ (data['text/markdown'])))}</div>`;
  if (data['text/plain'] !== undefined) return `<pre>${esc(joined(/** @type {string[]} */ (data['text/plain'])))}</pre>`;
  return '';
}

function renderNotebook(file) {
  const nb = JSON.parse(readFileSync(file, 'utf8'));
  const parts = [`<section class="notebook"><h1 class="nb-title">${esc(basename(file))}</h1>`];
  for (const cell of nb.cells ?? []) {
    const src = joined(cell.source);
    if (cell.cell_type === 'markdown') {
      parts.push(`<div class="md">${markdown(src)}</div>`);
      continue;
    }
    if (cell.cell_type !== 'code') continue;
    parts.push(`<div class="cell"><div class="count">[${cell.execution_count ?? ' '}]</div><pre class="src">${esc(src)}</pre>`);
    for (const o of cell.outputs ?? []) {
      if (o.output_type === 'stream') parts.push(`<pre class="stream ${o.name === 'stderr' ? 'stderr' : ''}">${esc(joined(o.text))}</pre>`);
      else if (o.output_type === 'error') parts.push(`<pre class="error">${esc(`${o.ename}: ${o.evalue}\n${(o.traceback ?? []).join('\n')}`)}</pre>`);
      else if (o.data) parts.push(renderData(o.data));
    }
    parts.push('</div>');
  }
  parts.push('</section>');
  return parts.join('\n');
}

const bundle = await esbuild.build({
  entryPoints: ['renderer/standalone.ts'],
  bundle: true,
  write: false,
  format: 'iife',
  globalName: 'AffordanceLabReport',
  platform: 'browser',
  target: 'es2022',
  minify: true,
  legalComments: 'none',
});
const js = bundle.outputFiles[0].text.replace(/<\/script/gi, '<\\/script');

const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Affordance Lab report</title>
<style>
:root { --vscode-editor-background: #ffffff; --vscode-editor-foreground: #1f1f1f; --vscode-foreground: #1f1f1f;
  --vscode-font-family: system-ui, sans-serif; --vscode-editor-font-family: ui-monospace, monospace; --vscode-font-size: 13px;
  --vscode-panel-border: #d0d0d0; --vscode-focusBorder: #0066b8; --vscode-button-background: #0066b8; --vscode-button-foreground: #fff;
  --vscode-input-background: #fff; --vscode-input-foreground: #1f1f1f; --vscode-input-border: #c0c0c0; --vscode-errorForeground: #c72e0f;
  --vscode-descriptionForeground: #616161; --vscode-textLink-foreground: #0066b8; --vscode-editorWidget-background: #f3f3f3; }
body { margin: 0 auto; max-width: 1100px; padding: 24px; background: var(--vscode-editor-background); color: var(--vscode-editor-foreground); font: 14px/1.5 var(--vscode-font-family); }
pre { background: #f6f6f6; padding: 8px 10px; overflow-x: auto; border-radius: 4px; font: 12px/1.45 var(--vscode-editor-font-family); }
pre.src { border-left: 3px solid #0066b8; } pre.stderr, pre.error { background: #fff1f0; color: #a1260d; }
.cell { margin: 14px 0; } .count { color: #888; font: 11px var(--vscode-editor-font-family); }
.nb-title { border-bottom: 2px solid #ddd; padding-bottom: 6px; margin-top: 48px; } img { max-width: 100%; }
.md table { border-collapse: collapse; margin: 8px 0; font-size: 13px; } .md th, .md td { border: 1px solid #d0d0d0; padding: 3px 8px; }
.md th { background: #f3f3f3; } .md code { background: #f3f3f3; padding: 0 3px; border-radius: 3px; font: 12px var(--vscode-editor-font-family); }
.md pre code { background: none; padding: 0; } .md a { color: var(--vscode-textLink-foreground); } .md img { max-width: 100%; }
.al-output { margin: 8px 0; }
</style></head><body>
<header><h1>Affordance Lab report</h1><p>Generated ${esc(new Date().toISOString())} from ${notebooks.map((n) => esc(basename(n))).join(', ')}.</p></header>
${notebooks.map(renderNotebook).join('\n')}
<script>${js}</script>
<script>
for (const el of document.querySelectorAll('.al-output')) {
  const data = document.querySelector('script[data-for="' + el.id + '"]');
  try { AffordanceLabReport.renderStandalone(el, el.dataset.mime, JSON.parse(data.textContent)); }
  catch (e) { el.textContent = 'Could not draw this output: ' + e; }
}
</script>
</body></html>
`;
mkdirSync(dirname(outFile), { recursive: true });
writeFileSync(outFile, html);
console.log(`report: ${outFile} (${(html.length / 1e6).toFixed(1)} MB, ${customCount} rich outputs)`);
