/**
 * Kernel settings: the `affordanceLab.*` configuration plus the AFFORDANCE_LAB_BACKEND override,
 * validated once, with messages that name the setting and the value. Plain Node (no `vscode` import):
 * the controller passes a reader over `workspace.getConfiguration('affordanceLab')`.
 */
import type { BackendChoice } from '../kernel/protocol';
import { MAX_THREADS, THREADS_ENV } from '../kernel/runtime/threads';

/** Every accepted value of `affordanceLab.backend` and AFFORDANCE_LAB_BACKEND. */
export const BACKEND_CHOICES: readonly BackendChoice[] = ['auto', 'tensorflow', 'webgpu', 'wasm', 'cpu'];

/** Env variable that overrides the backend setting (the CLI honours it too). */
export const BACKEND_ENV_VAR = 'AFFORDANCE_LAB_BACKEND';

/** Settings of one kernel start, in the units the kernel client takes. */
export interface KernelSettings {
  backend: BackendChoice;
  /** Where the backend choice came from, for the status bar and error messages. */
  backendSource: 'setting' | 'env' | 'default';
  /** Node executable; undefined means the Node that runs the host. */
  nodePath?: string;
  nativeModulesPath?: string;
  /** `affordanceLab.webgpuAllowSoftware`: a forced webgpu backend may use a software adapter. */
  webgpuAllowSoftware: boolean;
  /** `affordanceLab.trainingThreads`: training replicas on the CPU backends; undefined means one per core. */
  trainingThreads?: number;
  interruptGraceMs: number;
  startTimeoutMs: number;
  maxOutputChars: number;
}

/** A setting or env value that cannot be used; the message names it and says what is expected. */
export class SettingsError extends Error {
  override name = 'SettingsError';
}

/** Defaults, the same as package.json's `contributes.configuration`. */
export const DEFAULTS = { interruptGraceSeconds: 3, kernelStartTimeoutSeconds: 30, maxOutputChars: 1_000_000 } as const;

/**
 * Parses a backend name.
 * @param where how to name the source in an error, e.g. "AFFORDANCE_LAB_BACKEND"
 * @throws SettingsError for a value that is not a backend
 */
export function parseBackend(value: string, where: string): BackendChoice {
  const v = value.trim().toLowerCase();
  const found = BACKEND_CHOICES.find((b) => b === v);
  if (!found) throw new SettingsError(`${where} is "${value}", which is not a backend; expected one of ${BACKEND_CHOICES.join(', ')}`);
  return found;
}

function positiveNumber(read: (key: string) => unknown, key: string, fallback: number): number {
  const v = read(key);
  if (v === undefined || v === null || v === '') return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
    throw new SettingsError(`setting affordanceLab.${key} is ${JSON.stringify(v)}; expected a positive number`);
  }
  return v;
}

function optionalBoolean(read: (key: string) => unknown, key: string): boolean {
  const v = read(key);
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean') throw new SettingsError(`setting affordanceLab.${key} is ${JSON.stringify(v)}; expected true or false`);
  return v;
}

/** `affordanceLab.trainingThreads`: 0 or unset means one per core (the kernel's default). */
function optionalThreads(read: (key: string) => unknown, key: string): number | undefined {
  const v = read(key);
  if (v === undefined || v === null || v === 0) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > MAX_THREADS) {
    throw new SettingsError(`setting affordanceLab.${key} is ${JSON.stringify(v)}; expected a whole number from 1 to ${MAX_THREADS}, or 0 for one per core`);
  }
  return v;
}

function optionalString(read: (key: string) => unknown, key: string): string | undefined {
  const v = read(key);
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new SettingsError(`setting affordanceLab.${key} is ${JSON.stringify(v)}; expected a string`);
  return v.trim() || undefined;
}

/**
 * Resolves the kernel settings.
 * @param read returns the raw value of `affordanceLab.<key>` (undefined when unset)
 * @param env the process environment; a non-empty AFFORDANCE_LAB_BACKEND wins over the setting
 * @throws SettingsError naming the first setting or variable that cannot be used
 */
export function resolveKernelSettings(read: (key: string) => unknown, env: Record<string, string | undefined>): KernelSettings {
  const envBackend = env[BACKEND_ENV_VAR]?.trim();
  const settingBackend = optionalString(read, 'backend');
  let backend: BackendChoice = 'auto';
  let backendSource: KernelSettings['backendSource'] = 'default';
  if (envBackend) {
    backend = parseBackend(envBackend, BACKEND_ENV_VAR);
    backendSource = 'env';
  } else if (settingBackend) {
    backend = parseBackend(settingBackend, 'setting affordanceLab.backend');
    backendSource = 'setting';
  }
  return {
    backend,
    backendSource,
    nodePath: optionalString(read, 'nodePath'),
    nativeModulesPath: optionalString(read, 'nativeModulesPath'),
    webgpuAllowSoftware: optionalBoolean(read, 'webgpuAllowSoftware'),
    trainingThreads: optionalThreads(read, 'trainingThreads'),
    interruptGraceMs: positiveNumber(read, 'interruptGraceSeconds', DEFAULTS.interruptGraceSeconds) * 1000,
    startTimeoutMs: positiveNumber(read, 'kernelStartTimeoutSeconds', DEFAULTS.kernelStartTimeoutSeconds) * 1000,
    maxOutputChars: Math.floor(positiveNumber(read, 'maxOutputChars', DEFAULTS.maxOutputChars)),
  };
}

/**
 * How to launch the kernel's Node: a configured executable as is, or the host's own executable. Inside
 * VS Code that is Electron, which behaves as plain Node only with ELECTRON_RUN_AS_NODE=1.
 * @param hostExecPath `process.execPath` of the host
 */
export function kernelLaunch(
  settings: Pick<KernelSettings, 'nodePath'> & { webgpuAllowSoftware?: boolean; trainingThreads?: number },
  hostExecPath: string,
  hostEnv: Record<string, string | undefined> = process.env,
): { nodePath: string; env: Record<string, string> } {
  // The kernel's runtime reads these variables (the host's own values, if set, reach it too and win).
  const software: Record<string, string> = settings.webgpuAllowSoftware ? { AFFORDANCE_LAB_WEBGPU_ALLOW_SOFTWARE: '1' } : {};
  if (settings.trainingThreads && !hostEnv[THREADS_ENV]?.trim()) software[THREADS_ENV] = String(settings.trainingThreads);
  if (settings.nodePath) return { nodePath: settings.nodePath, env: { ...software } };
  return { nodePath: hostExecPath, env: { ELECTRON_RUN_AS_NODE: '1', ...software } };
}
