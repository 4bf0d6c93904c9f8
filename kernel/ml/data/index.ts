/**
 * The dataset half of `affordance-lab`: the CAL layout, ground truth, SynCAL, and the visual outputs.
 */
export * from '../viz/index';
