/** 2-D point in image pixels (x right, y down). */
export type Pt = [number, number];

export const add = (a: Pt, b: Pt): Pt => [a[0] + b[0], a[1] + b[1]];
export const sub = (a: Pt, b: Pt): Pt => [a[0] - b[0], a[1] - b[1]];
export const mul = (a: Pt, s: number): Pt => [a[0] * s, a[1] * s];
export const dist = (a: Pt, b: Pt): number => Math.hypot(a[0] - b[0], a[1] - b[1]);
export const lerp = (a: Pt, b: Pt, t: number): Pt => [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t];

/** A similarity transform: scale, then rotate (degrees, clockwise on screen), optionally mirror x first, then translate. */
export interface Placement {
  x: number;
  y: number;
  scale: number;
  rotate: number;
  mirror: boolean;
}

export function apply(p: Placement, q: Pt): Pt {
  const mx = p.mirror ? -q[0] : q[0];
  const a = (p.rotate * Math.PI) / 180;
  const c = Math.cos(a), s = Math.sin(a);
  const x = mx * p.scale, y = q[1] * p.scale;
  return [p.x + c * x - s * y, p.y + s * x + c * y];
}

/** The SVG transform attribute equal to {@link apply}. */
export function svgTransform(p: Placement): string {
  return `translate(${p.x.toFixed(2)} ${p.y.toFixed(2)}) rotate(${p.rotate.toFixed(2)}) scale(${(p.mirror ? -p.scale : p.scale).toFixed(4)} ${p.scale.toFixed(4)})`;
}

/**
 * Two-bone inverse kinematics: the middle joint for a chain root -> mid -> end of lengths a, b reaching target.
 * `bend` picks which of the two solutions (+1 / -1, the side of the root->target line). Returns the reached end
 * (the target when reachable) and whether it was reached.
 */
export function ik(root: Pt, target: Pt, a: number, b: number, bend: 1 | -1): { mid: Pt; end: Pt; reached: boolean } {
  const d0 = dist(root, target);
  const reached = d0 <= (a + b) * 0.999 && d0 >= Math.abs(a - b) * 1.001;
  const d = Math.min(Math.max(d0, Math.abs(a - b) * 1.001 + 1e-6), (a + b) * 0.999);
  const ux = (target[0] - root[0]) / (d0 || 1), uy = (target[1] - root[1]) / (d0 || 1);
  const end: Pt = reached ? target : [root[0] + ux * d, root[1] + uy * d];
  const x = (a * a - b * b + d * d) / (2 * d);
  const h = Math.sqrt(Math.max(0, a * a - x * x));
  const mid: Pt = [root[0] + ux * x - uy * h * bend, root[1] + uy * x + ux * h * bend];
  return { mid, end, reached };
}
