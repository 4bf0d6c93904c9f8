/** CAL metrics and evaluation. */
export * from './metrics';
export { evaluate, metricsOutput, metricsMarkdown, paperReferenceRuns, EvaluationResult, MetricsOutput, EVAL_METRICS, type EvaluateOptions, type RunInput } from './evaluate';
export { meanStd, pairedTTest, tTwoSided, incompleteBeta, type PairedTest } from './stats';
