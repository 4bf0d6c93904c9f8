/**
 * The backend chain. Each loader either makes its backend the engine's active one and returns the
 * device description, or throws a {@link BackendUnavailable} saying why (and how to install what is
 * missing). Optional native packages are resolved at run time from the notebook's folder upwards and
 * from the configured folder, never bundled and never needed to install the extension.
 */
import { createRequire } from 'node:module';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { availableParallelism, tmpdir } from 'node:os';
import { pathToFileURL } from 'node:url';
import { dirname, join, resolve } from 'node:path';
import type { BackendChoice, BackendName } from '../protocol';
import { tf } from './tf';
import { setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { threadsLabel, trainingThreads } from './threads';
import { registerWasmTrainingKernels } from './wasmKernels';
import { blasStatus } from './blas';
import { registerCpuFixes } from './cpuFixes';
import { registerGradientFixes } from './gradFixes';
import { installCheapSaves } from './engineSaves';
import { displayPath } from '../ml/viz/paths';
import { hookDawnEvents, installSyncReads } from './webgpuSync';

// Registered on import, so that a cell switching backends by hand (tf.setBackend) can train too.
registerWasmTrainingKernels();
registerCpuFixes();
registerGradientFixes();
installCheapSaves();

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

/**
 * Env variable that lets a forced `webgpu` backend use a software adapter (Mesa's lavapipe/llvmpipe,
 * SwiftShader): `1`/`true`/`yes`. For checking a setup and for tests; `auto` never uses a software adapter.
 */
export const WEBGPU_SOFTWARE_ENV = 'AFFORDANCE_LAB_WEBGPU_ALLOW_SOFTWARE';

/** Reads {@link WEBGPU_SOFTWARE_ENV}; anything else than 1/true/yes (or unset) is false. */
export function allowSoftwareFromEnv(env: NodeJS.ProcessEnv = process.env): boolean {
  return /^(1|true|yes)$/i.test(env[WEBGPU_SOFTWARE_ENV]?.trim() ?? '');
}

/**
 * GPU device nodes of a Linux machine: DRM render nodes (AMD, Intel, NVIDIA's open driver, virtio-gpu), NVIDIA's
 * proprietary nodes, and WSL's GPU paravirtualisation. Without any, Dawn can only offer a software adapter, which
 * `auto` would refuse anyway. `list` reads a folder's entry names (empty when it cannot).
 */
export function linuxGpuDeviceNodes(list: (dir: string) => string[]): string[] {
  return [
    ...list('/dev/dri').filter((f) => /^renderD\d+$/.test(f)).map((f) => `/dev/dri/${f}`),
    ...list('/dev').filter((f) => /^(nvidia\d+|dxg)$/.test(f)).map((f) => `/dev/${f}`),
  ];
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

export interface ChainOptions {
  backend: BackendChoice;
  notebookDir: string;
  nativeModulesPath?: string;
  /**
   * A forced `webgpu` backend may use a software adapter (default: the env variable
   * AFFORDANCE_LAB_WEBGPU_ALLOW_SOFTWARE). Ignored by `auto`, which never picks one.
   */
  allowSoftwareAdapter?: boolean;
  onProgress?: (msg: string) => void;
}

/** The WebGPU adapter in use (webgpu backend only). */
export interface AdapterState {
  name: string;
  vendor: string;
  architecture: string;
  /** A software rasteriser (lavapipe/llvmpipe, SwiftShader, WARP) rather than a GPU. */
  software: boolean;
}

interface RuntimeState {
  backend: string | undefined;
  device: string;
  threads: number;
  skipped: { backend: string; reason: string }[];
  adapter?: AdapterState;
}

const state: RuntimeState = { backend: undefined, device: 'not initialised', threads: 1, skipped: [] };

/** Current chain result (read by runtimeInfo). */
export function currentState(): Readonly<RuntimeState> {
  return state;
}

/** The search roots as messages print them: no absolute path of the machine in a saved notebook. */
function whereLooked(roots: string[], notebookDir: string): string {
  return roots.map((r) => (r === resolve(notebookDir) ? "the notebook's folder" : displayPath(r, notebookDir))).join(' and ');
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
  let dist = 'node_modules/@tensorflow/tfjs-backend-wasm/dist';
  try {
    dist = join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
    if (existsSync(join(dist, 'tfjs-backend-wasm.wasm'))) return dist + '/';
  } catch {
    // not running from source either
  }
  throw new BackendUnavailable('wasm', `the wasm backend's binaries were not found in ${beside} (the build copies them there) or in ${dist}`);
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
  adapter?: AdapterState;
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
  'tensorflow-gpu': async (o) => loadTensorflow(o, '@tensorflow/tfjs-node-gpu', true),
  'tensorflow-cpu': async (o) => loadTensorflow(o, '@tensorflow/tfjs-node', false),
  webgpu: async (o) => loadWebgpu(o, o.backend === 'webgpu' && (o.allowSoftwareAdapter ?? allowSoftwareFromEnv())),
  wasm: async () => loadWasm(),
  cpu: async () => {
    await activate('cpu');
    const threads = trainingThreads();
    return { device: `CPU (pure JavaScript, ${threadsLabel(threads)})`, threads };
  },
};

/** What tfjs-node's backend instance tells about itself (NodeJSKernelBackend). */
interface TensorflowBackendLike {
  isGPUPackage?: boolean;
  isUsingGpuDevice?: boolean;
}

/** Which package registered the process's "tensorflow" backend (one libtensorflow per process). */
let tensorflowFrom: string | undefined;

/** Name of the first NVIDIA GPU as nvidia-smi reports it (libtensorflow does not expose it). */
function nvidiaGpuName(): string | undefined {
  try {
    const r = spawnSync('nvidia-smi', ['--query-gpu=name', '--format=csv,noheader'], { encoding: 'utf8', timeout: 3000 });
    const name = r.status === 0 ? r.stdout.split('\n')[0]?.trim() : '';
    return name || undefined;
  } catch {
    return undefined;
  }
}

function packageVersion(req: NodeJS.Require, pkg: string): string | undefined {
  try {
    const v = (req(`${pkg}/package.json`) as { version?: unknown }).version;
    return typeof v === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
}

/**
 * tfjs-node-gpu 4.22's README: NVIDIA driver > 450, CUDA Toolkit 11.2, cuDNN 8.1; libtensorflow loads
 * libcudart.so.11.0, so any CUDA 11.x runtime (11.8 included) with cuDNN 8 serves; CUDA 12 does not.
 */
const CUDA_HELP = 'tfjs-node-gpu 4.x needs an NVIDIA driver (> 450) with the CUDA 11 runtime (11.2 documented; libcudart.so.11.0) and cuDNN 8 (8.1+) on the library path; CUDA 12 is not picked up';

async function loadTensorflow(o: ChainOptions, pkg: string, wantGpu: boolean): Promise<Loaded> {
  if (!tf.findBackendFactory('tensorflow')) {
    const roots = searchRoots(o);
    const found = resolveOptional(pkg, roots);
    if (!found) {
      throw new BackendUnavailable('tensorflow', `${pkg} is not installed (looked from ${whereLooked(roots, o.notebookDir)} upwards); install it with \`npm install ${pkg}\` in the notebook's folder or in the folder named by the nativeModulesPath setting`);
    }
    try {
      // The package registers backend "tensorflow" through its own tfjs-core copy. Engine, kernel and
      // gradient registries and the Tensor class are process globals (getGlobalNamespace()._tfengine,
      // _tfGlobals), so the kernel's bundled instance sees and uses that backend. Its copy of the cpu
      // backend re-registers the cpu kernels (quietly) and its tfjs-core copy every gradient, so the
      // runtime's cpu and gradient fixes are put back after.
      quietly(() => found.require(pkg));
      registerCpuFixes();
      registerGradientFixes();
    } catch (e) {
      throw new BackendUnavailable('tensorflow', `${pkg} found at ${found.path} but failed to load: ${errorText(e)}${wantGpu ? ` (${CUDA_HELP})` : ''}`);
    }
    if (!tf.findBackendFactory('tensorflow')) {
      throw new BackendUnavailable('tensorflow', `${pkg} loaded from ${found.path} but registered no "tensorflow" backend`);
    }
    tensorflowFrom = pkg;
    const v = packageVersion(found.require, pkg);
    if (v && v.split('.')[0] !== tf.version_core.split('.')[0]) {
      o.onProgress?.(`warning: ${pkg} ${v} next to the kernel's tfjs ${tf.version_core}; install a ${tf.version_core.split('.')[0]}.x version`);
    }
  }
  const backend = tf.findBackend('tensorflow') as (TensorflowBackendLike & object) | null;
  if (!backend) throw new BackendUnavailable('tensorflow', `the "tensorflow" backend from ${tensorflowFrom ?? pkg} failed to initialise`);
  const onGpu = backend.isUsingGpuDevice === true;
  if (wantGpu && !onGpu) {
    const why = tensorflowFrom === pkg ? `${pkg} loaded but TensorFlow found no usable CUDA device (${CUDA_HELP})` : `the tensorflow backend already loaded comes from ${tensorflowFrom ?? 'another package'}, a CPU build`;
    throw new BackendUnavailable('tensorflow', why);
  }
  await activate('tensorflow');
  const threads = availableParallelism();
  if (onGpu) return { device: `${nvidiaGpuName() ?? 'NVIDIA GPU'} (CUDA, libtensorflow)`, threads };
  return { device: `CPU (libtensorflow${tensorflowFrom === '@tensorflow/tfjs-node-gpu' ? ' from tfjs-node-gpu, no CUDA device' : ''}, ${threads} threads)`, threads };
}

/** The parts of the Dawn binding (npm `webgpu`) the runtime uses. */
interface DawnModule {
  create(flags: string[]): GpuLike;
  globals: Record<string, unknown>;
}
interface GpuLike {
  requestAdapter(opts?: { powerPreference?: string }): Promise<AdapterLike | null>;
}
interface AdapterLike {
  isFallbackAdapter?: boolean;
  info?: { vendor?: string; architecture?: string; device?: string; description?: string; isFallbackAdapter?: boolean };
}

/** Adapters that Dawn offers but that are software rasterisers, slower than wasm for training. */
const SOFTWARE_ADAPTER = /llvmpipe|swiftshader|softpipe|lavapipe|microsoft basic render/i;

/** How long the adapter request may take before the chain moves on. */
const ADAPTER_TIMEOUT_MS = 5000;

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/** On Linux, says when the Vulkan loader itself is missing (Dawn then only prints a warning). */
function vulkanHint(): string {
  if (process.platform !== 'linux') return '';
  const dirs = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib', '/lib/x86_64-linux-gnu', '/usr/local/lib'];
  return dirs.some((d) => existsSync(join(d, 'libvulkan.so.1'))) ? '' : '; libvulkan.so.1 is not installed';
}

/** Dawn (through Mesa) writes warnings when XDG_RUNTIME_DIR is unset; it gets a private temporary one. */
function ensureRuntimeDir(): void {
  if (process.platform !== 'linux' || process.env.XDG_RUNTIME_DIR) return;
  try {
    const dir = mkdtempSync(join(tmpdir(), 'affordance-lab-xdg-'));
    process.env.XDG_RUNTIME_DIR = dir;
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  } catch {
    // an unwritable temp folder only costs the warnings
  }
}

function isSoftware(a: AdapterLike): boolean {
  return a.isFallbackAdapter === true || a.info?.isFallbackAdapter === true || SOFTWARE_ADAPTER.test(adapterName(a)) || /^(cpu|software)$/i.test(a.info?.architecture ?? '');
}

function adapterName(a: AdapterLike): string {
  const i = a.info ?? {};
  return i.description || [i.vendor, i.architecture, i.device].filter(Boolean).join(' ') || 'unnamed adapter';
}

async function loadWebgpu(o: ChainOptions, allowSoftware: boolean): Promise<Loaded> {
  if (!tf.findBackendFactory('webgpu')) {
    const roots = searchRoots(o);
    const found = resolveOptional('webgpu', roots);
    if (!found) {
      throw new BackendUnavailable('webgpu', `the Dawn binding (npm package \`webgpu\`) is not installed (looked from ${whereLooked(roots, o.notebookDir)} upwards); install it with \`npm install webgpu\` in the notebook's folder`);
    }
    // `auto` does not start Dawn where Linux shows no GPU: it would find only a software adapter (and print its
    // limit warnings into whatever cell runs next). Allowing software adapters by env keeps the probe.
    if (o.backend === 'auto' && process.platform === 'linux' && !allowSoftwareFromEnv() && linuxGpuDeviceNodes(listDir).length === 0) {
      throw new BackendUnavailable('webgpu', 'no GPU device on this machine (no DRM render node, NVIDIA device or WSL GPU), so Dawn was not started; `backend: webgpu` still tries it');
    }
    let dawn: DawnModule;
    try {
      // The package is an ES module (webgpu 0.6): load it by file URL, which also works for CommonJS.
      const mod = (await import(pathToFileURL(found.path).href)) as Partial<DawnModule> & { default?: Partial<DawnModule> };
      const m = typeof mod.create === 'function' ? mod : mod.default;
      if (!m || typeof m.create !== 'function' || typeof m.globals !== 'object') throw new Error('it exports no create() and globals');
      dawn = m as DawnModule;
    } catch (e) {
      throw new BackendUnavailable('webgpu', `the Dawn binding at ${found.path} failed to load: ${errorText(e)}`);
    }
    ensureRuntimeDir();
    // Before create(): Dawn schedules its event processing through setImmediate from then on.
    hookDawnEvents();
    const gpu = dawn.create([]);
    let adapter: AdapterLike | null;
    try {
      adapter = await withTimeout(gpu.requestAdapter({ powerPreference: 'high-performance' }), ADAPTER_TIMEOUT_MS, 'the adapter request');
    } catch (e) {
      throw new BackendUnavailable('webgpu', `Dawn could not get a GPU adapter: ${errorText(e)}`);
    }
    if (!adapter) throw new BackendUnavailable('webgpu', `Dawn found no usable GPU adapter (no Vulkan, Metal or D3D12 driver with the features Dawn requires${vulkanHint()})`);
    const software = isSoftware(adapter);
    if (software && !allowSoftware) {
      throw new BackendUnavailable('webgpu', `Dawn offers only a software adapter (${adapterName(adapter)}), slower than wasm; set ${WEBGPU_SOFTWARE_ENV}=1 with backend webgpu to use it anyway`);
    }
    webgpuAdapter = { name: adapterName(adapter), vendor: adapter.info?.vendor ?? '', architecture: adapter.info?.architecture ?? '', software };
    // tfjs-backend-webgpu looks for navigator.gpu and the GPU* constants when it is first evaluated.
    Object.assign(globalThis, dawn.globals);
    const g = globalThis as { navigator?: object };
    if (!g.navigator) g.navigator = {};
    Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true });
    await import('@tensorflow/tfjs-backend-webgpu');
    if (!tf.findBackendFactory('webgpu')) throw new BackendUnavailable('webgpu', 'tfjs-backend-webgpu did not register its backend');
  }
  const a = webgpuAdapter;
  if (a?.software && !allowSoftware) {
    throw new BackendUnavailable('webgpu', `Dawn offers only a software adapter (${a.name}), slower than wasm; set ${WEBGPU_SOFTWARE_ENV}=1 with backend webgpu to use it anyway`);
  }
  try {
    await activate('webgpu');
    installSyncReads(tf.backend());
  } catch (e) {
    // A registered but broken webgpu backend must not be picked by tf.ready() later (it has the top priority).
    tf.removeBackend('webgpu');
    throw e;
  }
  const kind = a?.software ? 'software adapter, WebGPU, Dawn' : 'WebGPU, Dawn';
  return { device: `${a?.name ?? 'GPU'} (${kind})`, threads: 1, ...(a ? { adapter: { ...a } } : {}) };
}

let webgpuAdapter: AdapterState | undefined;

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
  // Each kernel runs on one thread; training uses `threads` data-parallel replicas (threads.ts).
  const threads = trainingThreads();
  // Matrix products and convolutions go to a system BLAS when one is installed (blas.ts).
  const found = blasStatus();
  const blasPart = found.blas ? `, BLAS: ${found.blas.description}` : '';
  return { device: `CPU (wasm${simd ? ', SIMD' : ''}${blasPart}, ${threadsLabel(threads)})`, threads };
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
      state.adapter = loaded.adapter;
      o.onProgress?.(`using ${state.backend}: ${loaded.device}`);
      return;
    } catch (e) {
      const reason = errorText(e);
      skipped.push({ backend: label, reason });
      o.onProgress?.(`skipped ${label}: ${reason}`);
    }
  }
  // The state still describes the backend that is active (if any); only the error tells of this attempt.
  const why = skipped.map((s) => `${s.backend}: ${s.reason}`).join('; ');
  throw new Error(`backend "${o.backend}" could not be loaded: ${why}`);
}
