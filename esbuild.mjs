// @ts-check
/**
 * One config factory, one bundle per runtime:
 *   extension  node / cjs, `vscode` external (the host provides it)
 *   kernel     node / cjs, the child process; native packages stay external (resolved at run time)
 *   cli        node / cjs, the headless runner (`affordance-lab run`)
 *   renderer   browser / esm with code splitting, so plotly is a lazily loaded chunk
 * A one-shot build exits non-zero on error; `--watch` logs and keeps going.
 */
import * as esbuild from 'esbuild';
import { cpSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');

/**
 * Native or optional packages: never bundled. tfjs-node(-gpu) and webgpu are found at run time from the
 * notebook's folder; sharp, esbuild and koffi (the foreign-function interface the kernel reaches a system
 * BLAS through) ship platform binaries.
 */
const nodeExternals = [
  'sharp',
  'esbuild',
  '@tensorflow/tfjs-node',
  '@tensorflow/tfjs-node-gpu',
  'webgpu',
  'koffi',
];

/**
 * @param {string} name
 * @param {Partial<esbuild.BuildOptions>} options
 * @returns {esbuild.BuildOptions}
 */
function config(name, options) {
  return {
    bundle: true,
    sourcemap: true,
    minify: production,
    logLevel: 'warning',
    metafile: true,
    legalComments: 'none',
    ...options,
    plugins: [...(options.plugins ?? []), reportPlugin(name)],
  };
}

/** @param {string} name @returns {esbuild.Plugin} */
function reportPlugin(name) {
  return {
    name: 'report',
    setup(build) {
      build.onEnd((result) => {
        if (watch) console.log(`[${name}] rebuilt with ${result.errors.length} error(s)`);
      });
    },
  };
}

const targets = [
  config('extension', {
    entryPoints: { extension: 'extension/extension.ts' },
    outdir: 'dist',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['vscode', ...nodeExternals],
  }),
  config('kernel', {
    entryPoints: { kernel: 'kernel/main.ts', 'kernel-interrupt-worker': 'kernel/session/interruptWorker.ts', 'train-worker': 'kernel/ml/train/trainWorker.ts' },
    outdir: 'dist',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: nodeExternals,
    // Globals the kernel uses are captured at start-up, so that a cell's `class Promise {}` cannot reach them.
    inject: ['kernel/intrinsics.ts'],
  }),
  config('cli', {
    entryPoints: { cli: 'cli/cli.ts' },
    outdir: 'dist',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    banner: { js: '#!/usr/bin/env node' },
    external: nodeExternals,
  }),
  config('renderer', {
    entryPoints: { renderer: 'renderer/index.ts' },
    outdir: 'dist/renderer',
    platform: 'browser',
    format: 'esm',
    splitting: true,
    target: 'es2022',
    chunkNames: 'chunks/[name]-[hash]',
  }),
];

/** The wasm backend loads its .wasm files from dist/wasm at run time. */
function copyRuntimeFiles() {
  const wasmSrc = 'node_modules/@tensorflow/tfjs-backend-wasm/dist';
  mkdirSync('dist/wasm', { recursive: true });
  for (const f of readdirSync(wasmSrc)) {
    if (f.endsWith('.wasm')) cpSync(join(wasmSrc, f), join('dist/wasm', f));
  }
}

const present = targets.filter((t) => {
  const entries = /** @type {Record<string, string>} */ (t.entryPoints);
  // A runtime whose entry files do not exist yet is skipped (and named), so partial trees still build.
  const missing = Object.values(entries).filter((p) => !existsSync(p));
  if (missing.length) console.warn(`skipping a bundle: missing ${missing.join(', ')}`);
  return missing.length === 0;
});

if (watch) {
  for (const t of present) {
    const ctx = await esbuild.context(t);
    await ctx.watch();
  }
  copyRuntimeFiles();
  console.log('watching…');
} else {
  const started = Date.now();
  try {
    await Promise.all(present.map((t) => esbuild.build(t)));
    copyRuntimeFiles();
    console.log(`built ${present.length} bundles in ${Date.now() - started} ms`);
  } catch {
    process.exit(1);
  }
  // Declarations for the notebook language service (dist/types, see scripts/build-types.mjs); a failure fails the build.
  try {
    await import('./scripts/build-types.mjs');
  } catch (e) {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  }
}
