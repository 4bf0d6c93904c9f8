/**
 * A system BLAS for the wasm backend's matrix products, found at run time.
 *
 * tfjs-backend-wasm multiplies matrices with XNNPACK's 128-bit wasm SIMD code: 13-20 GFLOP/s on one
 * core here, where a native BLAS (OpenBLAS with AVX-512 FMA) gives 120-170 GFLOP/s on the same
 * products. When a BLAS library is installed, the kernels of wasmKernels.ts hand `cblas_sgemm` views of
 * the wasm heap itself (no copies): koffi, a foreign-function interface that ships its own prebuilt
 * addon, passes a Float32Array view as a pointer to its first element.
 *
 * Looked for, in order: the library named by {@link BLAS_ENV} (a file name or path; `off` disables
 * this), then OpenBLAS (libopenblas.so.0 / .so on Linux, e.g. Debian's `libopenblas0`), Intel's MKL
 * runtime, Apple's Accelerate framework on macOS and libopenblas.dll on Windows. A library is used only
 * after a small product with every transpose combination matches a plain loop. Each calling thread (the
 * kernel's and every training replica's) asks for one BLAS thread: training already runs one replica
 * per core, and one thread per call keeps a seeded run's results fixed for a given replica count.
 *
 * Only Linux with OpenBLAS 0.3.21 (Debian 12) has been run; the MKL, Accelerate and Windows names
 * are where those libraries put `cblas_sgemm`, untested.
 */
import { createRequire } from 'node:module';
import { basename } from 'node:path';

/** Env variable: `off` keeps every product on XNNPACK; a file name or path picks the BLAS library. */
export const BLAS_ENV = 'AFFORDANCE_LAB_BLAS';

/** C = alpha op(A) op(B) + beta C over row-major views (lda, ldb, ldc: row strides in elements). */
export type Sgemm = (
  transA: boolean,
  transB: boolean,
  m: number,
  n: number,
  k: number,
  a: Float32Array,
  lda: number,
  b: Float32Array,
  ldb: number,
  beta: number,
  c: Float32Array,
  ldc: number,
) => void;

export interface Blas {
  /** The library's file name (never a full path: runtime descriptions end up in saved notebooks). */
  readonly library: string;
  /** What the library says of itself (OpenBLAS: version, target core), or its name. */
  readonly description: string;
  readonly sgemm: Sgemm;
  /**
   * b = a^T for a row-major [rows, cols] a with row stride lda, into b with row stride ldb
   * (OpenBLAS's and MKL's omatcopy); undefined where the library lacks it.
   */
  readonly transpose?: (rows: number, cols: number, a: Float32Array, lda: number, b: Float32Array, ldb: number) => void;
  /** sum of x[i] y[i] over n elements (strides 1). */
  readonly sdot: (n: number, x: Float32Array, y: Float32Array) => number;
}

/** Outcome of the search: the library, or why there is none. */
export type BlasStatus = { blas: Blas } | { blas?: undefined; reason: string };

const ROW_MAJOR = 101;
const NO_TRANS = 111;
const TRANS = 112;

/** Library names tried on this platform, in order. */
export function blasCandidates(platform: NodeJS.Platform = process.platform): string[] {
  if (platform === 'darwin') return ['/System/Library/Frameworks/Accelerate.framework/Accelerate', 'libopenblas.dylib', 'libopenblas.0.dylib'];
  if (platform === 'win32') return ['libopenblas.dll', 'openblas.dll', 'mkl_rt.2.dll'];
  return ['libopenblas.so.0', 'libopenblas.so', 'libmkl_rt.so.2', 'libmkl_rt.so'];
}

interface KoffiLib {
  func(signature: string): (...args: unknown[]) => unknown;
}
interface Koffi {
  load(path: string): KoffiLib;
}

function loadKoffi(): Koffi {
  return createRequire(typeof __filename === 'string' ? __filename : process.cwd() + '/noop.js')('koffi') as Koffi;
}

/** A function of the library, or undefined when it does not export it. */
function optionalFunc(lib: KoffiLib, signature: string): ((...args: unknown[]) => unknown) | undefined {
  try {
    return lib.func(signature);
  } catch {
    return undefined;
  }
}

/** Compares sgemm with a double-precision loop on a small product, every transpose pair, strided rows. */
function selfTest(sgemm: Sgemm): string | undefined {
  const m = 3;
  const n = 4;
  const k = 5;
  for (const ta of [false, true]) {
    for (const tb of [false, true]) {
      // Leading dimensions one wider than the matrices, so that a library ignoring them fails.
      const lda = (ta ? m : k) + 1;
      const ldb = (tb ? k : n) + 1;
      const ldc = n + 1;
      const a = new Float32Array((ta ? k : m) * lda).map((_, i) => ((i * 7) % 11) - 5);
      const b = new Float32Array((tb ? n : k) * ldb).map((_, i) => ((i * 5) % 13) - 6);
      const c = new Float32Array(m * ldc).fill(1);
      sgemm(ta, tb, m, n, k, a, lda, b, ldb, 0.5, c, ldc);
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++) {
          let want = 0.5;
          for (let p = 0; p < k; p++) want += (ta ? a[p * lda + i] : a[i * lda + p]) * (tb ? b[j * ldb + p] : b[p * ldb + j]);
          if (Math.abs(c[i * ldc + j] - want) > 1e-4) return `cblas_sgemm(transA=${ta}, transB=${tb}) gave ${c[i * ldc + j]} where ${want} was expected`;
        }
      }
    }
  }
  return undefined;
}

function open(koffi: Koffi, name: string): Blas {
  const lib = koffi.load(name);
  const raw = lib.func('void cblas_sgemm(int, int, int, int, int, int, float, const float *, int, const float *, int, float, float *, int)');
  // One BLAS thread for the calling thread (OpenBLAS's OpenMP build keeps the count per thread).
  const setThreads = optionalFunc(lib, 'void openblas_set_num_threads(int)') ?? optionalFunc(lib, 'int MKL_Set_Num_Threads_Local(int)');
  setThreads?.(1);
  const config = optionalFunc(lib, 'const char *openblas_get_config()');
  const rawDot = lib.func('float cblas_sdot(int, const float *, int, const float *, int)');
  const sdot = (n: number, x: Float32Array, y: Float32Array): number => rawDot(n, x, 1, y, 1) as number;
  const rawOmat = optionalFunc(lib, 'void cblas_somatcopy(int, int, int, int, float, const float *, int, float *, int)');
  const transpose = rawOmat
    ? (rows: number, cols: number, a: Float32Array, lda: number, bb: Float32Array, ldb: number): void => void rawOmat(ROW_MAJOR, TRANS, rows, cols, 1, a, lda, bb, ldb)
    : undefined;
  const sgemm: Sgemm = (transA, transB, m, n, k, a, lda, b, ldb, beta, c, ldc) => {
    raw(ROW_MAJOR, transA ? TRANS : NO_TRANS, transB ? TRANS : NO_TRANS, m, n, k, 1, a, lda, b, ldb, beta, c, ldc);
  };
  const failed = selfTest(sgemm);
  if (failed) throw new Error(`${basename(name)} failed its check: ${failed}`);
  const described = config ? String(config()).split(' ').filter((w) => !/^(NO_|USE_|MAX_THREADS|DYNAMIC_ARCH)/.test(w)).join(' ') : '';
  return { library: basename(name), description: described || basename(name), sgemm, sdot, ...(transpose ? { transpose } : {}) };
}

let status: BlasStatus | undefined;

/**
 * The BLAS of this thread (searched once per thread: every worker has its own module instance), or
 * why there is none. Never throws.
 */
export function blasStatus(env: NodeJS.ProcessEnv = process.env): BlasStatus {
  if (status) return status;
  const wanted = env[BLAS_ENV]?.trim();
  if (wanted === 'off' || wanted === '0') return (status = { reason: `turned off (${BLAS_ENV}=${wanted})` });
  // Before the library starts: its thread pools would otherwise start one thread per core in every replica.
  if (env === process.env) {
    for (const v of ['OPENBLAS_NUM_THREADS', 'OMP_NUM_THREADS', 'MKL_NUM_THREADS', 'VECLIB_MAXIMUM_THREADS']) process.env[v] ??= '1';
  }
  let koffi: Koffi;
  try {
    koffi = loadKoffi();
  } catch (e) {
    return (status = { reason: `the koffi package could not be loaded (${(e as Error).message.split('\n')[0]})` });
  }
  const names = wanted ? [wanted] : blasCandidates();
  const failures: string[] = [];
  for (const name of names) {
    try {
      return (status = { blas: open(koffi, name) });
    } catch (e) {
      failures.push(`${basename(name)}: ${(e as Error).message.split('\n')[0].replace(/\/[^\s:]*\//g, '')}`);
    }
  }
  const how = process.platform === 'linux' ? ' (Debian/Ubuntu: `apt install libopenblas0`)' : '';
  const reason = wanted
    ? `${BLAS_ENV}=${basename(wanted)} could not be used: ${failures.join('; ')}`
    : `no BLAS library found${how}; tried ${names.map((n) => basename(n)).join(', ')}`;
  return (status = { reason });
}

/** The BLAS, or undefined (then every product runs on XNNPACK). */
export function blas(): Blas | undefined {
  return blasStatus().blas;
}

/** For tests: forget the search, so that the next call searches again (with the env it is given). */
export function resetBlasForTests(): void {
  status = undefined;
}

let disabled = false;

/** For tests and benchmarks: route products away from the BLAS (true) or back to it (false). */
export function disableBlas(off: boolean): void {
  disabled = off;
}

/** The BLAS the kernels use now: {@link blas} unless {@link disableBlas} set it aside. */
export function activeBlas(): Blas | undefined {
  return disabled ? undefined : blas();
}
