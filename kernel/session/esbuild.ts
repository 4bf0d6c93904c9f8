/**
 * esbuild's JavaScript API for the kernel (cell transforms, local-file bundles), loaded so that names a
 * cell declares (`class Promise {}`) cannot break it: see kernel/intrinsics.ts.
 */
import { createRequire } from 'node:module';
import type * as esbuildTypes from 'esbuild';
import { loadShielded } from '../intrinsics';

type Esbuild = typeof esbuildTypes;
let api: Esbuild | undefined;

function esbuild(): Esbuild {
  if (!api) {
    const req = createRequire(typeof __filename === 'string' ? __filename : process.cwd() + '/noop.js');
    api = loadShielded<Esbuild>(req.resolve('esbuild'));
  }
  return api;
}

export const transform: Esbuild['transform'] = (...args) => esbuild().transform(...args);
export const build: Esbuild['build'] = ((...args: Parameters<Esbuild['build']>) => esbuild().build(...args)) as Esbuild['build'];
export type { Metafile, TransformFailure } from 'esbuild';
