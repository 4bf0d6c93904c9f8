/** PIAL-Net: model, configurations, checkpoints, batch format. */
export { PIALNet, cocoAdjacency, NUM_CHANNELS, NUM_KEYPOINTS, type PIALNetConfig, type PIALNetInputs, type PIALNetOutputs, type PIALNetLogits } from './pialnet';
export { CONFIGS, PAPER_PARAMS_M, resolveConfig, type ConfigName, type PIALNetOptions } from './config';
export { readCheckpointConfig, CHECKPOINT_FORMAT, type CheckpointExtras, type LoadedCheckpoint } from './checkpoint';
export { toPairBatch, disposeBatch, imagesAt, isBatchedDataset, type BatchedDataset, type PairBatch, type Predictor, type BatchSource, type BatchAdapter } from './batch';
export type { ParamGroup } from './params';
export { predictionOutput, type PredictionOutputOptions } from './show';
