/**
 * What the user chose in an output's controls (channel, colormap, split, sort, ...), kept in the
 * renderer state that VS Code persists with the notebook webview, so that an output drawn again (the
 * webview was reloaded, the kernel updated the output) opens the way it was left.
 */
import type { RendererContext } from 'vscode-notebook-renderer';

/** Saved control values of one output. */
export interface ViewMemory {
  /** The values saved for this output (empty when none); check each before use. */
  load(): Record<string, unknown>;
  /** Replaces the saved values of this output. */
  save(values: Record<string, unknown>): void;
}

/** Outputs remembered at most; the oldest are forgotten first. */
const MAX_OUTPUTS = 100;

interface Saved {
  outputs: Record<string, Record<string, unknown>>;
}

function read(context: RendererContext<unknown>): Saved {
  const s = context.getState();
  if (typeof s === 'object' && s !== null && typeof (s as Saved).outputs === 'object' && (s as Saved).outputs !== null) return s as Saved;
  return { outputs: {} };
}

/** The memory of output `id` in `context`'s state. */
export function viewMemory(context: RendererContext<unknown>, id: string): ViewMemory {
  return {
    load: () => ({ ...(read(context).outputs[id] ?? {}) }),
    save: (values) => {
      const outputs = { ...read(context).outputs };
      // Re-inserted last, so key order is least recently saved first.
      delete outputs[id];
      outputs[id] = values;
      const ids = Object.keys(outputs);
      for (const old of ids.slice(0, Math.max(0, ids.length - MAX_OUTPUTS))) delete outputs[old];
      try {
        context.setState({ outputs });
      } catch {
        // Losing a remembered control setting is harmless; drawing must go on.
      }
    },
  };
}

/** A saved boolean, or undefined. */
export function savedBool(v: unknown): boolean | undefined {
  return typeof v === 'boolean' ? v : undefined;
}

/** A saved finite number within [min, max], or undefined. */
export function savedNumber(v: unknown, min: number, max: number): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max ? v : undefined;
}

/** A saved value that is one of `allowed`, or undefined. */
export function savedOneOf<T extends string>(v: unknown, allowed: readonly T[]): T | undefined {
  return typeof v === 'string' && (allowed as readonly string[]).includes(v) ? (v as T) : undefined;
}
