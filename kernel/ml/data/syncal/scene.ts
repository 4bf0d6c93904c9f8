import { CONTACT_CHANNELS, type ContactChannel } from '../../../protocol';
import type { CalClass } from '../classes';
import type { Rng } from '../rng';
import { apply, dist, svgTransform, type Placement, type Pt } from './geometry';
import type { ObjectKind, ObjectModel, Variant } from './objects';
import { armReach, BODY, personInside, personSvg, posePerson, type Person, type PoseTargets } from './person';

/** One rendered scene before encoding: its SVG and its annotations (pixels). */
export interface Scene {
  svg: string;
  width: number;
  height: number;
  object: string;
  /** Contact points per channel, CONTACT_CHANNELS order. */
  contacts: Pt[][];
  /** COCO-17 [x, y, score] for interactive scenes. */
  pose?: [number, number, number][];
  humanBox?: [number, number, number, number];
  objectBox: [number, number, number, number];
  /** The variant drawn (interactive scenes). */
  variant?: Variant;
  /** Named regions: every alternative (non-interactive) or the ones touched (interactive). */
  regions: SceneRegion[];
}

/** A named contact region of a scene (SynCAL's extension of the annotation, see `regions` in the JSON). */
export interface SceneRegion {
  channel: ContactChannel;
  name: string;
  points: Pt[];
}

const regionName = (m: ObjectModel, ch: ContactChannel, i: number): string => m.regionNames?.[ch]?.[i] ?? ch.toLowerCase();

const CH = (c: ContactChannel): number => CONTACT_CHANNELS.indexOf(c);
const centroid = (pts: Pt[]): Pt => [pts.reduce((a, p) => a + p[0], 0) / pts.length, pts.reduce((a, p) => a + p[1], 0) / pts.length];

function background(rng: Rng, W: number, H: number, gy: number): string {
  const sky = `hsl(${Math.round(rng.range(180, 240))}, ${Math.round(rng.range(10, 40))}%, ${Math.round(rng.range(78, 92))}%)`;
  const floor = `hsl(${Math.round(rng.range(20, 120))}, ${Math.round(rng.range(10, 35))}%, ${Math.round(rng.range(45, 65))}%)`;
  const parts = [`<rect width="${W}" height="${H}" fill="${sky}"/>`, `<rect y="${gy.toFixed(2)}" width="${W}" height="${(H - gy).toFixed(2)}" fill="${floor}"/>`];
  // Clutter: muted shapes on the wall and on the floor, so that the object is not the only thing in view.
  const n = 3 + rng.int(4);
  for (let i = 0; i < n; i++) {
    const col = `hsl(${Math.round(rng.range(0, 360))}, ${Math.round(rng.range(5, 30))}%, ${Math.round(rng.range(40, 80))}%)`;
    const s = rng.range(0.05, 0.18) * W;
    const x = rng.range(0, W - s);
    const onFloor = rng.chance(0.5);
    const y = onFloor ? gy - s * rng.range(0.3, 1) : rng.range(0.05 * H, gy - s);
    const k = rng.int(3);
    if (k === 0) parts.push(`<rect x="${x.toFixed(2)}" y="${y.toFixed(2)}" width="${s.toFixed(2)}" height="${(onFloor ? gy - y : s * 0.7).toFixed(2)}" fill="${col}" opacity="0.8"/>`);
    else if (k === 1) parts.push(`<circle cx="${(x + s / 2).toFixed(2)}" cy="${(y + s / 2).toFixed(2)}" r="${(s / 2).toFixed(2)}" fill="${col}" opacity="0.7"/>`);
    else parts.push(`<polygon points="${x.toFixed(2)},${(y + s).toFixed(2)} ${(x + s / 2).toFixed(2)},${y.toFixed(2)} ${(x + s).toFixed(2)},${(y + s).toFixed(2)}" fill="${col}" opacity="0.7"/>`);
  }
  for (let i = 0; i < 4; i++) {
    const yy = gy + (H - gy) * rng.range(0.15, 0.95);
    parts.push(`<line x1="0" y1="${yy.toFixed(2)}" x2="${W}" y2="${yy.toFixed(2)}" stroke="#00000018" stroke-width="1"/>`);
  }
  return parts.join('');
}

/** Key points of an object model (regions, outside, origin) placed in the image. */
function objectPoints(m: ObjectModel, p: Placement): Pt[] {
  const pts: Pt[] = [[0, 0], ...m.outside];
  for (const alts of Object.values(m.regions)) for (const a of alts ?? []) pts.push(...a);
  if (m.seat) pts.push(m.seat);
  if (m.surface) pts.push([m.surface.x0, m.surface.y], [m.surface.x1, m.surface.y]);
  return pts.map((q) => apply(p, q));
}

function bbox(pts: Pt[], pad: number, W: number, H: number): [number, number, number, number] {
  const xs = pts.map((p) => p[0]), ys = pts.map((p) => p[1]);
  const r = (v: number): number => Math.round(v * 10) / 10;
  return [r(Math.max(0, Math.min(...xs) - pad)), r(Math.max(0, Math.min(...ys) - pad)), r(Math.min(W, Math.max(...xs) + pad)), r(Math.min(H, Math.max(...ys) + pad))];
}

const inside = (pts: Pt[], W: number, H: number, m: number): boolean => pts.every(([x, y]) => x >= m && y >= m && x <= W - m && y <= H - m);

/** The class's parts that this kind can show (in some variant). */
function kindParts(cls: CalClass, m: ObjectModel): ContactChannel[] {
  const used = new Set(m.variants.flatMap((v) => v.parts));
  return cls.parts.filter((p) => p !== 'Outside' && used.has(p));
}

/**
 * A non-interactive scene: the object alone, annotated with every region any interaction of its class could touch
 * (all alternatives of every body part), so that the object alone is ambiguous.
 */
export function objectScene(cls: CalClass, kind: ObjectKind, rng: Rng, W: number, H: number): Scene {
  for (let attempt = 0; attempt < 20; attempt++) {
    const m = kind(rng);
    const gy = H * rng.range(0.8, 0.9);
    const held = m.variants.every((v) => v.mode === 'hold');
    const upright = !m.holdAngle || m.holdAngle[1] - m.holdAngle[0] < 30;
    const scale = H * rng.range(0.6, 0.95) * (held ? 1.6 : 1) * Math.pow(0.93, attempt);
    const p: Placement = { x: W * rng.range(0.3, 0.7), y: gy, scale, rotate: held && !upright ? rng.pick([-90, 90]) + rng.range(-8, 8) : 0, mirror: rng.chance(0.5) };
    if (held) {
      // Rest it on the floor: shift so that its lowest key point touches the ground line.
      const low = Math.max(...objectPoints(m, p).map((q) => q[1]));
      p.y += gy - low - H * 0.01;
    }
    const pts = objectPoints(m, p);
    if (!inside(pts, W, H, 3)) continue;
    const contacts: Pt[][] = CONTACT_CHANNELS.map(() => []);
    const regions: SceneRegion[] = [];
    for (const part of kindParts(cls, m)) {
      (m.regions[part] ?? []).forEach((alt, i) => {
        const points = alt.map((q) => apply(p, q));
        contacts[CH(part)].push(...points);
        regions.push({ channel: part, name: regionName(m, part, i), points });
      });
    }
    const outside = m.outside.map((q) => apply(p, q));
    contacts[CH('Outside')].push(...outside);
    regions.push({ channel: 'Outside', name: 'outside', points: outside });
    const svg = background(rng, W, H, gy) + `<g transform="${svgTransform(p)}">${m.svg}</g>`;
    return { svg, width: W, height: H, object: m.name, contacts, objectBox: bbox(pts, 0.02 * scale, W, H), regions };
  }
  throw new Error(`SynCAL: could not place a ${cls.name} object in a ${W} x ${H} image`);
}

interface Posed {
  person: Person;
  contacts: Pt[][];
  regions: SceneRegion[];
}

/** Adds touched points to the contacts and records them as a named region. */
function touch(posed: { contacts: Pt[][]; regions: SceneRegion[] }, channel: ContactChannel, name: string, points: Pt[]): void {
  posed.contacts[CH(channel)].push(...points);
  const r = posed.regions.find((x) => x.channel === channel && x.name === name);
  if (r) r.points.push(...points);
  else posed.regions.push({ channel, name, points: [...points] });
}

/** Poses the person for one variant around a placed object; undefined when a required contact is not reached. */
function poseFor(m: ObjectModel, v: Variant, p: Placement, L: number, gy: number, rng: Rng): Posed | undefined {
  const contacts: Pt[][] = CONTACT_CHANNELS.map(() => []);
  const tr = (q: Pt): Pt => apply(p, q);
  const alts = (part: ContactChannel): Pt[][] => (m.regions[part] ?? []).map((a) => a.map(tr));
  const legLen = (BODY.thigh + BODY.shin) * L;
  const pickIdx = (part: ContactChannel): number => rng.int(alts(part).length);
  const handIdx = v.parts.includes('Hands') && alts('Hands').length > 0 ? (v.hands === 2 ? [0, 1].slice(0, alts('Hands').length) : [pickIdx('Hands')]) : [];
  const footIdx = v.mode !== 'lie' && v.parts.includes('Feet') && alts('Feet').length > 0 ? [pickIdx('Feet')] : [];
  const hands = handIdx.map((i) => alts('Hands')[i]);
  const feet = footIdx.map((i) => alts('Feet')[i]);
  const targets: PoseTargets = {};
  if (hands[0]) targets.leftWrist = centroid(hands[0]);
  if (hands[1]) targets.rightWrist = centroid(hands[1]);
  if (feet[0]) targets.leftAnkle = centroid(feet[0]);
  let hip: Pt;
  let theta = 0;
  let lying = false;
  if (v.mode === 'ground') {
    const hy = gy - legLen * 0.97;
    if (v.parts[0] === 'Feet' && feet[0]) {
      const T = centroid(feet[0]);
      const dy = T[1] - hy;
      const R = legLen * rng.range(0.8, 0.95);
      if (Math.abs(dy) > R) return undefined;
      hip = [T[0] - Math.sqrt(R * R - dy * dy), hy];
    } else {
      theta = rng.range(0, 0.3);
      const T = centroid(hands.flat());
      const sy = hy - BODY.torso * L * Math.cos(theta);
      const R = armReach(L) * rng.range(0.75, 0.92);
      const dy = T[1] - sy;
      if (Math.abs(dy) > R) return undefined;
      const sx = T[0] - Math.sqrt(R * R - dy * dy);
      hip = [sx - Math.sin(theta) * BODY.torso * L, hy];
    }
  } else if (v.mode === 'sit') {
    if (!m.seat) return undefined;
    const S = tr(m.seat);
    if (v.parts.includes('Back') && m.backrestX !== undefined) {
      const bx = tr([m.backrestX, m.seat[1]])[0];
      hip = [bx + BODY.thickness * L, S[1] - 0.05 * L];
    } else {
      theta = rng.range(0.2, 0.45);
      hip = [S[0] + rng.range(0.02, 0.05) * L, S[1] - 0.05 * L];
    }
    targets.leftAnkle = [hip[0] + BODY.thigh * L * rng.range(0.8, 0.98), gy - 0.015 * L];
    targets.rightAnkle = [hip[0] + BODY.thigh * L * rng.range(0.8, 0.98) + 0.02 * L, gy - 0.015 * L];
  } else if (v.mode === 'ride') {
    const P = feet[0] ? centroid(feet[0]) : undefined;
    if (v.parts.includes('Hips') && m.seat) {
      const S = tr(m.seat);
      hip = [S[0], S[1] - 0.05 * L];
    } else {
      if (!P) return undefined;
      hip = [P[0] - 0.06 * L, P[1] - legLen * 0.93];
    }
    // Lean forward just enough to reach the handlebar.
    const T = targets.leftWrist;
    if (T) {
      const ok: number[] = [];
      for (let t = 0; t <= 1.0; t += 0.05) {
        const sc: Pt = [hip[0] + Math.sin(t) * BODY.torso * L, hip[1] - Math.cos(t) * BODY.torso * L];
        if (dist(sc, T) < armReach(L) * 0.93 && dist(sc, T) > armReach(L) * 0.5) ok.push(t);
      }
      if (ok.length === 0) return undefined;
      theta = rng.pick(ok);
      targets.rightWrist = [T[0] + 0.01 * L, T[1]];
    }
    if (P) targets.rightAnkle = [P[0] - 0.02 * L, P[1]];
  } else if (v.mode === 'lie') {
    if (!m.surface) return undefined;
    lying = true;
    theta = -Math.PI / 2;
    const a = tr([m.surface.x0, m.surface.y]), b = tr([m.surface.x1, m.surface.y]);
    const x0 = Math.min(a[0], b[0]), x1 = Math.max(a[0], b[0]), ys = a[1];
    const onFeet = v.parts.includes('Feet');
    hip = onFeet ? [x0 + (BODY.torso + BODY.neck + 0.09) * L + rng.range(0, 0.03) * L, ys - 0.05 * L] : [x1 - BODY.thigh * L * 0.9, ys - 0.05 * L];
    if (onFeet) {
      const ax = hip[0] + legLen * 0.96;
      if (ax > x1 - 0.01 * L) return undefined;
      targets.leftAnkle = [ax, ys - 0.015 * L];
      targets.rightAnkle = [ax - 0.02 * L, ys - 0.015 * L];
    } else {
      targets.leftAnkle = [x1 + 0.1 * L, ys + 0.16 * L];
      targets.rightAnkle = [x1 + 0.12 * L, ys + 0.17 * L];
    }
    if (hip[0] - (BODY.torso + BODY.neck + BODY.headR) * L < x0) return undefined;
  } else {
    return undefined;
  }
  const person = posePerson(hip, theta, 1, L, targets, gy, lying);
  // Required contacts must be reached.
  if (hands[0] && !person.reached.leftWrist) return undefined;
  if (hands[1] && !person.reached.rightWrist) return undefined;
  if (feet[0] && !person.reached.leftAnkle) return undefined;
  if (v.mode === 'lie' && v.parts.includes('Feet') && !(person.reached.leftAnkle && person.reached.rightAnkle)) return undefined;
  const posed: Posed = { person, contacts, regions: [] };
  handIdx.forEach((i, k) => touch(posed, 'Hands', regionName(m, 'Hands', i), hands[k]));
  footIdx.forEach((i, k) => touch(posed, 'Feet', regionName(m, 'Feet', i), feet[k]));
  if (v.parts.includes('Hips')) touch(posed, 'Hips', regionName(m, 'Hips', 0), [[person.keypoints[11][0], person.hipsPoint[1]], [person.keypoints[12][0], person.hipsPoint[1]]]);
  if (v.parts.includes('Back')) {
    const bp = person.backPoint;
    if (v.mode === 'lie') touch(posed, 'Back', regionName(m, 'Back', 0), [[bp[0], hip[1] + 0.05 * L], [bp[0] - 0.05 * L, hip[1] + 0.05 * L]]);
    else if (m.backrestX !== undefined) touch(posed, 'Back', regionName(m, 'Back', 0), [[tr([m.backrestX, 0])[0], bp[1]]]);
  }
  if (v.mode === 'lie' && v.parts.includes('Feet')) touch(posed, 'Feet', regionName(m, 'Feet', 0), [[person.keypoints[15][0], hip[1] + 0.05 * L], [person.keypoints[16][0], hip[1] + 0.05 * L]]);
  if (v.mode === 'ride' && feet[0] && person.reached.rightAnkle) touch(posed, 'Feet', regionName(m, 'Feet', footIdx[0]), [person.keypoints[16]]);
  return posed;
}

/** Poses the person for a held object: the object follows the hand (or the mouth). */
function holdPose(m: ObjectModel, v: Variant, L: number, gy: number, W: number, rng: Rng): { posed: Posed; p: Placement } | undefined {
  const hip: Pt = [W * rng.range(0.3, 0.5), gy - (BODY.thigh + BODY.shin) * L * 0.97];
  const theta = rng.range(-0.05, 0.12);
  const rest = posePerson(hip, theta, 1, L, {}, gy);
  const [a0, a1] = m.holdAngle ?? [-30, 30];
  const scale = L * rng.range(0.9, 1.1);
  const grips = m.regions.Hands ?? [];
  if (grips.length === 0) return undefined;
  const gripAlt = v.hands === 2 ? 0 : rng.int(grips.length);
  const grip = centroid(grips[gripAlt]);
  for (let k = 0; k < 12; k++) {
    const rotate = rng.range(a0, a1);
    const p: Placement = { x: 0, y: 0, scale, rotate, mirror: false };
    if (v.parts.includes('Mouth') && m.regions.Mouth) {
      const mo = apply(p, m.regions.Mouth[0][0]);
      p.x = rest.mouth[0] - mo[0];
      p.y = rest.mouth[1] - mo[1];
    } else {
      const sh = rest.keypoints[5];
      const ang = rng.range(-0.5, 1.0);
      const R = armReach(L) * rng.range(0.7, 0.92);
      const w: Pt = [sh[0] + Math.cos(ang) * R, sh[1] + Math.sin(ang) * R];
      const g = apply(p, grip);
      p.x = w[0] - g[0];
      p.y = w[1] - g[1];
    }
    const targets: PoseTargets = { leftWrist: apply(p, grip) };
    if (v.hands === 2 && grips[1]) targets.rightWrist = apply(p, centroid(grips[1]));
    const person = posePerson(hip, theta, 1, L, targets, gy);
    if (!person.reached.leftWrist || (targets.rightWrist && !person.reached.rightWrist)) continue;
    // The object must stay above the ground.
    if (Math.max(...objectPoints(m, p).map((q) => q[1])) > gy) continue;
    const posed: Posed = { person, contacts: CONTACT_CHANNELS.map(() => []), regions: [] };
    touch(posed, 'Hands', regionName(m, 'Hands', gripAlt), grips[gripAlt].map((q) => apply(p, q)));
    if (targets.rightWrist) touch(posed, 'Hands', regionName(m, 'Hands', 1), grips[1].map((q) => apply(p, q)));
    if (v.parts.includes('Mouth') && m.regions.Mouth) touch(posed, 'Mouth', regionName(m, 'Mouth', 0), m.regions.Mouth[0].map((q) => apply(p, q)));
    return { posed, p };
  }
  return undefined;
}

/**
 * An interactive scene: a person drawn from COCO-17 keypoints posed so that the body parts of one variant touch
 * the object's regions, with those contacts (plus Outside) as the annotation.
 * @param variantIndex - which of the object's usable variants to draw (modulo their count); random when absent
 */
export function interactionScene(cls: CalClass, kind: ObjectKind, rng: Rng, W: number, H: number, variantIndex?: number): Scene {
  for (let attempt = 0; attempt < 40; attempt++) {
    const m = kind(rng);
    const usable = m.variants.filter((v) => v.parts.every((p) => cls.parts.includes(p)));
    if (usable.length === 0) throw new Error(`SynCAL: object ${m.name} has no variant for class ${cls.name}`);
    // A requested variant (so that a class shows all its body parts) gets most of the attempts, then any variant.
    const drawn = rng.pick(usable);
    const v = variantIndex !== undefined && attempt < 30 ? usable[variantIndex % usable.length] : drawn;
    const gy = H * rng.range(0.86, 0.93);
    const L = H * rng.range(0.58, 0.7) * Math.pow(0.96, attempt);
    let posed: Posed | undefined;
    let p: Placement;
    if (v.mode === 'hold') {
      const r = holdPose(m, v, L, gy, W, rng);
      if (!r) continue;
      posed = r.posed;
      p = r.p;
    } else {
      p = { x: W * (v.mode === 'lie' ? rng.range(0.45, 0.55) : rng.range(0.5, 0.68)), y: gy, scale: L * rng.range(0.9, 1.1), rotate: 0, mirror: false };
      posed = poseFor(m, v, p, L, gy, rng);
      if (!posed) continue;
    }
    const person = posed.person;
    const objPts = objectPoints(m, p);
    if (!personInside(person, W, H, 2) || !inside(objPts, W, H, 2)) continue;
    const contacts = posed.contacts;
    touch(posed, 'Outside', 'outside', m.outside.map((q) => apply(p, q)));
    if (!contacts.flat().every(([x, y]) => x >= 0 && y >= 0 && x <= W && y <= H)) continue;
    const style = {
      skin: `hsl(${Math.round(rng.range(15, 35))}, ${Math.round(rng.range(30, 60))}%, ${Math.round(rng.range(30, 75))}%)`,
      shirt: `hsl(${Math.round(rng.range(0, 360))}, ${Math.round(rng.range(30, 70))}%, ${Math.round(rng.range(30, 60))}%)`,
      pants: `hsl(${Math.round(rng.range(200, 260))}, ${Math.round(rng.range(10, 50))}%, ${Math.round(rng.range(15, 40))}%)`,
    };
    const objSvg = `<g transform="${svgTransform(p)}">${m.svg}</g>`;
    // Held objects are drawn over the person (they are in the hand); the rest under.
    const body = personSvg(person, style);
    const svg = background(rng, W, H, gy) + (v.mode === 'hold' ? body + objSvg : objSvg + body);
    // A detector's pose: a little noise and confidence scores, the far side less sure.
    const pose = person.keypoints.map(([x, y], i) => [Math.min(W, Math.max(0, x + rng.range(-0.004, 0.004) * L)), Math.min(H, Math.max(0, y + rng.range(-0.004, 0.004) * L)), i % 2 === 0 && i > 0 ? rng.range(0.55, 0.9) : rng.range(0.8, 0.99)] as [number, number, number]);
    const r = BODY.headR * L;
    const humanBox = bbox([...person.keypoints, [person.head[0] - r, person.head[1] - r], [person.head[0] + r, person.head[1] + r]], 0.03 * L, W, H);
    return { svg, width: W, height: H, object: m.name, contacts, pose, humanBox, objectBox: bbox(objPts, 0.02 * L, W, H), variant: v, regions: posed.regions };
  }
  throw new Error(`SynCAL: could not pose a person for ${cls.name} in a ${W} x ${H} image`);
}

/** Mirrors a scene left-right (drawing, contacts, pose and boxes); COCO labels follow the drawn limbs. */
export function mirrorScene(s: Scene): Scene {
  const W = s.width;
  const mx = (x: number): number => W - x;
  const box = (b: [number, number, number, number]): [number, number, number, number] => [mx(b[2]), b[1], mx(b[0]), b[3]];
  return {
    ...s,
    svg: `<g transform="translate(${W} 0) scale(-1 1)">${s.svg}</g>`,
    contacts: s.contacts.map((c) => c.map(([x, y]) => [mx(x), y] as Pt)),
    regions: s.regions.map((r) => ({ ...r, points: r.points.map(([x, y]) => [mx(x), y] as Pt) })),
    ...(s.pose ? { pose: s.pose.map(([x, y, c]) => [mx(x), y, c] as [number, number, number]) } : {}),
    ...(s.humanBox ? { humanBox: box(s.humanBox) } : {}),
    objectBox: box(s.objectBox),
  };
}
