/**
 * Tensor runtime of the kernel: picks the fastest backend the machine offers (see {@link initRuntime}),
 * registers the training kernels the wasm backend lacks, and reports what it runs on.
 *
 * Cells reach it as `runtime` from `affordance-lab`; `runtime.info()` shows backend, device, threads,
 * tfjs version and live memory.
 */
import type { BackendChoice, BackendName, MimeBundle, RuntimeInfo } from '../protocol';
import { MIME_BUNDLE } from '../display';
import { tf } from './tf';
import { initBackendChain, currentState, BACKEND_NAMES } from './backends';

export { WEBGPU_SOFTWARE_ENV } from './backends';
export { webgpuSyncReadCount } from './webgpuSync';
export { THREADS_ENV, trainingThreads } from './threads';

export { tf, TFJS_MODULES } from './tf';
export type { TfNamespace } from './tf';

/** Options of {@link initRuntime}. */
export interface RuntimeOptions {
  /** `auto` walks the chain; a named backend must load or initRuntime rejects with the reason. */
  backend: BackendChoice;
  /** Folder of the notebook: optional native packages are resolved from here upwards. */
  notebookDir: string;
  /** Extra folder searched for @tensorflow/tfjs-node-gpu, @tensorflow/tfjs-node and webgpu. */
  nativeModulesPath?: string;
  /**
   * A forced `webgpu` backend may use a software adapter (lavapipe, SwiftShader); default: env
   * AFFORDANCE_LAB_WEBGPU_ALLOW_SOFTWARE. `auto` never uses one.
   */
  allowSoftwareAdapter?: boolean;
  /** Progress lines while backends are probed (e.g. for the kernel banner). */
  onProgress?: (msg: string) => void;
}

/** Env variable that overrides the requested backend (also honoured by the CLI). */
export const BACKEND_ENV = 'AFFORDANCE_LAB_BACKEND';

/** Reads and validates {@link BACKEND_ENV}; undefined when unset or empty. */
export function backendFromEnv(env: NodeJS.ProcessEnv = process.env): BackendChoice | undefined {
  const raw = env[BACKEND_ENV]?.trim();
  if (!raw) return undefined;
  return parseBackendChoice(raw, `env ${BACKEND_ENV}`);
}

/** Validates a backend choice, naming where the value came from when it is not one of the known names. */
export function parseBackendChoice(value: string, source = 'backend'): BackendChoice {
  const v = value.trim().toLowerCase();
  if (v === 'auto' || (BACKEND_NAMES as readonly string[]).includes(v)) return v as BackendChoice;
  throw new Error(`${source}: unknown backend "${value}"; expected one of auto, ${BACKEND_NAMES.join(', ')}`);
}

let initPromise: Promise<RuntimeInfo> | undefined;

/**
 * Selects and initialises the tensor backend. The env variable AFFORDANCE_LAB_BACKEND overrides
 * `opts.backend`. `auto` tries tfjs-node-gpu (CUDA), WebGPU (Dawn), tfjs-node (CPU), wasm and cpu,
 * recording why each earlier one was skipped; a forced backend that cannot load rejects with the
 * reason and how to install it. Calling it again returns the first call's result.
 */
export function initRuntime(opts: RuntimeOptions): Promise<RuntimeInfo> {
  if (!initPromise) {
    initPromise = (async () => {
      const choice = backendFromEnv() ?? parseBackendChoice(String(opts.backend), 'backend option');
      await initBackendChain({ ...opts, backend: choice });
      return runtimeInfo();
    })();
    // A failed start may be retried (e.g. after the user installs the package).
    initPromise.catch(() => (initPromise = undefined));
  }
  return initPromise;
}

/** Snapshot of the runtime: backend, device, threads, tfjs version, skipped backends, live memory. */
export function runtimeInfo(): RuntimeInfo {
  const st = currentState();
  const backend = st.backend ?? tf.getBackend() ?? 'none';
  return {
    backend,
    device: st.device,
    threads: st.threads,
    tfjsVersion: tf.version_core,
    skipped: st.skipped.map((s) => ({ ...s })),
    memory: memorySnapshot(),
    ...(st.adapter && backend === 'webgpu' ? { adapter: { ...st.adapter } } : {}),
  };
}

/** tf.memory() plus the device-buffer figures a GPU backend reports (tfjs-backend-webgpu: numBytesInGPU). */
function memorySnapshot(): RuntimeInfo['memory'] {
  const mem = tf.memory() as ReturnType<typeof tf.memory> & { numBytesInGPU?: unknown; numBytesAllocatedInGPU?: unknown };
  const out: RuntimeInfo['memory'] = { numTensors: mem.numTensors, numBytes: mem.numBytes };
  if (typeof mem.numBytesInGPU === 'number') out.gpuBytes = mem.numBytesInGPU;
  if (typeof mem.numBytesAllocatedInGPU === 'number') out.gpuBytesAllocated = mem.numBytesAllocatedInGPU;
  return out;
}

/** {@link RuntimeInfo} that renders itself as a small table in a notebook. */
export type RuntimeInfoView = RuntimeInfo & { [MIME_BUNDLE](): MimeBundle };

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

/** Plain-text and markdown forms of a runtime snapshot (used by `runtime.info()` and the kernel banner). */
export function describeRuntime(info: RuntimeInfo): { text: string; markdown: string } {
  const m = info.memory;
  const gpu = m.gpuBytes === undefined ? '' : `; GPU buffers ${formatBytes(m.gpuBytes)} in use${m.gpuBytesAllocated === undefined ? '' : `, ${formatBytes(m.gpuBytesAllocated)} allocated`}`;
  const mem = `${m.numTensors} tensors, ${formatBytes(m.numBytes)}${gpu}`;
  const rows: [string, string][] = [
    ['backend', info.backend],
    ['device', info.device],
    ...(info.adapter ? [['adapter', `${info.adapter.software ? 'software' : 'hardware'} (${info.adapter.name})`] as [string, string]] : []),
    ['threads', info.threads > 1 && (info.backend === 'wasm' || info.backend === 'cpu') ? `${info.threads} (training: one data-parallel replica per thread; other work on 1)` : String(info.threads)],
    ['tfjs', info.tfjsVersion],
    ['memory', mem],
  ];
  const skipped = info.skipped.map((s) => `${s.backend}: ${s.reason}`);
  const esc = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const markdown = [
    '| runtime | |',
    '|---|---|',
    ...rows.map(([k, v]) => `| ${k} | ${esc(v)} |`),
    ...(skipped.length ? ['', '**Skipped backends**', '', ...skipped.map((s) => `- ${esc(s)}`)] : []),
  ].join('\n');
  const text = [
    ...rows.map(([k, v]) => `${k.padEnd(8)} ${v}`),
    ...(skipped.length ? ['skipped', ...skipped.map((s) => `  - ${s}`)] : []),
  ].join('\n');
  return { text, markdown };
}

/** Runtime snapshot as a displayable object (plain fields plus a markdown/plain MIME bundle). */
export function runtimeInfoView(): RuntimeInfoView {
  const info = runtimeInfo();
  const view: RuntimeInfoView = {
    ...info,
    [MIME_BUNDLE](): MimeBundle {
      const d = describeRuntime(info);
      return { 'text/markdown': d.markdown, 'text/plain': d.text };
    },
  };
  return view;
}

/** The runtime as cells see it: `import { runtime } from 'affordance-lab'; runtime.info()`. */
export const runtime = {
  /** What the kernel's tensors run on, displayed as a table in a notebook. */
  info: runtimeInfoView,
  /** Live tensor memory of the engine. */
  memory: (): RuntimeInfo['memory'] => memorySnapshot(),
  /** The kernel's tfjs instance (the same object cells get for `@tensorflow/tfjs`). */
  tf,
};

export type { BackendName };
