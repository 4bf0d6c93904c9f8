/**
 * Module resolution for cells (`import` declarations, `import()` and `require`).
 *
 * - `affordance-lab` is the kernel's own library, and `@tensorflow/tfjs`, `-core` and `-layers` are the
 *   kernel's single tfjs instance (two instances would mean two engines whose tensors neither accepts);
 * - Node's built-in modules are Node's;
 * - relative and absolute paths are local files, resolved from the notebook's folder; TypeScript and
 *   JavaScript files are bundled by esbuild (packages stay external, resolved by this same loader) and
 *   rebuilt when one of their inputs changes;
 * - any other package is resolved from the notebook's folder upwards, then from the extension's folder:
 *   CommonJS packages through `createRequire`, ES modules through `import()` with the notebook's folder
 *   as the importing location.
 */
import { createRequire, builtinModules, Module } from 'node:module';
import { dirname, extname, isAbsolute, join, resolve, sep } from 'node:path';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as vm from 'node:vm';
import { build, type Metafile } from './esbuild';
import { TraceMap } from '@jridgewell/trace-mapping';
import { tf } from '../runtime/index';
import { registerSourceMap } from './stack';
import { runShielded } from '../intrinsics';

/** A module as cells see it: a namespace object whose `default` is the module's default export. */
export type ModuleNamespace = Record<string | symbol, unknown>;

/** Package names that always mean the kernel's own tfjs instance. */
export const TFJS_ALIASES = ['@tensorflow/tfjs', '@tensorflow/tfjs-core', '@tensorflow/tfjs-layers'] as const;
/** The package name of the kernel's library. */
export const LIBRARY_NAME = 'affordance-lab';

type LibraryNamespace = typeof import('../ml/index.js');

const LOCAL_EXTENSIONS = new Set(['.ts', '.tsx', '.mts', '.cts', '.js', '.jsx', '.mjs', '.cjs']);

/** A module that could not be found anywhere the kernel looks. */
export class ModuleNotFoundError extends Error {
  readonly code = 'MODULE_NOT_FOUND';
  constructor(spec: string, searched: string[], cause?: unknown) {
    super(`Cannot find module '${spec}' (searched from ${searched.join(' and ')})`, { cause });
    this.name = 'ModuleNotFoundError';
  }
}

interface LocalModule {
  inputs: { file: string; mtimeMs: number }[];
  exports: unknown;
}

function isBareSpecifier(spec: string): boolean {
  return !(spec.startsWith('.') || spec.startsWith('/') || isAbsolute(spec) || spec.startsWith('file:'));
}

function packageType(file: string): 'module' | 'commonjs' {
  let dir = dirname(file);
  for (;;) {
    const pj = join(dir, 'package.json');
    if (existsSync(pj)) {
      try {
        const type = (JSON.parse(readFileSync(pj, 'utf8')) as { type?: string }).type;
        return type === 'module' ? 'module' : 'commonjs';
      } catch {
        return 'commonjs';
      }
    }
    const up = dirname(dir);
    if (up === dir) return 'commonjs';
    dir = up;
  }
}

function isEsmFile(file: string): boolean {
  const ext = extname(file);
  if (ext === '.mjs') return true;
  if (ext === '.cjs' || ext === '.json' || ext === '.node') return false;
  return packageType(file) === 'module';
}

/** Namespace view of a CommonJS module: every property of `module.exports`, plus `default`. */
function cjsNamespace(exports: unknown): ModuleNamespace {
  if ((typeof exports !== 'object' && typeof exports !== 'function') || exports === null) return { default: exports };
  const target = exports as ModuleNamespace;
  return new Proxy(target, {
    get(t, key) {
      if (key === 'default' && !Object.prototype.hasOwnProperty.call(t, 'default')) return t;
      if (key === '__esModule') return undefined;
      return t[key];
    },
    has(t, key) {
      return key === 'default' || key in t;
    },
  });
}

/**
 * Resolves and loads modules for the cells of one notebook.
 */
export class ModuleLoader {
  private library: LibraryNamespace | undefined;
  private libraryPromise: Promise<LibraryNamespace> | undefined;
  private readonly local = new Map<string, LocalModule>();
  private readonly withDefault = new WeakMap<object, ModuleNamespace>();
  private readonly esmImporters = new Map<string, ((spec: string) => Promise<ModuleNamespace>) | null>();

  /**
   * @param notebookDir folder of the notebook: relative paths and packages are resolved from here
   * @param fallbackDir folder searched for packages after the notebook's (the extension's folder)
   * @param options.nodeEsmResolver false: resolve ES-module-only packages by reading their package.json
   *   even where Node's own resolver is available (it is missing in older Electron versions)
   */
  constructor(
    readonly notebookDir: string,
    readonly fallbackDir: string,
    private readonly options: { nodeEsmResolver?: boolean } = {},
  ) {}

  /** Loads `affordance-lab` (in the background after start-up, so that the first import is quick). */
  loadLibrary(): Promise<LibraryNamespace> {
    this.libraryPromise ??= import('../ml/index.js').then((m) => (this.library = m));
    return this.libraryPromise;
  }

  /** The module for `import(spec)` from a cell. */
  async import(spec: unknown, names?: readonly string[]): Promise<ModuleNamespace> {
    const ns = await this.importAny(spec);
    // `import { x } from 'm'` of a name m does not export: a SyntaxError, as Node and Deno report it.
    for (const name of names ?? []) {
      if (!(name in ns)) throw new SyntaxError(`The requested module '${String(spec)}' does not provide an export named '${name}'`);
    }
    return ns;
  }

  private async importAny(spec: unknown): Promise<ModuleNamespace> {
    if (typeof spec !== 'string') throw new TypeError(`import(): expected a module name or path as a string, got ${typeof spec}`);
    if (spec === LIBRARY_NAME) return (await this.loadLibrary()) as unknown as ModuleNamespace;
    if ((TFJS_ALIASES as readonly string[]).includes(spec)) return tf as unknown as ModuleNamespace;
    if (spec.startsWith('node:') || builtinModules.includes(spec)) return (await import(spec)) as ModuleNamespace;
    if (!isBareSpecifier(spec)) return cjsNamespace(await this.loadLocal(this.localPath(spec, this.notebookDir)));
    return this.importPackage(spec);
  }

  /**
   * `import d from 'm'` needs a default export; the kernel's bundled namespaces have none, so the
   * namespace itself stands in for it (as Node does for CommonJS modules).
   */
  withDefaultExport(ns: ModuleNamespace): ModuleNamespace {
    if (typeof ns !== 'object' || ns === null || 'default' in ns) return ns;
    let wrapped = this.withDefault.get(ns);
    if (!wrapped) {
      wrapped = new Proxy(ns, {
        get: (t, key) => (key === 'default' ? t : t[key]),
        has: (t, key) => key === 'default' || key in t,
      });
      this.withDefault.set(ns, wrapped);
    }
    return wrapped;
  }

  /** Synchronous `require` for cells and for local files, resolving from `fromDir`. */
  require(spec: string, fromDir: string = this.notebookDir): unknown {
    if (spec === LIBRARY_NAME) {
      if (!this.library) throw new Error(`'${LIBRARY_NAME}' is still loading: use \`import ... from '${LIBRARY_NAME}'\` in the cell`);
      return this.library;
    }
    if ((TFJS_ALIASES as readonly string[]).includes(spec)) return tf;
    if (spec.startsWith('node:') || builtinModules.includes(spec)) return createRequire(join(fromDir, 'noop.js'))(spec);
    if (!isBareSpecifier(spec)) {
      const file = this.localPath(spec, fromDir);
      const ext = extname(file);
      if (ext === '.json' || ext === '.node') return createRequire(join(fromDir, 'noop.js'))(file);
      throw new Error(`require('${spec}'): local TypeScript/JavaScript files are loaded with \`import\` in a cell`);
    }
    const errors: unknown[] = [];
    for (const dir of this.searchDirs(fromDir)) {
      const req = createRequire(join(dir, 'noop.js'));
      try {
        return req(spec);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw e;
        errors.push(e);
      }
    }
    throw new ModuleNotFoundError(spec, this.searchDirs(fromDir), errors[0]);
  }

  private searchDirs(fromDir: string): string[] {
    return fromDir === this.fallbackDir ? [fromDir] : [fromDir, this.fallbackDir];
  }

  private localPath(spec: string, fromDir: string): string {
    const p = spec.startsWith('file:') ? fileURLToPath(spec) : resolve(fromDir, spec);
    return p;
  }

  private async importPackage(spec: string, fromDir: string = this.notebookDir): Promise<ModuleNamespace> {
    const loaded = await this.loadPackage(spec, fromDir);
    return loaded.esm ? (loaded.value as ModuleNamespace) : cjsNamespace(loaded.value);
  }

  /**
   * A package as `import` sees it: an ES module's namespace, or a CommonJS module's `module.exports`.
   * Resolution follows Node's order of conditions for `import` (a package whose `exports` has both an
   * `import` and a `require` build gives its `import` build).
   */
  private async loadPackage(spec: string, fromDir: string): Promise<{ esm: boolean; value: unknown }> {
    const searched = this.searchDirs(fromDir);
    let firstError: unknown;
    for (const dir of searched) {
      const entry = exportsEntry(spec, dir);
      if (entry) {
        if (!isEsmFile(entry)) return { esm: false, value: createRequire(join(dir, 'noop.js'))(entry) };
        return { esm: true, value: await import(pathToFileURL(entry).href) };
      }
      // No `exports` map: `main`, which require and import both use. CommonJS through require, which
      // gives every property of module.exports, not only those Node can detect.
      let resolved: string | undefined;
      try {
        resolved = createRequire(join(dir, 'noop.js')).resolve(spec);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code !== 'MODULE_NOT_FOUND' && code !== 'ERR_PACKAGE_PATH_NOT_EXPORTED') throw e;
      }
      if (resolved && !isEsmFile(resolved)) return { esm: false, value: createRequire(join(dir, 'noop.js'))(spec) };
      if (resolved) return { esm: true, value: await import(pathToFileURL(resolved).href) };
      // ES-module-only packages (`exports` with an `import` condition only): Node's ESM resolver, or
      // on a Node without it (older Electron), the package's `exports`/`module`/`main` read here.
      const importer = this.esmImporter(dir);
      if (!importer) {
        const entry = resolvePackageEntry(spec, dir);
        if (entry) return { esm: true, value: await import(pathToFileURL(entry).href) };
        continue;
      }
      try {
        return { esm: true, value: await importer(spec) };
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'ERR_PACKAGE_PATH_NOT_EXPORTED') throw e;
        firstError ??= e;
      }
    }
    throw new ModuleNotFoundError(spec, searched, firstError);
  }

  /** `import(spec)` as if written in a file of `dir` (Node's ESM resolution, conditions import/node). */
  private esmImporter(dir: string): ((spec: string) => Promise<ModuleNamespace>) | null {
    if (this.esmImporters.has(dir)) return this.esmImporters.get(dir) ?? null;
    const loader = this.options.nodeEsmResolver === false ? undefined : (vm.constants as unknown as { USE_MAIN_CONTEXT_DEFAULT_LOADER?: symbol }).USE_MAIN_CONTEXT_DEFAULT_LOADER;
    let fn: ((spec: string) => Promise<ModuleNamespace>) | null = null;
    if (loader) {
      const script = new vm.Script('(spec) => import(spec)', {
        filename: join(dir, '[notebook]'),
        importModuleDynamically: loader as unknown as vm.ScriptOptions['importModuleDynamically'],
      });
      fn = script.runInThisContext() as (spec: string) => Promise<ModuleNamespace>;
    }
    this.esmImporters.set(dir, fn);
    return fn;
  }

  /** Loads the external packages of a bundle; ES modules get `__esModule`, so the bundle's interop keeps their default export. */
  private async preloadPackages(meta: Metafile, absWorkingDir: string): Promise<Map<string, unknown>> {
    const out = new Map<string, unknown>();
    for (const [spec, fromDir] of externalPackages(meta, absWorkingDir)) {
      const loaded = await this.loadPackage(spec, fromDir);
      if (!loaded.esm) out.set(spec, loaded.value);
      else {
        const ns = loaded.value as ModuleNamespace;
        out.set(spec, new Proxy(ns, { get: (t, k) => (k === '__esModule' ? true : t[k]), has: (t, k) => k === '__esModule' || k in t }));
      }
    }
    return out;
  }

  /** Bundles a local file (packages external) and runs it as a CommonJS module; cached until an input changes. */
  private async loadLocal(file: string): Promise<unknown> {
    const cached = this.local.get(file);
    if (cached && cached.inputs.every((i) => existsSync(i.file) && statSync(i.file).mtimeMs === i.mtimeMs)) return cached.exports;
    const ext = extname(file);
    if (ext === '.json') return JSON.parse(readFileSync(file, 'utf8')) as unknown;
    if (ext && !LOCAL_EXTENSIONS.has(ext)) throw new Error(`import '${file}': expected a .ts, .js, .mjs, .cjs or .json file`);
    const absWorkingDir = this.notebookDir;
    let result;
    try {
      result = await build({
        entryPoints: [file],
        absWorkingDir,
        bundle: true,
        write: false,
        format: 'cjs',
        platform: 'node',
        target: 'es2022',
        packages: 'external',
        sourcemap: 'external',
        outfile: join(dirname(file), '[bundle].js'),
        metafile: true,
        logLevel: 'silent',
      });
    } catch (e) {
      const errors = (e as { errors?: { text: string; location?: { file: string; line: number; column: number } | null }[] }).errors;
      if (errors?.length) {
        const first = errors[0];
        const where = first.location ? `${resolve(absWorkingDir, first.location.file)}:${first.location.line}:${first.location.column + 1}: ` : '';
        const err = new SyntaxError(`${where}${first.text}`);
        throw err;
      }
      throw e;
    }
    const js = result.outputFiles.find((f) => f.path.endsWith('.js'));
    const map = result.outputFiles.find((f) => f.path.endsWith('.map'));
    if (!js) throw new Error(`import '${file}': esbuild produced no output`);
    const entry = Object.keys(result.metafile.inputs).map((p) => resolve(absWorkingDir, p));
    const filename = entry.find((p) => p === file || p.startsWith(file + '.') || p.startsWith(file + sep)) ?? file;
    const dir = dirname(filename);
    if (map) {
      const sourcesBase = dirname(join(dirname(file), '[bundle].js'));
      registerSourceMap(filename, () => new TraceMap(map.text), (source) => resolve(sourcesBase, source));
    }
    // Packages the file imports are loaded as a cell would load them (ES-module-only ones included, since
    // the bundle's require cannot load those), before its code runs.
    const preloaded = await this.preloadPackages(result.metafile, absWorkingDir);
    const mod = new Module(filename);
    mod.filename = filename;
    mod.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(dir);
    const needsLibrary = needsLibraryImport(result.metafile);
    if (needsLibrary) await this.loadLibrary();
    // The bundle's own `require` calls (its external packages) go through this loader.
    mod.require = Object.assign((spec: string) => (preloaded.has(spec) ? preloaded.get(spec) : this.require(spec, dir)), { resolve: createRequire(filename).resolve }) as unknown as NodeJS.Require;
    // Run as a module of its own: the globals it sees are the real ones, whatever names cells declared.
    runShielded(js.text, filename, mod, mod.require as NodeJS.Require);
    const inputs = entry.map((p) => ({ file: p, mtimeMs: statSync(p).mtimeMs }));
    this.local.set(file, { inputs, exports: mod.exports });
    return mod.exports;
  }
}

/** The bare package specifiers a bundle leaves external, each with the folder of a file importing it. */
function externalPackages(meta: Metafile, absWorkingDir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const [input, info] of Object.entries(meta.inputs)) {
    for (const imp of info.imports) {
      if (!imp.external || !isBareSpecifier(imp.path) || out.has(imp.path)) continue;
      if (imp.path === LIBRARY_NAME || (TFJS_ALIASES as readonly string[]).includes(imp.path) || imp.path.startsWith('node:') || builtinModules.includes(imp.path)) continue;
      out.set(imp.path, dirname(resolve(absWorkingDir, input)));
    }
  }
  return out;
}

function needsLibraryImport(meta: Metafile): boolean {
  return Object.values(meta.outputs).some((o) => o.imports.some((i) => i.external && i.path === LIBRARY_NAME));
}

const ESM_CONDITIONS = new Set(['import', 'node', 'default']);

/** Picks the target of an `exports` value for the conditions import/node/default (in the package's order). */
function exportTarget(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) {
    for (const v of value) {
      const t = exportTarget(v);
      if (t) return t;
    }
    return undefined;
  }
  if (typeof value === 'object' && value !== null) {
    for (const [k, v] of Object.entries(value)) {
      if (ESM_CONDITIONS.has(k)) {
        const t = exportTarget(v);
        if (t) return t;
      }
    }
  }
  return undefined;
}

/** The file of a package's `exports` map for `import` (undefined when the package has none or no such file). */
function exportsEntry(spec: string, fromDir: string): string | undefined {
  const entry = resolvePackageEntry(spec, fromDir, { exportsOnly: true });
  if (!entry) return undefined;
  try {
    return statSync(entry).isFile() ? entry : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The file a bare specifier names for `import`, found by walking up node_modules from `fromDir` and
 * reading the package's `exports` (conditions import, node, default), `module` or `main`.
 */
export function resolvePackageEntry(spec: string, fromDir: string, options: { exportsOnly?: boolean } = {}): string | undefined {
  const parts = spec.split('/');
  const nameLength = spec.startsWith('@') ? 2 : 1;
  const name = parts.slice(0, nameLength).join('/');
  const subpath = parts.length > nameLength ? `./${parts.slice(nameLength).join('/')}` : '.';
  let dir = fromDir;
  for (;;) {
    const pkgDir = join(dir, 'node_modules', name);
    const pj = join(pkgDir, 'package.json');
    if (existsSync(pj)) {
      const pkg = JSON.parse(readFileSync(pj, 'utf8')) as { exports?: unknown; module?: string; main?: string };
      let target: string | undefined;
      if (options.exportsOnly && pkg.exports === undefined) return undefined;
      if (pkg.exports !== undefined) {
        const ex = pkg.exports;
        const keyed = typeof ex === 'object' && ex !== null && !Array.isArray(ex) && Object.keys(ex).some((k) => k.startsWith('.'));
        target = keyed ? exportTarget((ex as Record<string, unknown>)[subpath]) : subpath === '.' ? exportTarget(ex) : undefined;
      } else if (subpath === '.') target = pkg.module ?? pkg.main ?? 'index.js';
      else target = subpath;
      return target ? resolve(pkgDir, target) : undefined;
    }
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}
