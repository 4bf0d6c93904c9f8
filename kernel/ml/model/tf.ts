/**
 * The tfjs instance used by the model, metrics and training code.
 *
 * Everything in kernel/ml imports tfjs through this one module so that the library and the notebook's cells
 * share one engine (two engines would hold two separate tensor registries and backends).
 */
import * as tf from '@tensorflow/tfjs';

export { tf };
