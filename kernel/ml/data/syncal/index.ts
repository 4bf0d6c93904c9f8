export { generateSynCAL, type SynCALOptions, type SynCALResult } from './generate';
export { CLASS_KINDS } from './objects';
export { ensureSynCAL, isSynCAL, type EnsuredSynCAL } from './ensure';
