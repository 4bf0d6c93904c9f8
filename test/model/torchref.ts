// Runs the PyTorch reference (test/model/torch/mit_reference.py) when PyTorch is installed, and reads what
// it writes. Tests that need it skip, saying why, when no python3 on this machine can import torch.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PIALNetConfig } from '../../kernel/ml/model/index';

const SCRIPT = join(__dirname, 'torch', 'mit_reference.py');

let found: string | null | undefined;

/** A python3 that can import torch (PYTHON, then python3 on PATH, then /usr/bin/python3), or null. */
export function torchPython(): string | null {
  if (found !== undefined) return found;
  found = null;
  for (const py of [process.env.PYTHON, 'python3', '/usr/bin/python3']) {
    if (!py) continue;
    const r = spawnSync(py, ['-c', 'import torch, numpy'], { encoding: 'utf8' });
    if (r.status === 0) {
      found = py;
      break;
    }
  }
  return found;
}

/** Reason a torch comparison is skipped, or false when it can run. */
export function torchSkip(): string | false {
  return torchPython() ? false : 'PyTorch is not installed for python3 (on Debian: apt-get install python3-torch); the comparison with PyTorch is skipped';
}

export interface RefConfig {
  embedDims: number[];
  depths: number[];
  heads: number[];
  srRatios: number[];
  mlpRatio: number;
  seed: number;
  /** [B, H, W] of each input */
  inputs: [number, number, number][];
  write?: ('zip' | 'legacy' | 'hf' | 'safetensors' | 'tfjs' | 'half')[];
  classes?: number;
}

export interface RefMeta {
  tensors: Record<string, number[]>;
  inputs: number[][];
  features: number[][][];
}

/** Runs the reference into `dir`; throws with python's stderr when it fails. */
export function runTorchReference(dir: string, cfg: RefConfig): RefMeta {
  const py = torchPython();
  if (!py) throw new Error('PyTorch is not installed');
  const r = spawnSync(py, [SCRIPT, dir, JSON.stringify(cfg)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`mit_reference.py failed (${r.status}): ${r.stderr}`);
  return JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as RefMeta;
}

export function readF32(file: string): Float32Array {
  const b = readFileSync(file);
  const out = new Float32Array(b.byteLength / 4);
  Buffer.from(out.buffer).set(b);
  return out;
}

/** Largest |a - b| relative to the largest |b|. */
export function relMaxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let d = 0;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  return d / (m || 1);
}

/** A small MiT (B0-like stage widths and heads, fewer blocks) that the reference and our model both build. */
export const SMALL_MIT: Omit<RefConfig, 'inputs' | 'write'> = { embedDims: [16, 32, 40, 64], depths: [2, 1, 2, 1], heads: [1, 2, 5, 8], srRatios: [8, 4, 2, 1], mlpRatio: 4, seed: 3 };

/** Our options for {@link SMALL_MIT}: the encoder-decoder baseline, 64 px. */
export const smallMitOptions: PIALNetConfig = {
  base: 'nano',
  inputSize: 64,
  embedDims: SMALL_MIT.embedDims as [number, number, number, number],
  depths: SMALL_MIT.depths as [number, number, number, number],
  heads: SMALL_MIT.heads as [number, number, number, number],
  srRatios: SMALL_MIT.srRatios as [number, number, number, number],
  mlpRatio: 4,
  baseline: 'encoder-decoder',
};
