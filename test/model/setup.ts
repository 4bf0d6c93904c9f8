// Test backend: the kernel's runtime on the pure-JS cpu backend (AFFORDANCE_LAB_BACKEND may choose wasm).
import { initRuntime, tf } from '../../kernel/runtime/index';

export async function useCpu(): Promise<void> {
  await initRuntime({ backend: 'cpu', notebookDir: process.cwd() });
}

export { tf };
