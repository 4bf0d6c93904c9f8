/**
 * The global values the kernel's own code uses, captured when the kernel starts.
 *
 * Cells declare their top-level names as global lexical bindings (V8's REPL mode), and such a binding
 * shadows the global of the same name for every script of the process: after `class Promise {}` in a
 * cell, any other code that says `Promise` would get the cell's class. The kernel bundle is therefore
 * built with this file as esbuild's `inject`: every free reference to one of these names in the bundle
 * (the kernel, vscode-jsonrpc, tfjs, the library) is this file's captured value instead. Packages the
 * kernel loads from node_modules at run time (esbuild's JavaScript API) are loaded with the same values
 * as their module's parameters (see {@link loadShielded}).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as vm from 'node:vm';

const g = globalThis;

export const intrinsics = {
  globalThis: g,
  Object: g.Object,
  Function: g.Function,
  Array: g.Array,
  Number: g.Number,
  String: g.String,
  Boolean: g.Boolean,
  Symbol: g.Symbol,
  BigInt: g.BigInt,
  Math: g.Math,
  JSON: g.JSON,
  Reflect: g.Reflect,
  Proxy: g.Proxy,
  Promise: g.Promise,
  Error: g.Error,
  TypeError: g.TypeError,
  RangeError: g.RangeError,
  SyntaxError: g.SyntaxError,
  ReferenceError: g.ReferenceError,
  URIError: g.URIError,
  EvalError: g.EvalError,
  AggregateError: g.AggregateError,
  Map: g.Map,
  Set: g.Set,
  WeakMap: g.WeakMap,
  WeakSet: g.WeakSet,
  WeakRef: g.WeakRef,
  FinalizationRegistry: g.FinalizationRegistry,
  Date: g.Date,
  RegExp: g.RegExp,
  ArrayBuffer: g.ArrayBuffer,
  SharedArrayBuffer: g.SharedArrayBuffer,
  DataView: g.DataView,
  Atomics: g.Atomics,
  Int8Array: g.Int8Array,
  Uint8Array: g.Uint8Array,
  Uint8ClampedArray: g.Uint8ClampedArray,
  Int16Array: g.Int16Array,
  Uint16Array: g.Uint16Array,
  Int32Array: g.Int32Array,
  Uint32Array: g.Uint32Array,
  Float32Array: g.Float32Array,
  Float64Array: g.Float64Array,
  BigInt64Array: g.BigInt64Array,
  BigUint64Array: g.BigUint64Array,
  Intl: g.Intl,
  parseInt: g.parseInt,
  parseFloat: g.parseFloat,
  isNaN: g.isNaN,
  isFinite: g.isFinite,
  encodeURIComponent: g.encodeURIComponent,
  decodeURIComponent: g.decodeURIComponent,
  encodeURI: g.encodeURI,
  decodeURI: g.decodeURI,
  process: g.process,
  Buffer: g.Buffer,
  console: g.console,
  setTimeout: g.setTimeout,
  clearTimeout: g.clearTimeout,
  setInterval: g.setInterval,
  clearInterval: g.clearInterval,
  setImmediate: g.setImmediate,
  clearImmediate: g.clearImmediate,
  queueMicrotask: g.queueMicrotask,
  structuredClone: g.structuredClone,
  performance: g.performance,
  TextEncoder: g.TextEncoder,
  TextDecoder: g.TextDecoder,
  URL: g.URL,
  URLSearchParams: g.URLSearchParams,
  AbortController: g.AbortController,
  AbortSignal: g.AbortSignal,
  EventTarget: g.EventTarget,
  Event: g.Event as typeof globalThis.Event,
  WebAssembly: (g as unknown as { WebAssembly: unknown }).WebAssembly,
  atob: g.atob,
  btoa: g.btoa,
};

export const {
  Object,
  Function,
  Array,
  Number,
  String,
  Boolean,
  Symbol,
  BigInt,
  Math,
  JSON,
  Reflect,
  Proxy,
  Promise,
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  URIError,
  EvalError,
  AggregateError,
  Map,
  Set,
  WeakMap,
  WeakSet,
  WeakRef,
  FinalizationRegistry,
  Date,
  RegExp,
  ArrayBuffer,
  SharedArrayBuffer,
  DataView,
  Atomics,
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
  Intl,
  parseInt,
  parseFloat,
  isNaN,
  isFinite,
  encodeURIComponent,
  decodeURIComponent,
  encodeURI,
  decodeURI,
  process,
  Buffer,
  console,
  setTimeout,
  clearTimeout,
  setInterval,
  clearInterval,
  setImmediate,
  clearImmediate,
  queueMicrotask,
  structuredClone,
  performance,
  TextEncoder,
  TextDecoder,
  URL,
  URLSearchParams,
  AbortController,
  AbortSignal,
  EventTarget,
  WebAssembly,
  atob,
  btoa,
} = intrinsics;
// Typed by name: the declaration of the inferred constructor type names a type @types/node does not export.
export const Event: typeof globalThis.Event = intrinsics.Event;
const capturedGlobalThis = intrinsics.globalThis;
export { capturedGlobalThis as globalThis };

/** Indirect eval at global scope, captured (reads a cell's global lexical binding by name). */
export const globalEval: (code: string) => unknown = g.eval;

/**
 * Runs CommonJS code with the captured intrinsics as parameters of its module function, so that the
 * names a cell declares do not reach it.
 */
export function runShielded(source: string, filename: string, mod: { exports: unknown }, req: NodeJS.Require): void {
  const names = Object.keys(intrinsics);
  const fn = vm.compileFunction(source.replace(/^#!.*/, ''), ['exports', 'require', 'module', '__filename', '__dirname', ...names], { filename }) as (...args: unknown[]) => void;
  fn.call(mod.exports, mod.exports, req, mod, filename, filename.replace(/[\\/][^\\/]*$/, ''), ...names.map((n) => intrinsics[n as keyof typeof intrinsics]));
}

/**
 * Loads a self-contained CommonJS file of a package (such as esbuild's lib/main.js) with
 * {@link runShielded}; its own `require` is Node's.
 */
export function loadShielded<T>(file: string): T {
  const mod = { exports: {} as unknown, filename: file, id: file, loaded: false };
  runShielded(readFileSync(file, 'utf8'), file, mod, createRequire(file));
  mod.loaded = true;
  return mod.exports as T;
}
