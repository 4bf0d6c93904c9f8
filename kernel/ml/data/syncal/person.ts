import { add, ik, mul, type Pt } from './geometry';

/** Body proportions as fractions of the standing height L. */
export const BODY = { torso: 0.3, neck: 0.12, headR: 0.065, upperArm: 0.165, forearm: 0.155, thigh: 0.235, shin: 0.235, shoulderHalf: 0.045, hipHalf: 0.035, thickness: 0.06 } as const;

/** What the person's limbs should reach; absent limbs take a rest pose. */
export interface PoseTargets {
  leftWrist?: Pt;
  rightWrist?: Pt;
  leftAnkle?: Pt;
  rightAnkle?: Pt;
}

/** A posed person: COCO-17 keypoints plus the derived body points that contacts use. */
export interface Person {
  keypoints: Pt[];
  L: number;
  facing: 1 | -1;
  theta: number;
  mouth: Pt;
  backPoint: Pt;
  /** Below the pelvis, where a seat is touched (sitting) or the surface (lying). */
  hipsPoint: Pt;
  head: Pt;
  reached: { leftWrist: boolean; rightWrist: boolean; leftAnkle: boolean; rightAnkle: boolean };
}

/**
 * Poses a person from the pelvis centre, the torso angle (radians; 0 upright, positive leaning towards `facing`,
 * -PI/2 lying on the back with the head away from `facing`) and limb targets, by two-bone IK.
 * The person's left side is drawn towards -x of the torso's side axis.
 */
export function posePerson(hip: Pt, theta: number, facing: 1 | -1, L: number, targets: PoseTargets, ground: number, lying = false): Person {
  const up: Pt = [facing * Math.sin(theta), -Math.cos(theta)];
  const fwd: Pt = [facing * Math.cos(theta), Math.sin(theta)];
  const side: Pt = [Math.cos(theta), facing * Math.sin(theta)];
  const sc = add(hip, mul(up, BODY.torso * L));
  const lSh = add(sc, mul(side, -BODY.shoulderHalf * L)), rSh = add(sc, mul(side, BODY.shoulderHalf * L));
  const lHip = add(hip, mul(side, -BODY.hipHalf * L)), rHip = add(hip, mul(side, BODY.hipHalf * L));
  const head = add(sc, mul(up, BODY.neck * L));
  const nose = add(head, mul(fwd, 0.06 * L));
  const eyeBase = add(add(head, mul(fwd, 0.045 * L)), mul(up, 0.015 * L));
  const lEye = add(eyeBase, mul(side, -0.018 * L)), rEye = add(eyeBase, mul(side, 0.018 * L));
  const lEar = add(add(head, mul(fwd, -0.01 * L)), mul(side, -0.04 * L)), rEar = add(add(head, mul(fwd, -0.01 * L)), mul(side, 0.04 * L));
  const a = BODY.upperArm * L, b = BODY.forearm * L;
  const arm = (sh: Pt, t: Pt | undefined, k: number): { mid: Pt; end: Pt; reached: boolean } => {
    if (t) {
      // Elbows bend down and outwards: pick the IK solution whose elbow lies lower.
      const s1 = ik(sh, t, a, b, 1), s2 = ik(sh, t, a, b, -1);
      return s1.mid[1] >= s2.mid[1] ? s1 : s2;
    }
    const rest = lying ? add(sh, mul(up, -(a + b) * 0.95)) : add(add(sh, mul(up, -(a + b) * 0.9)), mul(fwd, (0.04 + 0.03 * k) * L));
    return { ...ik(sh, rest, a, b, facing === 1 ? 1 : -1), reached: false };
  };
  const th = BODY.thigh * L, sh = BODY.shin * L;
  const leg = (hp: Pt, t: Pt | undefined, k: number): { mid: Pt; end: Pt; reached: boolean } => {
    const tt = t ?? (lying ? add(hp, mul(up, -(th + sh) * 0.99)) : ([hp[0] + (k - 0.5) * 0.06 * L * facing, ground - 0.015 * L] as Pt));
    // Knees bend forward (towards `facing`), or upward when lying.
    const s1 = ik(hp, tt, th, sh, 1), s2 = ik(hp, tt, th, sh, -1);
    const pick = lying ? (s1.mid[1] <= s2.mid[1] ? s1 : s2) : s1.mid[0] * facing >= s2.mid[0] * facing ? s1 : s2;
    return t ? pick : { ...pick, reached: false };
  };
  const la = arm(lSh, targets.leftWrist, 0), ra = arm(rSh, targets.rightWrist, 1);
  const ll = leg(lHip, targets.leftAnkle, 0), rl = leg(rHip, targets.rightAnkle, 1);
  const keypoints: Pt[] = [nose, lEye, rEye, lEar, rEar, lSh, rSh, la.mid, ra.mid, la.end, ra.end, lHip, rHip, ll.mid, rl.mid, ll.end, rl.end];
  const mouth = add(add(head, mul(fwd, 0.055 * L)), mul(up, -0.03 * L));
  const backPoint = add(add(hip, mul(up, BODY.torso * 0.55 * L)), mul(fwd, -BODY.thickness * L));
  const hipsPoint = lying ? add(hip, mul(fwd, -0.05 * L)) : add(hip, mul(up, -0.05 * L));
  return { keypoints, L, facing, theta, mouth, backPoint, hipsPoint, head, reached: { leftWrist: la.reached, rightWrist: ra.reached, leftAnkle: ll.reached, rightAnkle: rl.reached } };
}

/** Shoulder reach (arm length) of a person of height L. */
export const armReach = (L: number): number => (BODY.upperArm + BODY.forearm) * L;

/** True when every keypoint of the person lies inside the image with a margin. */
export function personInside(p: Person, width: number, height: number, margin: number): boolean {
  const r = BODY.headR * p.L;
  if (p.head[0] - r < margin || p.head[0] + r > width - margin || p.head[1] - r < margin) return false;
  return p.keypoints.every(([x, y]) => x >= margin && x <= width - margin && y >= margin && y <= height - margin);
}

export interface PersonStyle {
  skin: string;
  shirt: string;
  pants: string;
}

/** SVG of a person drawn from its keypoints: thick limbs with round caps, a torso band and a head. */
export function personSvg(p: Person, style: PersonStyle): string {
  const k = p.keypoints;
  const L = p.L;
  const w = (f: number): string => (f * L).toFixed(2);
  const line = (a: Pt, b: Pt, col: string, width: number, op = 1): string =>
    `<line x1="${a[0].toFixed(2)}" y1="${a[1].toFixed(2)}" x2="${b[0].toFixed(2)}" y2="${b[1].toFixed(2)}" stroke="${col}" stroke-width="${w(width)}" stroke-linecap="round" opacity="${op}"/>`;
  const far = p.facing === 1 ? 1 : 0; // the right side is farther from the viewer when facing right
  const limbs = (side: 0 | 1, op: number): string[] => {
    const [sh, el, wr, hp, kn, an] = side === 0 ? [5, 7, 9, 11, 13, 15] : [6, 8, 10, 12, 14, 16];
    return [line(k[hp], k[kn], style.pants, 0.07, op), line(k[kn], k[an], style.pants, 0.06, op), line(k[sh], k[el], style.shirt, 0.055, op), line(k[el], k[wr], style.skin, 0.045, op)];
  };
  const hipC: Pt = [(k[11][0] + k[12][0]) / 2, (k[11][1] + k[12][1]) / 2];
  const shC: Pt = [(k[5][0] + k[6][0]) / 2, (k[5][1] + k[6][1]) / 2];
  const parts = [
    ...limbs(far as 0 | 1, 0.8),
    line(hipC, shC, style.shirt, 0.13),
    line(shC, p.head, style.skin, 0.05),
    `<circle cx="${p.head[0].toFixed(2)}" cy="${p.head[1].toFixed(2)}" r="${w(BODY.headR)}" fill="${style.skin}"/>`,
    `<circle cx="${k[0][0].toFixed(2)}" cy="${k[0][1].toFixed(2)}" r="${w(0.012)}" fill="#00000055"/>`,
    ...limbs((1 - far) as 0 | 1, 1),
  ];
  return parts.join('');
}
