/**
 * How many threads training uses on the CPU backends (wasm, cpu).
 *
 * The wasm backend runs every kernel on one thread. Training uses the machine's cores through
 * data-parallel replicas (kernel/ml/train/parallel.ts): one worker thread per replica, each with its own
 * wasm backend and a copy of the model, each computing the gradient of its share of the batch. The
 * default is one replica per core (`os.availableParallelism()`), at most {@link MAX_THREADS}; the env
 * variable {@link THREADS_ENV} or `train(..., { threads })` sets another count, and 1 trains in the
 * kernel's own thread as before.
 */
import { availableParallelism } from 'node:os';

/** Env variable with the number of training threads (a positive integer). */
export const THREADS_ENV = 'AFFORDANCE_LAB_THREADS';

/** Upper bound of the default and of any requested count. */
export const MAX_THREADS = 64;

/** Validates a thread count, naming where it came from. */
export function parseThreads(value: unknown, source: string): number {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value.trim()) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_THREADS) {
    throw new Error(`${source}: expected a whole number of threads from 1 to ${MAX_THREADS}, got ${JSON.stringify(value)}`);
  }
  return n;
}

/** The training thread count: {@link THREADS_ENV} when set, else one per core (at most {@link MAX_THREADS}). */
export function trainingThreads(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[THREADS_ENV];
  if (raw !== undefined && raw.trim() !== '') return parseThreads(raw, `env ${THREADS_ENV}`);
  return Math.max(1, Math.min(MAX_THREADS, availableParallelism()));
}

/** `1 thread`, `4 threads`: how device descriptions say the count. */
export function threadsLabel(n: number): string {
  return `${n} thread${n > 1 ? 's' : ''}`;
}
