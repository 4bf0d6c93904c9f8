/** The statistics used to compare runs, against scipy's (when python3 has scipy) and against exact cases. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { meanStd, pairedTTest, tTwoSided } from '../../kernel/ml/metrics/index';
import { rng } from '../rng';

const scipy = spawnSync('python3', ['-c', 'import scipy.stats'], { encoding: 'utf8' }).status === 0;

void test('Student t two-sided p-values: exact cases', () => {
  // df = 1 is the Cauchy distribution: P(|T| > 1) = 0.5; df = 2: P(|T| > t) = 1 - t / sqrt(t^2 + 2).
  assert.ok(Math.abs(tTwoSided(1, 1) - 0.5) < 1e-12);
  for (const t of [0.3, 1, 2.5, 7]) assert.ok(Math.abs(tTwoSided(t, 2) - (1 - t / Math.sqrt(t * t + 2))) < 1e-12, `t=${t}`);
  assert.equal(tTwoSided(0, 10), 1);
});

void test('paired t-test and mean/std agree with scipy.stats.ttest_rel and numpy', { skip: scipy ? false : 'python3 with scipy is not installed' }, () => {
  const r = rng(5);
  for (const [n, shift] of [[8, 0.1], [40, 0.02], [300, 0.005], [300, 0]] as const) {
    const a = Array.from({ length: n }, () => r());
    const b = a.map((x) => x - shift + (r() - 0.5) * 0.1);
    const py = spawnSync('python3', ['-c', 'import sys,json,numpy as np; from scipy.stats import ttest_rel; a,b=json.load(sys.stdin); r=ttest_rel(a,b); print(json.dumps([float(r.statistic), float(r.pvalue), float(np.std(a, ddof=1))]))'], { input: JSON.stringify([a, b]), encoding: 'utf8' });
    const [t, p, sd] = JSON.parse(py.stdout) as number[];
    const ours = pairedTTest(a, b);
    assert.ok(Math.abs(ours.t - t) < 1e-9 * Math.max(1, Math.abs(t)), `n=${n}: t ${ours.t} vs ${t}`);
    assert.ok(Math.abs(ours.p - p) < 1e-9, `n=${n}: p ${ours.p} vs ${p}`);
    assert.ok(Math.abs(meanStd(a).std - sd) < 1e-12);
  }
});

void test('paired t-test rejects runs of different lengths', () => {
  assert.throws(() => pairedTTest([1, 2], [1]), /2 values against 1/);
});
