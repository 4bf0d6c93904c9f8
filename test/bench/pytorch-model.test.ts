// The PyTorch PIAL-Net of the side-by-side benchmark (bench/pytorch/pialnet_small.py) is the project's `small`:
// the same parameters (names and sizes), the same stage and output shapes, and the same logits on the same weights.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useCpu, tf } from '../model/setup';
import { PIALNet } from '../../kernel/ml/model/index';
import { readF32, relMaxDiff, torchPython, torchSkip } from '../model/torchref';

before(useCpu);

const SCRIPT = join(__dirname, '..', '..', 'bench', 'pytorch', 'pialnet_small.py');

interface CheckOutput {
  size: number;
  params: number;
  counts: Record<string, number>;
  shapes: Record<string, number[]>;
}

function runCheck(args: string[]): { status: number | null; out: CheckOutput[]; stderr: string } {
  const r = spawnSync(torchPython()!, [SCRIPT, '--check', ...args], { encoding: 'utf8' });
  const out = r.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as CheckOutput);
  return { status: r.status, out, stderr: r.stderr };
}

function countsOf(m: PIALNet): Record<string, number> {
  return Object.fromEntries([...m.params.specs.values()].map((s) => [s.name, s.shape.reduce((a, b) => a * b, 1)]));
}

/** Writes tensors as one float32 file and a JSON index of {name, shape, offset (in elements)}. */
function writeTensors(dir: string, base: string, tensors: [string, tf.Tensor][]): void {
  const index: { name: string; shape: number[]; offset: number }[] = [];
  const parts: Float32Array[] = [];
  let offset = 0;
  for (const [name, t] of tensors) {
    index.push({ name, shape: t.shape, offset });
    parts.push(t.dataSync() as Float32Array);
    offset += t.size;
  }
  writeFileSync(join(dir, `${base}.json`), JSON.stringify(index));
  writeFileSync(join(dir, `${base}.f32`), Buffer.concat(parts.map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength))));
}

void test('bench/pytorch: parameters, stage shapes and output shapes are the project’s (128, 96 and 160 px)', { skip: torchSkip() }, () => {
  const sizes = [128, 96, 160];
  const expected = PIALNet.countParams('small');
  const { status, out: lines, stderr } = runCheck(['--size', sizes.join(','), '--expect-params', String(expected)]);
  assert.equal(status, 0, `pialnet_small.py --check failed: ${stderr}`);
  assert.deepEqual(
    lines.map((l) => l.size),
    sizes,
    'one JSON line per size',
  );
  for (const [i, size] of sizes.entries()) {
    const out = lines[i];
    const m = PIALNet.create({ base: 'small', inputSize: size });
    assert.equal(out.params, expected, `${size} px: as many parameters as PIALNet small`);
    assert.equal(out.params, m.countParams(), `${size} px: parameter count`);
    assert.deepEqual(out.counts, countsOf(m), `${size} px: the same parameter names with the same sizes`);
    // PyTorch's stage maps are NCHW of the encoder's batch (both images of one pair); ours NHWC of one image.
    m.build();
    const feats = m.encoderFeatures(tf.zeros([1, size, size, 3]));
    feats.forEach((f, s) => {
      const [b, c, h, w] = out.shapes[`stage${s + 1}`];
      assert.deepEqual([b / 2, h, w, c], f.shape, `${size} px: stage ${s + 1} map`);
    });
    const inputs = { interactive: tf.zeros([1, size, size, 3]) as tf.Tensor4D, nonInteractive: tf.zeros([1, size, size, 3]) as tf.Tensor4D, pose: tf.fill([1, 17, 3], 0.5) as tf.Tensor3D };
    const pred = m.predict(inputs);
    for (const [key, t] of [['logitsIn', pred.dIn!], ['logitsNon', pred.dNon]] as const) {
      const [b, c, h, w] = out.shapes[key];
      assert.deepEqual([b, h, w, c], t.shape, `${size} px: ${key}`);
    }
    assert.deepEqual(out.shapes.fused, [2, 64, size / 4, size / 4], `${size} px: fused head features`);
    tf.dispose([...feats, pred.dIn!, pred.dNon, inputs.interactive, inputs.nonInteractive, inputs.pose]);
    m.dispose();
  }
});

void test('bench/pytorch: a missing or resized parameter makes the check fail and names the module', { skip: torchSkip() }, () => {
  const m = PIALNet.create('small');
  const counts = countsOf(m);
  const dir = mkdtempSync(join(tmpdir(), 'pial-torch-counts-'));
  try {
    const altered = { ...counts, 'khp.fuse_h.weight': counts['khp.fuse_h.weight'] + 64 };
    delete (altered as Record<string, number>)['ife.cross_tokens'];
    writeFileSync(join(dir, 'counts.json'), JSON.stringify(altered));
    const r = runCheck(['--expect-counts', join(dir, 'counts.json')]);
    assert.equal(r.status, 3, 'a count mismatch exits with status 3');
    assert.match(r.stderr, /khp\.fuse_h\s+pytorch\s+24576\s+project\s+24640/);
    assert.match(r.stderr, /only in PyTorch: ife\.cross_tokens/);
    const wrongTotal = runCheck(['--expect-params', String(m.countParams() + 1)]);
    assert.equal(wrongTotal.status, 3, 'a wrong total exits with status 3');
  } finally {
    rmSync(dir, { recursive: true, force: true });
    m.dispose();
  }
});

// 96 px: the stage-4 map is 3 x 3 (odd), and batch 2 checks that no op mixes the pairs; the weights do not
// depend on the size, and the shapes at 128 px are checked above.
void test('bench/pytorch: the same logits as PIALNet on the same weights and inputs (96 px, batch 2)', { skip: torchSkip() }, () => {
  for (const [size, batch] of [[96, 2]] as const) {
    const m = PIALNet.create({ base: 'small', inputSize: size, seed: 5 }, { build: true });
    // Every weight perturbed (LayerNorm scales, biases, the zero-initialised KHP fusion), so each one matters.
    m.params.specs.forEach((s, name) => {
      const v = m.params.get(name);
      tf.tidy(() => v.assign(tf.add(v, tf.randomNormal(v.shape, 0, 0.05, 'float32', s.shape.length * 7 + name.length))));
    });
    const inputs = {
      interactive: tf.randomNormal([batch, size, size, 3], 0, 1, 'float32', 11) as tf.Tensor4D,
      nonInteractive: tf.randomNormal([batch, size, size, 3], 0, 1, 'float32', 12) as tf.Tensor4D,
      pose: tf.randomUniform([batch, 17, 3], 0, 1, 'float32', 13) as tf.Tensor3D,
    };
    const dir = mkdtempSync(join(tmpdir(), 'pial-torch-logits-'));
    try {
      writeTensors(dir, 'weights', [...m.params.specs.keys()].map((n) => [n, m.params.get(n)]));
      writeTensors(dir, 'inputs', Object.entries(inputs));
      const r = runCheck(['--size', String(size), '--weights', dir]);
      assert.equal(r.status, 0, `pialnet_small.py --weights failed: ${r.stderr}`);
      const ours = tf.tidy(() => {
        const l = m.logits(inputs);
        return [l.logitsIn!, l.logitsNon];
      });
      for (const [k, name] of [
        [0, 'logits_in'],
        [1, 'logits_non'],
      ] as const) {
        const theirs = readF32(join(dir, `${name}.f32`));
        const err = relMaxDiff(ours[k].dataSync(), theirs);
        assert.ok(err < 2e-5, `${size} px, ${name}: max |ours - PyTorch| / max |PyTorch| = ${err.toExponential(2)}`);
      }
      // The logits must depend on the pose (KHP active with the perturbed weights), or the comparison misses KHP.
      const moved = tf.tidy(() => m.logits({ ...inputs, pose: tf.sub(1, inputs.pose) as tf.Tensor3D }).logitsNon);
      assert.ok(relMaxDiff(moved.dataSync(), ours[1].dataSync()) > 1e-3, 'the non-interactive logits depend on the pose');
      tf.dispose([...ours, moved]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      tf.dispose(Object.values(inputs));
      m.dispose();
    }
  }
});
