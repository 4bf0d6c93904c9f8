import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildGroundTruth, gaussianKernel1d, gtKernelSize, gtSigma, reflect101 } from '../../kernel/ml/data/groundTruth';
import { groundTruthOf } from '../../kernel/ml/data/loading';

interface Case { width: number; height: number; size: number; contacts: [number, number][][]; zero?: number[] }

const cases: Case[] = [
  // 640 x 480: k = floor(sqrt(307200)/3) = 184 -> 185, the size of a typical CAL photo.
  { width: 640, height: 480, size: 224, contacts: [[], [[320.7, 200.2]], [[10, 10], [600, 470], [600, 470]], [], [[0, 479]], [[-5, 900], [639.9, 0]]] },
  // Non-square, upscaled, with a kernel longer than the short axis (repeated reflection).
  { width: 150, height: 40, size: 224, contacts: [[[75, 20]], [], [], [[149, 0], [3, 39]], [], []], zero: [3] },
  // A kernel radius (7) longer than the short axis (6): reflections repeat.
  { width: 300, height: 6, size: 32, contacts: [[], [], [[150, 0], [2, 5]], [[299, 3]], [], []] },
  // Tiny image: k <= 7 uses OpenCV's fixed kernel table.
  { width: 12, height: 10, size: 16, contacts: [[[5, 5]], [[0, 0], [11, 9]], [], [], [], [[6, 2]]] },
];

function reference(): { results: number[][]; checks: { k: number[]; mirrorVsPadMaxDiff: number } } {
  const r = spawnSync('python3', [join(__dirname, '../fixtures/data/gt_reference.py')], { input: JSON.stringify({ cases }), encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`gt_reference.py failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout) as { results: number[][]; checks: { k: number[]; mirrorVsPadMaxDiff: number } };
}

void test('kernel size and sigma follow the label script', () => {
  assert.equal(gtKernelSize(480, 640), 185);
  assert.equal(gtKernelSize(224, 224), 75);
  assert.equal(gtKernelSize(10, 12), 3);
  assert.ok(Math.abs(gtSigma(185) - 28.1) < 1e-9, `sigma(185) = ${gtSigma(185)}`);
  const g = gaussianKernel1d(185);
  assert.ok(Math.abs(g.reduce((a, b) => a + b, 0) - 1) < 1e-12);
  assert.deepEqual([...gaussianKernel1d(5)], [0.0625, 0.25, 0.375, 0.25, 0.0625]);
  assert.throws(() => gaussianKernel1d(4), /positive odd integer, got 4/);
});

void test('reflect101 mirrors around the edge pixels without repeating them', () => {
  assert.deepEqual([-3, -2, -1, 0, 4, 5, 6, 7].map((p) => reflect101(p, 5)), [3, 2, 1, 0, 4, 3, 2, 1]);
  assert.equal(reflect101(-9, 3), 1);
});

void test('GT equals a dense numpy/scipy computation to 1e-4 (blur, min-max, resize, clamping, masking)', () => {
  const ref = reference();
  assert.deepEqual(ref.checks.k, [185, 25, 15, 3]);
  assert.ok(ref.checks.mirrorVsPadMaxDiff < 1e-12, `scipy mode='mirror' must equal reflect-101 padding, differs by ${ref.checks.mirrorVsPadMaxDiff}`);
  cases.forEach((c, ci) => {
    const got = buildGroundTruth(c.contacts, c.width, c.height, { size: c.size, zeroChannels: c.zero });
    const want = ref.results[ci];
    assert.equal(got.length, want.length);
    let worst = 0, at = 0;
    for (let i = 0; i < got.length; i++) {
      const d = Math.abs(got[i] - want[i]);
      if (d > worst) { worst = d; at = i; }
    }
    const px = Math.floor(at / 6);
    assert.ok(worst < 1e-4, `case ${ci}: expected pixel (${px % c.size}, ${Math.floor(px / c.size)}) channel ${at % 6} = ${want[at]}, got ${got[at]}`);
    // Channels with points light up (a strong downscale can miss the peak), empty or masked ones stay 0.
    for (let ch = 0; ch < 6; ch++) {
      let mx = 0;
      for (let i = ch; i < got.length; i += 6) mx = Math.max(mx, got[i]);
      const expectOn = c.contacts[ch].length > 0 && !(c.zero ?? []).includes(ch);
      assert.ok(expectOn ? mx > 0.2 : mx === 0, `case ${ci} channel ${ch}: max ${mx}`);
    }
  });
});

void test('GT rejects a wrong channel count', () => {
  assert.throws(() => buildGroundTruth([[]], 10, 10), /expected 6 channel point lists, got 1/);
});

void test('groundTruthOf: the same maps as buildGroundTruth, remembered by all their inputs, handed out as copies', () => {
  const pts: [number, number][][] = [[[10, 12], [40, 30]], [], [[5, 5]], [], [], [[60, 2]]];
  const first = groundTruthOf(pts, 64, 48, { size: 32 });
  assert.deepEqual(first, buildGroundTruth(pts, 64, 48, { size: 32 }));
  first.fill(-1);
  const again = groundTruthOf(pts, 64, 48, { size: 32 });
  assert.deepEqual(again, buildGroundTruth(pts, 64, 48, { size: 32 }), 'a caller changing its copy must not change the remembered map');
  for (const [w, h, o] of [[64, 48, { size: 16 }], [64, 50, { size: 32 }], [64, 48, { size: 32, zeroChannels: [0] }]] as const) {
    assert.deepEqual(groundTruthOf(pts, w, h, o), buildGroundTruth(pts, w, h, o), `${w}x${h} ${JSON.stringify(o)}`);
  }
  const moved = pts.map((c) => c.map(([x, y]) => [x + 1, y] as [number, number]));
  assert.deepEqual(groundTruthOf(moved, 64, 48, { size: 32 }), buildGroundTruth(moved, 64, 48, { size: 32 }), 'other points, another map');
});
