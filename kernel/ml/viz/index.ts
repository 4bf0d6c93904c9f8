/** Visual outputs of `affordance-lab`: builders returning displayables with a custom MIME payload and a fallback. */
export { colormapLut, type ColorLut } from './colormap';
export { quantizeMap, dequantizeMap, mapValues, channelMaps, type MapInput, type TensorLike } from './quantize';
export { encodePng, toImageRef, imageFromTensor, resolveImage, rgbAt, sharpOf, MAX_OUTPUT_SIDE, type ImageInput, type StaticImage, type RawImage } from './image';
export { VizOutput } from './output';
export { heatmapOutput, renderHeatmapTiles, type HeatmapOptions } from './heatmap';
export { keypointsOutput, keypointsSvg, CHANNEL_COLORS, type KeypointsOptions } from './keypoints';
export { datasetOutput, datasetMarkdown, datasetThumbnails, fitThumbnails, THUMBNAIL_BUDGET, type DatasetOutputInput, type ThumbnailCandidate } from './dataset';
export { displayPath } from './paths';
