/** CAL metrics and evaluation. */
export * from './metrics';
