// Test backend: the pure-JS cpu backend, so that the model tests run the same everywhere.
import '@tensorflow/tfjs-backend-cpu';
import { tf } from '../../kernel/ml/model/tf';

export async function useCpu(): Promise<void> {
  await tf.setBackend('cpu');
  await tf.ready();
}

export { tf };
