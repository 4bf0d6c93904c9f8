/**
 * Packages the extension once (`npm run package`) and checks the .vsix: what must be in it is there,
 * nothing else is (no sources, tests, maps or stray node_modules), its size is under budget, and the
 * shipped native packages and the CLI work from the unpacked tree alone.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { extractZip, listZip, type ZipEntry } from './zip';

const ROOT = resolve(__dirname, '..', '..');
/** Packed to a temporary file so that a package being installed from out/ at the same time is not clobbered. */
const VSIX = join(mkdtempSync(join(tmpdir(), 'al-package-')), 'affordance-lab.vsix');
/**
 * Budget for the compressed .vsix. Most of it is native code the kernel needs: libvips (about 18 MB
 * uncompressed) and the esbuild binary (about 11 MB), then the type declarations for IntelliSense and
 * plotly. A regression that ships node_modules or source maps would blow well past it.
 */
const MAX_VSIX_BYTES = 24 * 1024 * 1024;

/** Runtime packages allowed under node_modules/ (native or loaded at run time, see .vscodeignore). */
const ALLOWED_PACKAGES = ['sharp', '@img/colour', '@img/sharp-linux-x64', '@img/sharp-libvips-linux-x64', 'detect-libc', 'semver', 'esbuild', '@esbuild/linux-x64', 'koffi'];

let entries: ZipEntry[] = [];
let names: string[] = [];

before(() => {
  // `npm run package` is "npm run build && vsce package ...". `npm test` has just built, so only the vsce
  // step runs here, with the flags from package.json (one place); a tree that was never built builds first.
  const script = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts.package;
  const vsceArgs = script.split('&&').at(-1)?.trim().split(/\s+/) ?? [];
  assert.equal(vsceArgs[0], 'vsce', `the package script should end with a vsce command: ${script}`);
  if (!existsSync(join(ROOT, 'dist', 'extension.js')) || !existsSync(join(ROOT, 'dist', 'kernel.js'))) {
    const b = spawnSync('npm', ['run', 'build'], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(b.status, 0, `npm run build failed:\n${b.stdout}\n${b.stderr}`);
  }
  const vsce = join(ROOT, 'node_modules', '.bin', 'vsce');
  const outAt = vsceArgs.indexOf('--out');
  assert.ok(outAt > 0, `the package script names its output with --out: ${script}`);
  vsceArgs[outAt + 1] = VSIX;
  const r = spawnSync(vsce, vsceArgs.slice(1), { cwd: ROOT, encoding: 'utf8' });
  assert.equal(r.status, 0, `${vsceArgs.join(' ')} failed (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
  entries = listZip(readFileSync(VSIX));
  names = entries.map((e) => e.name);
});

after(() => rmSync(dirname(VSIX), { recursive: true, force: true }));

/** Files the manifest points at (grammars, language configurations, renderer entry). */
function manifestFiles(): string[] {
  const m = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    contributes?: { grammars?: { path: string }[]; languages?: { configuration?: string }[]; notebookRenderer?: { entrypoint: string }[] };
  };
  const paths = [
    ...(m.contributes?.grammars ?? []).map((g) => g.path),
    ...(m.contributes?.languages ?? []).flatMap((l) => (l.configuration ? [l.configuration] : [])),
    ...(m.contributes?.notebookRenderer ?? []).map((r) => r.entrypoint),
  ];
  return paths.map((p) => `extension/${p.replace(/^\.\//, '')}`);
}

function missing(patterns: (string | RegExp)[]): string[] {
  return patterns.filter((p) => !names.some((n) => (typeof p === 'string' ? n === p : p.test(n)))).map(String);
}

void test('the .vsix holds the bundles, renderers, wasm binaries, samples, manifest, README and licence', () => {
  const samples = readdirSync(join(ROOT, 'samples')).filter((f) => f.endsWith('.ipynb'));
  const required: (string | RegExp)[] = [
    'extension/package.json',
    'extension/readme.md',
    'extension/LICENSE.txt',
    'extension/dist/extension.js',
    'extension/dist/kernel.js',
    'extension/dist/kernel-interrupt-worker.js',
    'extension/dist/cli.js',
    'extension/dist/renderer/renderer.js',
    'extension/dist/wasm/tfjs-backend-wasm.wasm',
    'extension/dist/wasm/tfjs-backend-wasm-simd.wasm',
    'extension/dist/wasm/tfjs-backend-wasm-threaded-simd.wasm',
    ...samples.map((s) => `extension/samples/${s}`),
    ...manifestFiles(),
  ];
  assert.deepEqual(missing(required), [], `missing from the .vsix; it holds:\n${names.join('\n')}`);
});

void test('the .vsix holds the native runtime packages: sharp with its addon and libvips, esbuild with its binary, koffi with its addon', () => {
  const required: (string | RegExp)[] = [
    'extension/node_modules/sharp/package.json',
    'extension/node_modules/sharp/dist/index.cjs',
    /^extension\/node_modules\/@img\/sharp-linux-x64\/lib\/sharp-linux-x64-[\d.]+\.node$/,
    /^extension\/node_modules\/@img\/sharp-libvips-linux-x64\/lib\/libvips-cpp\.so/,
    'extension/node_modules/@img/colour/index.cjs',
    'extension/node_modules/detect-libc/lib/detect-libc.js',
    'extension/node_modules/semver/index.js',
    'extension/node_modules/esbuild/lib/main.js',
    'extension/node_modules/@esbuild/linux-x64/bin/esbuild',
    'extension/node_modules/koffi/index.js',
    'extension/node_modules/koffi/build/koffi/linux_x64/koffi.node',
  ];
  assert.deepEqual(missing(required), []);
  const binary = entries.find((e) => e.name === 'extension/node_modules/@esbuild/linux-x64/bin/esbuild');
  assert.ok(binary && binary.mode & 0o100, `the esbuild binary keeps its executable bit (mode ${binary?.mode.toString(8)})`);
});

void test('no sources, tests, source maps or stray node_modules', () => {
  const problems: string[] = [];
  for (const n of names) {
    if (!n.startsWith('extension/')) {
      if (!['extension.vsixmanifest', '[Content_Types].xml'].includes(n)) problems.push(`${n}: outside extension/`);
      continue;
    }
    const p = n.slice('extension/'.length);
    if (p.endsWith('.map')) problems.push(`${n}: source map`);
    if (/\.(ts|tsx|mts|cts)$/.test(p) && !(p.startsWith('dist/types/') && /\.d\.(ts|mts|cts)$/.test(p))) problems.push(`${n}: TypeScript outside dist/types`);
    if (/^(extension|kernel|cli|renderer|test|bench|scripts|data|docs|\.vscode|\.ci|out)\//.test(p)) problems.push(`${n}: source or development folder`);
    if (/^(tsconfig.*\.json|esbuild\.mjs|eslint\.config\.mjs|package-lock\.json|\.vscodeignore|\.gitignore)$/.test(p)) problems.push(`${n}: development file`);
    const m = /^node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(p);
    if (p.startsWith('node_modules/') && !(m && ALLOWED_PACKAGES.includes(m[1]))) problems.push(`${n}: node_modules outside the allow-list`);
    if (/node_modules\/.*node_modules\//.test(p)) problems.push(`${n}: nested node_modules`);
    if (/\.(cc|h|gyp)$/.test(p)) problems.push(`${n}: native source`);
  }
  assert.deepEqual(problems, []);
});

void test(`the .vsix is under ${MAX_VSIX_BYTES / 1024 / 1024} MiB`, () => {
  const size = statSync(VSIX).size;
  assert.ok(size < MAX_VSIX_BYTES, `the .vsix is ${(size / 1024 / 1024).toFixed(1)} MiB, budget ${MAX_VSIX_BYTES / 1024 / 1024} MiB`);
  assert.ok(size > 1024 * 1024, `the .vsix is only ${size} bytes: the bundles cannot all be in it`);
});

void test('the manifest runs the extension from dist/ on the workspace side', () => {
  const entry = entries.find((e) => e.name === 'extension/package.json');
  assert.ok(entry);
  const dir = mkdtempSync(join(tmpdir(), 'al-vsix-manifest-'));
  try {
    extractZip(VSIX, dir);
    const manifest = JSON.parse(readFileSync(join(dir, 'extension', 'package.json'), 'utf8')) as { main: string; extensionKind: string[]; bin: Record<string, string> };
    assert.equal(manifest.main, './dist/extension.js');
    assert.deepEqual(manifest.extensionKind, ['workspace']);
    assert.equal(manifest.bin['affordance-lab'], './dist/cli.js');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('unpacked alone, the CLI starts and sharp and esbuild load from the shipped node_modules', () => {
  const dir = mkdtempSync(join(tmpdir(), 'al-vsix-'));
  try {
    extractZip(VSIX, dir);
    const ext = join(dir, 'extension');
    const version = spawnSync(process.execPath, [join(ext, 'dist', 'cli.js'), '--version'], { encoding: 'utf8' });
    assert.equal(version.status, 0, version.stderr);
    assert.match(version.stdout, /^affordance-lab \d+\.\d+\.\d+/);
    // Resolve from the unpacked tree only: a fresh Node with that folder as its working directory and no
    // access to this repository's node_modules (NODE_PATH cleared, require from the unpacked path).
    const script = `
      const sharp = require(${JSON.stringify(join(ext, 'node_modules', 'sharp'))});
      const esbuild = require(${JSON.stringify(join(ext, 'node_modules', 'esbuild'))});
      const code = esbuild.transformSync('let x: number = 1', { loader: 'ts' }).code.trim();
      sharp({ create: { width: 4, height: 3, channels: 3, background: '#ff0000' } }).png().toBuffer()
        .then((png) => sharp(png).metadata())
        .then((m) => console.log(JSON.stringify({ code, width: m.width, height: m.height, format: m.format })));
    `;
    const r = spawnSync(process.execPath, ['-e', script], { cwd: ext, encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout) as unknown, { code: 'let x = 1;', width: 4, height: 3, format: 'png' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
