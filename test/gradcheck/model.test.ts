/**
 * Whole-model gradient check: `nano` PIAL-Net's real training loss, analytic gradients on cpu and wasm against
 * central differences of the same loss replayed in Float64, for a few hundred parameters across every group.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { initRuntime } from '../../kernel/runtime/index';
import { checkModel } from './check';

export const MODEL_TOLERANCE = 1e-3;

before(() => initRuntime({ backend: 'wasm', notebookDir: __dirname }));

for (const backend of ['cpu', 'wasm']) {
  void test(`nano PIAL-Net: analytic gradients of the training loss match Float64 central differences on ${backend}`, async () => {
    const r = await checkModel(backend, { samples: 240 });
    for (const g of r.groups) console.log(`${backend} ${g.group.padEnd(22)} ${String(g.samples).padStart(3)} params  worst rel err ${g.relErr.toExponential(2)}  (gradient scale ${g.scale.toExponential(1)})`);
    console.log(`${backend}: ${r.params} parameters, worst rel err ${r.worstRelErr.toExponential(2)}`);
    assert.ok(r.params >= 200, `checked ${r.params} parameters`);
    for (const prefix of ['encoder.patch_embed', 'encoder.block', 'ife.', 'head.', 'dec_', 'khp.']) {
      assert.ok(r.groups.some((g) => g.group.startsWith(prefix) && g.scale > 0), `no parameter of ${prefix}* with a non-zero gradient was checked`);
    }
    const bad = r.groups.filter((g) => !(g.relErr <= MODEL_TOLERANCE));
    assert.deepEqual(bad.map((g) => `${g.group}: ${g.relErr}`), []);
  });
}
