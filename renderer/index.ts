/**
 * Entry of the Affordance Lab notebook renderer (package.json `notebookRenderer` affordance-lab.renderer):
 * heatmaps, keypoints, per-class metrics, live training and datasets, one view per output id.
 * Also exports the standalone shim so that pages outside VS Code can load this same bundle.
 */
import type { ActivationFunction } from 'vscode-notebook-renderer';
import { createRenderer } from './renderer';

/** Called by VS Code once per notebook webview. */
export const activate: ActivationFunction = (context) => createRenderer(context);

export { createRenderer, type AffordanceRendererApi, type RendererStats } from './renderer';
export { createOutputItem, createStandaloneContext, renderStandalone, type StandaloneOutput } from './standalone';
