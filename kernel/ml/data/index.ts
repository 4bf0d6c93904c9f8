/**
 * The dataset half of `affordance-lab`: the CAL layout, ground truth as the paper builds it, SynCAL, and the
 * visual outputs (heatmaps, keypoints, dataset summaries).
 */
export * from '../viz/index';
export { CAL_CLASSES, CAL_CLASS_NAMES, UNSEEN_CLASS_NAMES, CLASS_PART_TABLE, calClass, type CalClass } from './classes';
export { CalDataError, type OnError } from './errors';
export { buildGroundTruth, gtKernelSize, gtSigma, gaussianKernel1d, reflect101, linearResizeTaps, type ChannelPoints, type GroundTruthOptions } from './groundTruth';
export { decodeImage, flipHwc, flipPose, COCO17_FLIP_PAIRS, IMAGENET_MEAN, IMAGENET_STD, type Normalization } from './image';
export { parseAnnotation, parsePose, IMAGE_EXTENSIONS, type CalImageRecord, type CalSubset, type ImageKind } from './layout';
export { openCAL, CalDataset, type OpenCALOptions, type CalPair, type CalPairImage, type CalBatch, type BatchOptions, type AugmentOptions } from './dataset';
export { Rng } from './rng';
export { generateSynCAL, ensureSynCAL, isSynCAL, type SynCALOptions, type SynCALResult, type EnsuredSynCAL } from './syncal/index';
