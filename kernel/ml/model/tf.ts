/**
 * The tfjs instance used by the model, metrics and training code: the kernel's single instance from the
 * runtime, so that the library and the notebook's cells share one engine. That namespace has no chained
 * ops (`x.sum()`), so this code calls the functional forms (`tf.sum(x)`).
 */
export { tf } from '../../runtime/tf';
