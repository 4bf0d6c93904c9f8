/**
 * The hosts' kernel sessions on the kernel client: {@link startHostSession} starts a
 * {@link KernelSession} and waits until its process is ready, so that start-up failures (spawn error,
 * timeout, a backend that cannot load) surface before the first cell is sent.
 */
import { KernelSession } from '../kernel/client';
import type { HostSession, HostSessionOptions } from './kernelPort';

/**
 * Starts a kernel for one notebook.
 * @throws KernelStartError (from the client) naming what failed, with the kernel's stderr tail
 */
export async function startHostSession(options: HostSessionOptions): Promise<HostSession> {
  const session = new KernelSession(options);
  try {
    await session.start();
  } catch (e) {
    await session.dispose().catch(() => undefined);
    throw e;
  }
  return session;
}
