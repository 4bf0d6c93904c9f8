/**
 * The part of the kernel client (kernel/client) that the hosts use, as an interface: the notebook
 * controller and the CLI depend on this narrow port, not on how the client manages its process.
 */
import type { BackendChoice, ExecuteParams, ExecuteResult, KernelInfo, MimeBundle, RuntimeInfo, StreamName } from '../kernel/protocol';

/** Where a running cell's outputs go, as they happen. */
export interface CellOutputSink {
  onStream(name: StreamName, text: string): void;
  onDisplay(displayId: string, bundle: MimeBundle, update: boolean, executeResult?: boolean): void;
  onClearDisplay(displayId: string): void;
}

/** Kernel states shown to the user. */
export type KernelState = 'starting' | 'idle' | 'busy' | 'dead';

/** A started kernel that runs cells one at a time, in the order they were submitted. */
export interface HostSession {
  execute(params: ExecuteParams, sink: CellOutputSink): Promise<ExecuteResult>;
  /** Cooperative interrupt first; after the grace period the kernel is restarted (state lost). */
  interrupt(): Promise<void>;
  restart(): Promise<void>;
  runtimeInfo(): Promise<RuntimeInfo>;
  /** How many timers the cells left scheduled (work whose output may still arrive). */
  pending(): Promise<number>;
  /** What the kernel reported when it became ready (undefined before). */
  readonly info: KernelInfo | undefined;
  onState(listener: (state: KernelState) => void): void;
  /** Stops the kernel process and waits for it to exit. */
  dispose(): Promise<void>;
}

/** Everything needed to start a kernel for one notebook (or one CLI run). */
export interface HostSessionOptions {
  notebookDir: string;
  backend: BackendChoice;
  /** dist/kernel.js */
  kernelScript: string;
  nodePath?: string;
  env?: Record<string, string>;
  startTimeoutMs: number;
  interruptGraceMs: number;
  maxOutputChars: number;
  nativeModulesPath?: string;
  onProgress?: (message: string) => void;
}
