/**
 * Tensor runtime benchmark: convolution throughput and one training step (forward, backward, Adam
 * update) of a small conv-and-attention net at 112x112, batch 8, on every backend this machine offers.
 *
 * runtime.conv_gflops_<backend>       3x3 conv, 8x56x56x64 -> 64, 'same'
 * runtime.conv_{filter,input}_grad_gflops_wasm   its filter and input gradients (same FLOPs)
 * runtime.depthwise3x3_gflops_wasm, runtime.depthwise3x3_filter_grad_gflops_wasm
 *                                     3x3 depthwise conv of [16, 32, 32, 128], stride 1, 'same'
 * runtime.attention_matmul_gflops_wasm, runtime.attention_matmul_wide_gflops_wasm
 *                                     both-batched products [16,1,32,1024]x[16,1,1024,16] and
 *                                     [16,1024,32]x[16,32,1024]
 * runtime.attention_matmul_small_gflops_wasm
 *                                     both-batched, small items: [8,5,16,32]x[8,5,32,32]
 * (wasm kernel figures are from CPU time, with fresh inputs per run so that no operator cache helps)
 * runtime.train_step_ms_<backend>     one training step of the net in test/runtime/nets.ts
 * runtime.train_speedup_wasm_vs_cpu   cpu step time / wasm step time
 * *_cputime, train_step_cpu_ms_*      the same from this process's CPU time, steady on a shared machine
 * runtime.backends_found              backends that load here; runtime.backends_skipped: why the others do not
 *
 * The cpu backend takes seconds per step, so it is measured over fewer repetitions.
 * Env RUNTIME_BENCH_NATIVE=<folder> adds a folder searched for tfjs-node(-gpu) and webgpu.
 */
import { record } from './record';
import { tf, initRuntime } from '../kernel/runtime/index';
import { initBackendChain } from '../kernel/runtime/backends';
import { SMALL_NET, makeParams, makeBatch, forward, bceLoss } from '../test/runtime/nets';
import type * as tfc from '@tensorflow/tfjs-core';

const CONV_FLOPS = 2 * 8 * 56 * 56 * 64 * 64 * 9;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

interface Timing {
  /** Median wall-clock milliseconds. */
  wall: number;
  /** Median CPU milliseconds of this process (user + system): robust when other processes share the cores. */
  cpu: number;
}

/**
 * Median times of `reps` runs after `warm` warm-up runs; fn must wait for its result (an asynchronous
 * read, so that GPU backends are measured without a synchronous read-back).
 */
async function timeIt(fn: () => Promise<void>, warm: number, reps: number): Promise<Timing> {
  for (let i = 0; i < warm; i++) await fn();
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < reps; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await fn();
    wall.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  return { wall: median(wall), cpu: median(cpu) };
}

async function convGflops(backend: string, reps: number): Promise<Timing> {
  await tf.setBackend(backend);
  const x = tf.randomNormal([8, 56, 56, 64], 0, 1, 'float32', 1) as tfc.Tensor4D;
  const w = tf.randomNormal([3, 3, 64, 64], 0, 0.1, 'float32', 2) as tfc.Tensor4D;
  // The tidy callback returns nothing: tidy would otherwise walk the returned values looking for tensors.
  const t = await timeIt(async () => {
    const y = tf.conv2d(x, w, 1, 'same');
    await y.data();
    y.dispose();
  }, 1, reps);
  tf.dispose([x, w]);
  return { wall: CONV_FLOPS / (t.wall * 1e6), cpu: CONV_FLOPS / (t.cpu * 1e6) };
}

/**
 * GFLOP/s (from this process's CPU time) of one wasm kernel, the median of `reps` runs on fresh
 * inputs: tfjs-backend-wasm caches XNNPACK operators by input buffer, which real training (new
 * activations and gradients every step) never reuses.
 */
async function kernelGflops(flops: number, make: () => tfc.Tensor[], run: (inputs: tfc.Tensor[]) => tfc.Tensor, reps: number): Promise<number> {
  await tf.setBackend('wasm');
  const cpu: number[] = [];
  for (let i = 0; i <= reps; i++) {
    const inputs = make();
    const c0 = process.cpuUsage();
    const y = run(inputs);
    await y.data();
    const c = process.cpuUsage(c0);
    if (i > 0) cpu.push((c.user + c.system) / 1000);
    tf.dispose([y, ...inputs]);
  }
  return flops / (median(cpu) * 1e6);
}

async function wasmKernelFigures(): Promise<Record<string, number>> {
  const rn = (shape: number[], seed: number): tfc.Tensor => tf.randomNormal(shape, 0, 1, 'float32', seed);
  const conv = { strides: 1, pad: 'same' as const, dataFormat: 'NHWC' as const };
  const dwFlops = 2 * 16 * 32 * 32 * 128 * 9;
  const kernel = (name: string, inputs: Record<string, tfc.Tensor>, attrs: Record<string, unknown>): tfc.Tensor =>
    tf.engine().runKernel(name, inputs as unknown as tfc.NamedTensorMap, attrs as unknown as tfc.NamedAttrMap) as tfc.Tensor;
  return {
    'runtime.conv_filter_grad_gflops_wasm': await kernelGflops(CONV_FLOPS, () => [rn([8, 56, 56, 64], 1), rn([8, 56, 56, 64], 2)],
      ([x, dy]) => kernel('Conv2DBackpropFilter', { x, dy }, { ...conv, filterShape: [3, 3, 64, 64] }), 5),
    'runtime.conv_input_grad_gflops_wasm': await kernelGflops(CONV_FLOPS, () => [rn([8, 56, 56, 64], 3), rn([3, 3, 64, 64], 4)],
      ([dy, filter]) => kernel('Conv2DBackpropInput', { dy, filter }, { ...conv, inputShape: [8, 56, 56, 64] }), 5),
    'runtime.depthwise3x3_gflops_wasm': await kernelGflops(dwFlops, () => [rn([16, 32, 32, 128], 5), rn([3, 3, 128, 1], 6)],
      ([x, w]) => tf.depthwiseConv2d(x as tfc.Tensor4D, w as tfc.Tensor4D, 1, 'same'), 5),
    'runtime.depthwise3x3_filter_grad_gflops_wasm': await kernelGflops(dwFlops, () => [rn([16, 32, 32, 128], 7), rn([16, 32, 32, 128], 8)],
      ([x, dy]) => kernel('DepthwiseConv2dNativeBackpropFilter', { x, dy }, { strides: 1, pad: 'same', dilations: 1, filterShape: [3, 3, 128, 1] }), 5),
    'runtime.attention_matmul_gflops_wasm': await kernelGflops(2 * 16 * 32 * 1024 * 16, () => [rn([16, 1, 32, 1024], 9), rn([16, 1, 1024, 16], 10)],
      ([a, b]) => tf.matMul(a, b), 7),
    'runtime.attention_matmul_wide_gflops_wasm': await kernelGflops(2 * 16 * 1024 * 32 * 1024, () => [rn([16, 1024, 32], 11), rn([16, 32, 1024], 12)],
      ([a, b]) => tf.matMul(a, b), 5),
    'runtime.attention_matmul_small_gflops_wasm': await kernelGflops(2 * 40 * 16 * 32 * 32, () => [rn([8, 5, 16, 32], 13), rn([8, 5, 32, 32], 14)],
      ([a, b]) => tf.matMul(a, b), 15),
  };
}

async function trainStepMs(backend: string, warm: number, reps: number): Promise<Timing> {
  await tf.setBackend(backend);
  const init = makeParams(SMALL_NET, 1);
  const vars = init.map((t) => tf.variable(t));
  tf.dispose(init);
  const { x, y } = makeBatch(SMALL_NET, 8, 112, 112, 2);
  const opt = tf.train.adam(1e-3);
  const step = async (): Promise<void> => {
    const loss = opt.minimize(() => bceLoss(forward(SMALL_NET, vars, x), y), true, vars);
    await loss?.data();
    loss?.dispose();
  };
  const t = await timeIt(step, warm, reps);
  opt.dispose();
  tf.dispose([...vars, x, y]);
  return t;
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const native = process.env.RUNTIME_BENCH_NATIVE;
  const info = await initRuntime({ backend: 'auto', notebookDir: process.cwd(), nativeModulesPath: native });
  // The chain stops at the first backend that loads; look for the GPU/native ones it passed over too.
  const found = new Set<string>([info.backend]);
  for (const b of ['webgpu', 'tensorflow'] as const) {
    if (found.has(b)) continue;
    try {
      await initBackendChain({ backend: b, notebookDir: process.cwd(), nativeModulesPath: native });
      found.add(b);
    } catch {
      // not on this machine; the chain's reason is in info.skipped
    }
  }
  found.add('wasm');
  found.add('cpu');
  record({
    'runtime.backends_found': `${[...found].join(', ')} (auto picks ${info.backend}: ${info.device})`,
    'runtime.backends_skipped': info.skipped.map((s) => `${s.backend}: ${s.reason}`).join(' | ') || 'none',
  });

  const wasmConv = await convGflops('wasm', 5);
  record({ 'runtime.conv_gflops_wasm': wasmConv.wall, 'runtime.conv_gflops_wasm_cputime': wasmConv.cpu });
  record(await wasmKernelFigures());
  const wasmStep = await trainStepMs('wasm', 1, 5);
  record({ 'runtime.train_step_ms_wasm': wasmStep.wall, 'runtime.train_step_cpu_ms_wasm': wasmStep.cpu });

  for (const b of [...found].filter((n) => n !== 'wasm' && n !== 'cpu')) {
    record({ [`runtime.conv_gflops_${b}`]: (await convGflops(b, 10)).wall });
    record({ [`runtime.train_step_ms_${b}`]: (await trainStepMs(b, 2, 10)).wall });
  }

  const cpuConv = await convGflops('cpu', 1);
  record({ 'runtime.conv_gflops_cpu': cpuConv.wall, 'runtime.conv_gflops_cpu_cputime': cpuConv.cpu });
  // No warm-up and one timed step: a cpu step takes tens of seconds.
  const cpuStep = await trainStepMs('cpu', 0, 1);
  record({
    'runtime.train_step_ms_cpu': cpuStep.wall,
    'runtime.train_step_cpu_ms_cpu': cpuStep.cpu,
    'runtime.train_speedup_wasm_vs_cpu': cpuStep.wall / wasmStep.wall,
    // Both backends are single-threaded, so the ratio of CPU times is the same figure without the noise
    // of other processes on a shared machine.
    'runtime.train_speedup_wasm_vs_cpu_cputime': cpuStep.cpu / wasmStep.cpu,
    'runtime.bench_seconds': (performance.now() - t0) / 1000,
  });
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
