/** Colormaps of the heatmap fallback images: the same tables the renderer draws with (common/colormap.ts). */
export { colormapLut, type ColorLut } from '../../../common/colormap';
