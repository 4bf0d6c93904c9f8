/**
 * Texts of the status bar item and of "Show Runtime Info" (plain Node, tested without the editor).
 */
import type { KernelInfo, RuntimeInfo } from '../kernel/protocol';

/** States the status bar can show. */
export type ShownState = 'not started' | 'starting' | 'idle' | 'busy' | 'dead';

const ICONS: Record<ShownState, string> = {
  'not started': '$(circle-outline)',
  starting: '$(loading~spin)',
  idle: '$(circle-large-outline)',
  busy: '$(circle-large-filled)',
  dead: '$(error)',
};

/** e.g. "$(circle-large-outline) TS kernel: idle · wasm" */
export function statusBarText(state: ShownState, backend?: string): string {
  return `${ICONS[state]} TS kernel: ${state}${backend ? ` · ${backend}` : ''}`;
}

/** Tooltip: what the state means and what a click does. */
export function statusBarTooltip(state: ShownState, info?: KernelInfo): string {
  const lines = [`Affordance Lab kernel: ${state}`];
  if (info) lines.push(`pid ${info.pid}, Node ${info.nodeVersion}, ${info.runtime.backend} on ${info.runtime.device}`);
  if (state === 'dead') lines.push('The next run starts a fresh kernel.');
  lines.push('Click for runtime info.');
  return lines.join('\n');
}

function mib(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}

/** A multi-line report of the kernel's runtime (backend, device, why faster backends were skipped). */
export function formatRuntimeInfo(runtime: RuntimeInfo, kernel?: KernelInfo): string {
  const lines = [
    `Backend:  ${runtime.backend}`,
    `Device:   ${runtime.device}`,
    `Threads:  ${runtime.threads}`,
    `tfjs:     ${runtime.tfjsVersion}`,
    `Memory:   ${runtime.memory.numTensors} tensors, ${mib(runtime.memory.numBytes)}`,
  ];
  if (kernel) lines.push(`Kernel:   pid ${kernel.pid}, Node ${kernel.nodeVersion}, ready in ${Math.round(kernel.readyMs)} ms`);
  if (runtime.skipped.length) {
    lines.push('Skipped backends:');
    for (const s of runtime.skipped) lines.push(`  ${s.backend}: ${s.reason}`);
  }
  return lines.join('\n');
}
