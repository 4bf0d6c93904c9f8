// Plain scalar reference of the CAL metrics (docs/paper.md section 3), written independently of the tensor code:
// Float64 arrays and loops only.

export interface RefMap {
  h: number;
  w: number;
  v: Float64Array;
}

export function refMap(h: number, w: number, f: (y: number, x: number) => number): RefMap {
  const v = new Float64Array(h * w);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) v[y * w + x] = f(y, x);
  return { h, w, v };
}

const EPS = 1e-12;

/** Bilinear resize with half-pixel centres, source coordinates clamped to the image. */
function resize(m: RefMap, h: number, w: number): RefMap {
  const sy = m.h / h;
  const sx = m.w / w;
  return refMap(h, w, (y, x) => {
    const fy = Math.max(0, (y + 0.5) * sy - 0.5);
    const fx = Math.max(0, (x + 0.5) * sx - 0.5);
    const y0 = Math.floor(fy);
    const x0 = Math.floor(fx);
    const y1 = Math.min(y0 + 1, m.h - 1);
    const x1 = Math.min(x0 + 1, m.w - 1);
    const ay = fy - y0;
    const ax = fx - x0;
    const at = (yy: number, xx: number): number => m.v[yy * m.w + xx];
    const top = at(y0, x0) * (1 - ax) + at(y0, x1) * ax;
    const bottom = at(y1, x0) * (1 - ax) + at(y1, x1) * ax;
    return top * (1 - ay) + bottom * ay;
  });
}

function prep(pred: RefMap, gt: RefMap): RefMap {
  let mx = -Infinity;
  for (const x of pred.v) mx = Math.max(mx, x);
  const p = { h: pred.h, w: pred.w, v: pred.v.map((x) => x / (mx + EPS)) };
  return p.h === gt.h && p.w === gt.w ? p : resize(p, gt.h, gt.w);
}

function sumNorm(v: Float64Array): Float64Array {
  let s = 0;
  for (const x of v) s += x;
  return v.map((x) => x / (s + EPS));
}

export function refKLD(pred: RefMap, gt: RefMap): number {
  const p = sumNorm(prep(pred, gt).v);
  const q = sumNorm(gt.v);
  let r = 0;
  for (let i = 0; i < q.length; i++) r += q[i] * Math.log(q[i] / (p[i] + EPS) + EPS);
  return r;
}

export function refSIM(pred: RefMap, gt: RefMap): number {
  const p = sumNorm(prep(pred, gt).v);
  const q = sumNorm(gt.v);
  let r = 0;
  for (let i = 0; i < q.length; i++) r += Math.min(p[i], q[i]);
  return r;
}

export function refNSS(pred: RefMap, gt: RefMap, threshold = 0.1): number {
  const p = prep(pred, gt).v;
  const n = p.length;
  let mean = 0;
  for (const x of p) mean += x / n;
  let varSum = 0;
  for (const x of p) varSum += (x - mean) ** 2;
  const std = Math.sqrt(varSum / n);
  if (std < 1e-9) return 0;
  let qmin = Infinity;
  let qmax = -Infinity;
  for (const x of gt.v) {
    qmin = Math.min(qmin, x);
    qmax = Math.max(qmax, x);
  }
  let num = 0;
  let cnt = 0;
  for (let i = 0; i < n; i++) {
    if ((gt.v[i] - qmin) / (qmax - qmin + EPS) > threshold) {
      num += (p[i] - mean) / std;
      cnt++;
    }
  }
  return num / (cnt + EPS);
}

export function refCC(pred: RefMap, gt: RefMap): number {
  const p = prep(pred, gt).v;
  const q = gt.v;
  const n = p.length;
  let mp = 0;
  let mq = 0;
  for (let i = 0; i < n; i++) {
    mp += p[i] / n;
    mq += q[i] / n;
  }
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (p[i] - mp) * (q[i] - mq);
    sxx += (p[i] - mp) ** 2;
    syy += (q[i] - mq) ** 2;
  }
  return sxx < 1e-18 || syy < 1e-18 ? 0 : sxy / Math.sqrt(sxx * syy);
}
