/**
 * The gradient checker of test/gradcheck on webgpu: every kernel of the nano training graph (and the extra
 * ResizeBilinear cases) against Float64 central differences, and the whole-model check of the training loss.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { tf, webgpuSkip, useWebgpu, WEBGPU } from './setup';
import { checkInvocation, checkModel, resizeCases, trainingGraphKernels, worstPerKernel, type Invocation, type OpResult } from '../gradcheck/check';

const OP_TOLERANCE = 1e-3;
const MODEL_TOLERANCE = 1e-3;

let graph: Invocation[] = [];
before(async () => {
  await useWebgpu();
  if (webgpuSkip) return;
  // Small tensors too run on the GPU (tfjs-backend-webgpu hands them to the cpu otherwise).
  tf.env().set('WEBGPU_CPU_HANDOFF_SIZE_THRESHOLD', 0);
  graph = trainingGraphKernels('nano');
});

void test('every kernel of the training graph has a correct gradient on webgpu', { skip: webgpuSkip }, async () => {
  const results: OpResult[] = [];
  for (const inv of [...graph, ...resizeCases()]) results.push(await checkInvocation(inv, WEBGPU));
  for (const [k, r] of worstPerKernel(results)) console.log(`webgpu ${k.padEnd(22)} worst rel err ${r.relErr.toExponential(2)} (forward ${r.forwardErr.toExponential(1)})${r.error ? ` ${r.error}` : ''}`);
  const bad = results.filter((r) => r.error !== 'not differentiable' && !(r.relErr <= OP_TOLERANCE && r.forwardErr <= 1e-4));
  assert.deepEqual(bad.map((r) => `${r.signature}: rel err ${r.relErr}, forward ${r.forwardErr}${r.error ? `, ${r.error}` : ''}`), []);
});

void test('nano PIAL-Net: analytic gradients of the training loss on webgpu match Float64 central differences', { skip: webgpuSkip }, async () => {
  const r = await checkModel(WEBGPU, { samples: 240 });
  for (const g of r.groups) console.log(`webgpu ${g.group.padEnd(22)} ${String(g.samples).padStart(3)} params  worst rel err ${g.relErr.toExponential(2)}`);
  console.log(`webgpu: ${r.params} parameters, worst rel err ${r.worstRelErr.toExponential(2)}`);
  assert.ok(r.params >= 200);
  const bad = r.groups.filter((g) => !(g.relErr <= MODEL_TOLERANCE));
  assert.deepEqual(bad.map((g) => `${g.group}: ${g.relErr}`), []);
});
