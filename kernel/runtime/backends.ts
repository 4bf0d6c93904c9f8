/**
 * The backend chain. Each loader either makes its backend the engine's active one and returns the
 * device description, or throws a {@link BackendUnavailable} saying why (and how to install what is
 * missing). Optional native packages are resolved at run time from the notebook's folder upwards and
 * from the configured folder, never bundled and never needed to install the extension.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { BackendChoice, BackendName } from '../protocol';
import { tf } from './tf';
import { setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { registerWasmTrainingKernels } from './wasmKernels';
import { registerCpuFixes } from './cpuFixes';

// Registered on import, so that a cell switching backends by hand (tf.setBackend) can train too.
registerWasmTrainingKernels();
registerCpuFixes();

/** Backends in the order `auto` tries them (tensorflow appears twice there: GPU build, then CPU build). */
export const BACKEND_NAMES: readonly BackendName[] = ['tensorflow', 'webgpu', 'wasm', 'cpu'];

/** A backend that cannot be used here; the message says why and how to get it. */
export class BackendUnavailable extends Error {
  constructor(
    readonly backend: string,
    message: string,
  ) {
    super(message);
    this.name = 'BackendUnavailable';
  }
}

export interface ChainOptions {
  backend: BackendChoice;
  notebookDir: string;
  nativeModulesPath?: string;
  onProgress?: (msg: string) => void;
}

interface RuntimeState {
  backend: string | undefined;
  device: string;
  threads: number;
  skipped: { backend: string; reason: string }[];
}

const state: RuntimeState = { backend: undefined, device: 'not initialised', threads: 1, skipped: [] };

/** Current chain result (read by runtimeInfo). */
export function currentState(): Readonly<RuntimeState> {
  return state;
}

/** Folders that optional packages are resolved from, in order. */
export function searchRoots(opts: Pick<ChainOptions, 'notebookDir' | 'nativeModulesPath'>): string[] {
  const roots = [resolve(opts.notebookDir)];
  if (opts.nativeModulesPath) roots.push(resolve(opts.nativeModulesPath));
  return roots;
}

/**
 * Resolves an optional package from the search roots (node's usual lookup: `<root>/node_modules`, then
 * each parent's). A root that is itself a node_modules folder works too, through its parent's lookup.
 */
export function resolveOptional(pkg: string, roots: string[]): { path: string; require: NodeJS.Require } | undefined {
  for (const root of roots) {
    const req = createRequire(join(root, '__affordance_lab_resolve__.js'));
    try {
      const path = req.resolve(pkg);
      return { path, require: createRequire(path) };
    } catch {
      // not under this root; try the next
    }
  }
  return undefined;
}

/** Folder holding tfjs-backend-wasm's .wasm files: dist/wasm beside the bundle, else the package. */
export function wasmDir(): string {
  const beside = join(__dirname, 'wasm');
  if (existsSync(join(beside, 'tfjs-backend-wasm.wasm'))) return beside + '/';
  const pkg = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
  const dist = join(pkg, 'dist');
  if (existsSync(join(dist, 'tfjs-backend-wasm.wasm'))) return dist + '/';
  throw new BackendUnavailable('wasm', `the wasm backend's binaries were not found in ${beside} or ${dist}`);
}

function errorText(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.split('\n')[0].slice(0, 300);
}

/** Silences tfjs's console warnings (e.g. a second copy re-registering its kernels) while fn runs. */
function quietly<T>(fn: () => T): T {
  const prod = tf.env().getBool('PROD');
  tf.env().set('PROD', true);
  try {
    return fn();
  } finally {
    tf.env().set('PROD', prod);
  }
}

interface Loaded {
  device: string;
  threads: number;
}

type Loader = (opts: ChainOptions) => Promise<Loaded>;

async function activate(name: string): Promise<void> {
  let ok: boolean;
  try {
    ok = await tf.setBackend(name);
  } catch (e) {
    throw new BackendUnavailable(name, `backend "${name}" failed to initialise: ${errorText(e)}`);
  }
  if (!ok) throw new BackendUnavailable(name, `backend "${name}" failed to initialise`);
  await tf.ready();
}

const loaders: Record<'tensorflow-gpu' | 'webgpu' | 'tensorflow-cpu' | 'wasm' | 'cpu', Loader> = {
  'tensorflow-gpu': async (o) => loadTensorflow(o, '@tensorflow/tfjs-node-gpu'),
  'tensorflow-cpu': async (o) => loadTensorflow(o, '@tensorflow/tfjs-node'),
  webgpu: async (o) => loadWebgpu(o),
  wasm: async () => loadWasm(),
  cpu: async () => {
    await activate('cpu');
    return { device: 'CPU (pure JavaScript, 1 thread)', threads: 1 };
  },
};

async function loadTensorflow(o: ChainOptions, pkg: string): Promise<Loaded> {
  const roots = searchRoots(o);
  const found = resolveOptional(pkg, roots);
  if (!found) {
    throw new BackendUnavailable('tensorflow', `${pkg} is not installed (looked from ${roots.join(' and ')} upwards); install it with \`npm install ${pkg}\` in the notebook's folder`);
  }
  if (!tf.findBackendFactory('tensorflow')) {
    try {
      // The package registers backend "tensorflow" through its own tfjs-core copy; engine and kernel
      // registry are process globals, so the kernel's instance sees it.
      quietly(() => found.require(pkg));
    } catch (e) {
      throw new BackendUnavailable('tensorflow', `${pkg} found at ${found.path} but failed to load: ${errorText(e)}`);
    }
  }
  if (!tf.findBackendFactory('tensorflow')) {
    throw new BackendUnavailable('tensorflow', `${pkg} loaded but registered no "tensorflow" backend (version mismatch?)`);
  }
  await activate('tensorflow');
  return { device: 'CPU (libtensorflow)', threads: 0 };
}

async function loadWebgpu(o: ChainOptions): Promise<Loaded> {
  const roots = searchRoots(o);
  const found = resolveOptional('webgpu', roots);
  if (!found) {
    throw new BackendUnavailable('webgpu', `the Dawn binding (npm package \`webgpu\`) is not installed (looked from ${roots.join(' and ')} upwards); install it with \`npm install webgpu\` in the notebook's folder`);
  }
  throw new BackendUnavailable('webgpu', 'not probed yet');
}

/**
 * The Emscripten glue of tfjs-backend-wasm installs process handlers that rethrow every uncaught
 * exception and unhandled rejection, which would turn one failed promise in a cell into a dead
 * kernel. They are removed again right after the module starts.
 */
async function withoutEmscriptenHandlers<T>(fn: () => Promise<T>): Promise<T> {
  const ue = new Set(process.listeners('uncaughtException'));
  const ur = new Set(process.listeners('unhandledRejection'));
  try {
    return await fn();
  } finally {
    for (const l of process.listeners('uncaughtException')) if (!ue.has(l)) process.removeListener('uncaughtException', l);
    for (const l of process.listeners('unhandledRejection')) if (!ur.has(l)) process.removeListener('unhandledRejection', l);
  }
}

async function loadWasm(): Promise<Loaded> {
  if (!tf.findBackendFactory('wasm')) throw new BackendUnavailable('wasm', 'tfjs-backend-wasm did not register its backend');
  if (tf.engine().registry.wasm === undefined) setWasmPaths(wasmDir());
  setThreadsCount(1);
  await withoutEmscriptenHandlers(() => activate('wasm'));
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  return { device: `CPU (wasm${simd ? ', SIMD' : ''}, 1 thread)`, threads: 1 };
}

/** Steps of `auto`, in order. */
const AUTO: { step: keyof typeof loaders; label: string }[] = [
  { step: 'tensorflow-gpu', label: 'tensorflow (tfjs-node-gpu)' },
  { step: 'webgpu', label: 'webgpu' },
  { step: 'tensorflow-cpu', label: 'tensorflow (tfjs-node)' },
  { step: 'wasm', label: 'wasm' },
  { step: 'cpu', label: 'cpu' },
];

/**
 * The cpu backend prints an advert for tfjs-node on its first tensor; the runtime reports the backend
 * itself, and tests and benchmarks use cpu as the reference, so the advert is switched off.
 */
function quietCpu(): void {
  const b = tf.findBackend('cpu');
  if (b && 'firstUse' in b) Reflect.set(b, 'firstUse', false);
}

/** Runs the chain (or the forced backend) and records the result in the runtime state. */
export async function initBackendChain(o: ChainOptions): Promise<void> {
  quietCpu();
  const skipped: { backend: string; reason: string }[] = [];
  const steps =
    o.backend === 'auto'
      ? AUTO
      : o.backend === 'tensorflow'
        ? AUTO.filter((s) => s.step === 'tensorflow-gpu' || s.step === 'tensorflow-cpu')
        : AUTO.filter((s) => s.step === o.backend);
  for (const { step, label } of steps) {
    o.onProgress?.(`trying ${label}`);
    try {
      const loaded = await loaders[step](o);
      state.backend = tf.getBackend();
      state.device = loaded.device;
      state.threads = loaded.threads;
      state.skipped = skipped;
      o.onProgress?.(`using ${state.backend}: ${loaded.device}`);
      return;
    } catch (e) {
      const reason = errorText(e);
      skipped.push({ backend: label, reason });
      o.onProgress?.(`skipped ${label}: ${reason}`);
    }
  }
  state.skipped = skipped;
  const why = skipped.map((s) => `${s.backend}: ${s.reason}`).join('; ');
  throw new Error(`backend "${o.backend}" could not be loaded: ${why}`);
}
