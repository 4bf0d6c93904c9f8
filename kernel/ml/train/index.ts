/** Training: AdamW, schedule, loss, the training loop, prior baselines. */
export { train, releaseTrainingState, TrainingError, trainingText, TrainingProgress, type TrainOptions, type TrainResult, type BatchEndInfo, type EpochEndInfo } from './train';
export { AdamW, type AdamWOptions, type Gradient, type ParamGroupSpec } from './adamw';
export { lrFactor } from './schedule';
export { bceWithLogits, gtAtOutput, pialLoss } from './loss';
export { MeanPrior, FixedMapPredictor, centerPrior } from './prior';
