// @ts-check
/**
 * Builds dist/types/: everything the notebook language service needs to type cells, at run time and in
 * the packaged extension (it ships with dist/**):
 *
 *   dist/types/affordance-lab/   declarations of kernel/ml/index.ts (and what it references: kernel/protocol.ts,
 *                                kernel/display.ts, kernel/runtime, JSON data), emitted with the TypeScript API
 *   dist/types/packages/         copies of the .d.ts files (and package.json) of the packages cells see typed:
 *                                @tensorflow/tfjs and the packages its types re-export, @types/node, undici-types
 *   dist/types/lib/              TypeScript's ES lib files (no DOM: the kernel is Node), because a bundled
 *                                TypeScript cannot find its own lib folder
 *   dist/types/language-worker.js  the language worker (extension/language/worker.ts with TypeScript, bundled
 *                                and minified): the extension host talks to it, so parsing and checking never
 *                                hold the host up
 *   dist/types/manifest.json     what was built, for the language service and for packaging checks
 *
 * The folder is called `packages`, not `node_modules`, so that packaging never drops it.
 * Run on its own (`node scripts/build-types.mjs`) or imported by esbuild.mjs; it throws (and, run on its own,
 * exits non-zero) when the library's declarations cannot be produced.
 */
import ts from 'typescript';
import * as esbuild from 'esbuild';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
// `--out <dir>` builds elsewhere (tests build their own copy, so a concurrent `npm run build` cannot swap it
// under them); only when this file is the script being run, not when esbuild.mjs imports it.
const ranDirectly = process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
const outFlag = ranDirectly ? process.argv.indexOf('--out') : -1;
if (outFlag >= 0 && !process.argv[outFlag + 1]) throw new Error('build-types: --out needs a folder');
const finalDir = outFlag >= 0 ? resolve(process.argv[outFlag + 1]) : join(root, 'dist', 'types');
// Built beside the final folder and swapped in at the end, so a reader never sees a half-written folder.
const outDir = `${finalDir}.tmp-${process.pid}`;

/**
 * Packages whose types ship. @tensorflow/tfjs's index.d.ts re-exports core, layers, converter, data and the
 * cpu and webgl backends, so those come with it; the wasm and webgpu backends are reached through the
 * kernel's runtime, not imported by cells, so they stay out (about 0.5 MB of declarations).
 */
const shippedPackages = [
  '@tensorflow/tfjs',
  '@tensorflow/tfjs-core',
  '@tensorflow/tfjs-layers',
  '@tensorflow/tfjs-converter',
  '@tensorflow/tfjs-data',
  '@tensorflow/tfjs-backend-cpu',
  '@tensorflow/tfjs-backend-webgl',
  '@types/node',
  'undici-types',
];

/** The library's entry, and the kernel globals' types when that file exists. */
const libraryRoots = ['kernel/ml/index.ts', 'kernel/session/globals.ts'];

/** @param {string} dir @param {(file: string) => boolean} keep @returns {string[]} */
function walk(dir, keep) {
  /** @type {string[]} */
  const found = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) {
      if (name !== 'node_modules') found.push(...walk(p, keep));
    } else if (keep(p)) found.push(p);
  }
  return found;
}

/** Copies a package's package.json and declaration files (tests' declarations left out). */
function copyPackageTypes(/** @type {string} */ name) {
  const src = join(root, 'node_modules', name);
  if (!existsSync(join(src, 'package.json'))) throw new Error(`build-types: package ${name} is not installed (expected ${src}/package.json); run npm ci`);
  const dest = join(outDir, 'packages', name);
  const files = walk(src, (p) => p.endsWith('.d.ts') && !p.endsWith('_test.d.ts') && !p.includes(`${sep}test_util`));
  for (const f of files) {
    const target = join(dest, relative(src, f));
    mkdirSync(dirname(target), { recursive: true });
    cpSync(f, target);
  }
  cpSync(join(src, 'package.json'), join(dest, 'package.json'));
  return files.length;
}

/** Emits the library's declarations; returns the entry .d.ts path relative to outDir. */
function emitLibrary() {
  const configPath = join(root, 'kernel', 'tsconfig.json');
  const config = ts.getParsedCommandLineOfConfigFile(configPath, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => { throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n')); } });
  if (!config) throw new Error(`build-types: cannot read ${configPath}`);
  const roots = libraryRoots.map((r) => join(root, r)).filter((p) => existsSync(p));
  if (!roots.some((r) => r.endsWith(join('ml', 'index.ts')))) throw new Error('build-types: kernel/ml/index.ts is missing');
  const libOut = join(outDir, 'affordance-lab');
  const options = {
    ...config.options,
    noEmit: false,
    declaration: true,
    emitDeclarationOnly: true,
    declarationMap: false,
    sourceMap: false,
    rootDir: root,
    outDir: libOut,
    // Declarations must come out even while another part of the library has a type error.
    noEmitOnError: false,
    composite: false,
    incremental: false,
  };
  const program = ts.createProgram({ rootNames: roots, options });
  const result = program.emit();
  // emitSkipped is also set when the program holds a JSON module (declaration-only emit writes nothing for
  // it), so the check that counts is below: the library's entry declaration must have been written.
  const why = [...program.getOptionsDiagnostics(), ...result.diagnostics].map((d) => ts.flattenDiagnosticMessageText(d.messageText, ' ')).slice(0, 5);
  const declErrors = result.diagnostics.filter((d) => d.category === ts.DiagnosticCategory.Error);
  for (const d of declErrors) {
    const where = d.file ? `${relative(root, d.file.fileName)}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}: ` : '';
    console.warn(`build-types: warning: ${where}${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`);
  }
  // JSON modules that the library imports are not emitted; their declarations refer to them, so copy them.
  for (const sf of program.getSourceFiles()) {
    if (sf.fileName.endsWith('.json') && !sf.fileName.includes('node_modules')) {
      const target = join(libOut, relative(root, sf.fileName));
      mkdirSync(dirname(target), { recursive: true });
      cpSync(sf.fileName, target);
    }
  }
  const entry = join(libOut, 'kernel', 'ml', 'index.d.ts');
  if (!existsSync(entry)) throw new Error(`build-types: TypeScript did not write ${entry}${why.length ? `: ${why.join('; ')}` : ''}`);
  const globals = join(libOut, 'kernel', 'session', 'globals.d.ts');
  return {
    entry: relative(outDir, entry).split(sep).join('/'),
    globals: existsSync(globals) ? relative(outDir, globals).split(sep).join('/') : null,
    warnings: declErrors.length,
  };
}

/** TypeScript's ES libs; DOM and web worker libs stay out (the kernel has neither). */
function copyLibs() {
  const src = dirname(ts.getDefaultLibFilePath({}));
  mkdirSync(join(outDir, 'lib'), { recursive: true });
  let n = 0;
  for (const f of readdirSync(src)) {
    if (/^lib\..*\.d\.ts$/.test(f) && !/dom|webworker|scripthost/.test(f)) {
      cpSync(join(src, f), join(outDir, 'lib', f));
      n++;
    }
  }
  return n;
}

/**
 * Replaces the final folder by the finished one with renames only, so a reader sees the old or the new
 * folder, and two builds at the same time (two `npm run build`s in one tree) do not trip over each other.
 */
function swapIn() {
  for (let attempt = 0; ; attempt++) {
    const old = `${finalDir}.old-${process.pid}-${attempt}`;
    try {
      renameSync(finalDir, old);
    } catch (e) {
      if (/** @type {NodeJS.ErrnoException} */ (e).code !== 'ENOENT') throw e;
    }
    try {
      renameSync(outDir, finalDir);
      rmSync(old, { recursive: true, force: true });
      return;
    } catch (e) {
      rmSync(old, { recursive: true, force: true });
      const code = /** @type {NodeJS.ErrnoException} */ (e).code ?? '';
      if (attempt >= 5 || !['ENOTEMPTY', 'EEXIST', 'EPERM', 'EBUSY'].includes(code)) throw e;
    }
  }
}

/** Folders left by builds that were killed half-way (their process is gone). */
function removeStaleBuilds() {
  for (const name of readdirSync(dirname(finalDir))) {
    const m = new RegExp(`^${basename(finalDir).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.(?:tmp|old)-(\\d+)(?:-\\d+)?$`).exec(name);
    if (!m) continue;
    let alive = true;
    try {
      process.kill(Number(m[1]), 0);
    } catch {
      alive = false;
    }
    if (!alive) rmSync(join(dirname(finalDir), name), { recursive: true, force: true });
  }
}

/** Bundles the language worker, TypeScript included, into one file. */
async function bundleWorker() {
  const outfile = join(outDir, 'language-worker.js');
  await esbuild.build({
    entryPoints: [join(root, 'extension', 'language', 'worker.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    // TypeScript is most of it: minified, the file is a third of the size and loads faster.
    minify: true,
    legalComments: 'none',
    logLevel: 'warning',
  });
  return relative(outDir, outfile).split(sep).join('/');
}

const started = Date.now();
mkdirSync(dirname(finalDir), { recursive: true });
removeStaleBuilds();
rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });
const library = emitLibrary();
const packages = Object.fromEntries(shippedPackages.map((p) => [p, copyPackageTypes(p)]));
const libs = copyLibs();
const worker = await bundleWorker();
const manifest = {
  typescript: ts.version,
  library: library.entry,
  globals: library.globals,
  lib: 'lib/lib.es2023.d.ts',
  worker,
  packages: Object.keys(packages),
};
writeFileSync(join(outDir, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
const files = walk(outDir, () => true);
const bytes = files.reduce((s, f) => s + statSync(f).size, 0);
swapIn();
console.log(`built ${relative(root, finalDir) || finalDir}: ${files.length} files, ${(bytes / 1e6).toFixed(1)} MB (${libs} lib files, ${library.warnings} declaration warning(s)) in ${Date.now() - started} ms`);
