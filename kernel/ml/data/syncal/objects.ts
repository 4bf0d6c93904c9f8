import type { ContactChannel } from '../../../protocol';
import type { Rng } from '../rng';
import type { Pt } from './geometry';

/**
 * How a person interacts with an object in one variant of a class:
 * `hold` the object is carried in the hands (or at the mouth); `ground` it stands on the ground and the person
 * reaches it standing; `sit`, `ride`, `lie` the person is placed on it.
 */
export type Mode = 'hold' | 'ground' | 'sit' | 'ride' | 'lie';

/** One way of interacting: the body parts in contact (Outside is implied) and the scene mode. */
export interface Variant {
  parts: ContactChannel[];
  mode: Mode;
  /** Hands used when Hands is in parts: 1 (one alternative) or 2 (two alternatives, one per hand). @default 1 */
  hands?: 1 | 2;
}

/**
 * A procedurally drawn object in local units of the person's height L (x right, y down). Grounded objects have
 * their base on y = 0; held objects have their main grip at the origin.
 */
export interface ObjectModel {
  /** Object folder name. */
  name: string;
  svg: string;
  /** Contact regions per body part; each entry is one alternative (e.g. each of two handles), a few points. */
  regions: Partial<Record<ContactChannel, Pt[][]>>;
  /**
   * Names of the alternatives, parallel to `regions`. Alternatives that look the same in an image of the object
   * alone (two symmetric handles) share a name; ones that can be told apart (end grip, mid grip) do not.
   * Default: the channel name in lower case for every alternative.
   */
  regionNames?: Partial<Record<ContactChannel, string[]>>;
  /** Where the object meets the environment (the ground, or its working end). */
  outside: Pt[];
  variants: Variant[];
  /** Rotation range (degrees) when held. */
  holdAngle?: [number, number];
  /** Seat geometry for sit/ride: the point the hips rest on, and the backrest's inner face x (sit). */
  seat?: Pt;
  backrestX?: number;
  /** Lie: the surface from x0 to x1 at height y. */
  surface?: { x0: number; x1: number; y: number };
}

export type ObjectKind = (rng: Rng) => ObjectModel;

const hsl = (h: number, s: number, l: number): string => `hsl(${Math.round(h)}, ${Math.round(s)}%, ${Math.round(l)}%)`;
const colour = (rng: Rng, l: [number, number] = [35, 60]): string => hsl(rng.range(0, 360), rng.range(35, 80), rng.range(l[0], l[1]));
const f = (n: number): string => n.toFixed(4);
const rect = (x: number, y: number, w: number, h: number, fill: string, rx = 0): string => `<rect x="${f(x)}" y="${f(y)}" width="${f(w)}" height="${f(h)}" rx="${f(rx)}" fill="${fill}"/>`;
const circle = (x: number, y: number, r: number, fill: string, stroke = 'none', sw = 0): string => `<circle cx="${f(x)}" cy="${f(y)}" r="${f(r)}" fill="${fill}" stroke="${stroke}" stroke-width="${f(sw)}"/>`;
const ellipse = (x: number, y: number, rx: number, ry: number, fill: string): string => `<ellipse cx="${f(x)}" cy="${f(y)}" rx="${f(rx)}" ry="${f(ry)}" fill="${fill}"/>`;
const line = (a: Pt, b: Pt, w: number, col: string): string => `<line x1="${f(a[0])}" y1="${f(a[1])}" x2="${f(b[0])}" y2="${f(b[1])}" stroke="${col}" stroke-width="${f(w)}" stroke-linecap="round"/>`;
const poly = (pts: Pt[], fill: string): string => `<polygon points="${pts.map((p) => `${f(p[0])},${f(p[1])}`).join(' ')}" fill="${fill}"/>`;
const seg = (a: Pt, b: Pt, n: number): Pt[] => Array.from({ length: n }, (_, i) => [a[0] + ((b[0] - a[0]) * (i + 0.5)) / n, a[1] + ((b[1] - a[1]) * (i + 0.5)) / n] as Pt);

const HOLD: Variant = { parts: ['Hands'], mode: 'hold' };
const MOUTH: Variant = { parts: ['Hands', 'Mouth'], mode: 'hold' };

/** A long tool held at its handle: handle along -y from the grip, a head at the top. */
function tool(name: string, opts: { handle: number; head: (top: number, c: string, rng: Rng) => { svg: string; outside: Pt[]; mouth?: Pt[] }; width?: number; mouth?: boolean; angle?: [number, number] }): ObjectKind {
  return (rng) => {
    const h = opts.handle * rng.range(0.85, 1.15);
    const hc = colour(rng, [20, 45]);
    const c = colour(rng);
    const w = (opts.width ?? 0.025) * rng.range(0.8, 1.2);
    const top = -h;
    const head = opts.head(top, c, rng);
    // A long handle can be gripped at its end or choked up halfway: two plausible hand regions.
    const regions: ObjectModel['regions'] = { Hands: [seg([0, 0.03], [0, -0.06], 2), ...(h >= 0.12 ? [seg([0, -h * 0.5 + 0.03], [0, -h * 0.5 - 0.03], 2)] : [])] };
    if (opts.mouth && head.mouth) regions.Mouth = [head.mouth];
    return {
      name,
      svg: line([0, 0.06], [0, top], w, hc) + head.svg,
      regions,
      regionNames: { Hands: ['end_grip', 'mid_grip'] },
      outside: head.outside,
      variants: opts.mouth ? [MOUTH, HOLD] : [HOLD],
      holdAngle: opts.angle ?? [-70, -15],
    };
  };
}

/** Vessels: a body with optional handles on either side (two symmetric handles make the hand ambiguous). */
function vessel(name: string, opts: { w: number; h: number; handles: 0 | 1 | 2; spout?: boolean; neck?: boolean; mouth?: boolean; extraVariants?: Variant[] }): ObjectKind {
  return (rng) => {
    const w = opts.w * rng.range(0.85, 1.15), h = opts.h * rng.range(0.85, 1.15);
    const c = colour(rng);
    const parts: string[] = [];
    const hands: Pt[][] = [];
    // Origin at the grip: the handle (or the body's side) of the first alternative.
    const bx = opts.handles > 0 ? 0.035 : w / 2;
    const body = (x: number): string => (opts.neck ? rect(x, -h / 2, w, h, c, w * 0.3) + rect(x + w * 0.3, -h / 2 - h * 0.3, w * 0.4, h * 0.32, c) : rect(x, -h / 2, w, h, c, w * 0.12));
    parts.push(body(bx));
    const handle = (x: number, dir: number): string => `<path d="M ${f(x)} ${f(-h * 0.3)} q ${f(dir * 0.05)} ${f(h * 0.3)} 0 ${f(h * 0.6)}" fill="none" stroke="${c}" stroke-width="0.014"/>`;
    if (opts.handles >= 1) {
      parts.push(handle(bx, -1));
      hands.push([[bx - 0.03, -h * 0.05], [bx - 0.03, h * 0.12]]);
    } else {
      hands.push([[bx - w / 2, 0], [bx - w / 2, h * 0.2]]);
    }
    // Without a second handle the body itself can be grabbed from the other side.
    if (opts.handles < 2) hands.push([[bx + w, -h * 0.05], [bx + w, h * 0.15]]);
    if (opts.handles === 2) {
      parts.push(handle(bx + w, 1));
      hands.push([[bx + w + 0.03, -h * 0.05], [bx + w + 0.03, h * 0.12]]);
    }
    const rimY = opts.neck ? -h / 2 - h * 0.3 : -h / 2;
    const rim: Pt[] = opts.neck ? [[bx + w * 0.5, rimY]] : [[bx + w * 0.2, rimY], [bx + w * 0.8, rimY]];
    let outside: Pt[] = [[bx + w * 0.2, h / 2], [bx + w * 0.8, h / 2]];
    if (opts.spout) {
      parts.push(poly([[bx + w, -h * 0.1], [bx + w + 0.07, -h * 0.45], [bx + w + 0.075, -h * 0.38], [bx + w, h * 0.1]], c));
      outside = [[bx + w + 0.072, -h * 0.43]];
    }
    return {
      name,
      svg: parts.join(''),
      regions: { Hands: hands, ...(opts.mouth ? { Mouth: [opts.spout ? [[bx + w + 0.072, -h * 0.43]] as Pt[] : rim] } : {}) },
      regionNames: { Hands: opts.handles === 1 ? ['handle', 'body'] : opts.handles === 2 ? ['handle', 'handle'] : ['body', 'body'] },
      outside,
      variants: [...(opts.mouth ? [MOUTH] : []), { ...HOLD, hands: 1 }, ...(opts.extraVariants ?? [])],
      holdAngle: [-12, 12],
    };
  };
}

/** A grounded object whose top edge is touched by the hands (left and right halves are the two alternatives). */
function topped(name: string, opts: { w: number; h: number; draw: (w: number, h: number, c: string, rng: Rng) => string; feetTop?: boolean; handsTop?: boolean; outsideAt?: 'base' | 'top' }): ObjectKind {
  return (rng) => {
    const w = opts.w * rng.range(0.85, 1.15), h = opts.h * rng.range(0.9, 1.1);
    const c = colour(rng);
    const left: Pt[] = seg([-w / 2 + w * 0.1, -h], [-w * 0.08, -h], 2), right: Pt[] = seg([w * 0.08, -h], [w / 2 - w * 0.1, -h], 2);
    const regions: ObjectModel['regions'] = {};
    const variants: Variant[] = [];
    if (opts.handsTop !== false) {
      regions.Hands = [left, right];
      variants.push({ parts: ['Hands'], mode: 'ground', hands: 1 }, { parts: ['Hands'], mode: 'ground', hands: 2 });
    }
    if (opts.feetTop) {
      regions.Feet = [left, right];
      variants.push({ parts: ['Feet'], mode: 'ground' });
    }
    return { name, svg: opts.draw(w, h, c, rng), regions, outside: opts.outsideAt === 'top' ? [[0, -h]] : [[-w / 2 + 0.01, 0], [w / 2 - 0.01, 0]], variants };
  };
}

const table = (w: number, h: number, top: string): string => rect(-w / 2, -h, w, 0.025, top) + rect(-w / 2 + 0.02, -h, 0.02, h, top) + rect(w / 2 - 0.04, -h, 0.02, h, top);

// ------------------------------------------------------------------------------------------------------------
// Kinds per class. The last kind of an Unseen class is held out of Unseen/trainset and is the only one in Unseen/testset.
// ------------------------------------------------------------------------------------------------------------

const keyboardOnTable = (name: string, kh: number, lid: boolean): ObjectKind => (rng) => {
  const w = rng.range(0.36, 0.46), th = rng.range(0.44, 0.5);
  const c = colour(rng, [20, 45]);
  const kw = w * 0.7;
  const svg = table(w, th, colour(rng, [30, 55])) + rect(-kw / 2, -th - kh, kw, kh, c, 0.005) + Array.from({ length: 6 }, (_, i) => rect(-kw / 2 + 0.01 + (i * (kw - 0.02)) / 6, -th - kh + 0.004, (kw - 0.02) / 6 - 0.004, kh * 0.4, '#dddddd')).join('') + (lid ? rect(-kw / 2, -th - kh - 0.16, 0.015, 0.16, c) : '');
  return {
    name,
    svg,
    regions: { Hands: [seg([-kw / 2 + 0.02, -th - kh], [-0.02, -th - kh], 2), seg([0.02, -th - kh], [kw / 2 - 0.02, -th - kh], 2)] },
    outside: [[-kw / 2 + 0.02, -th], [kw / 2 - 0.02, -th]],
    variants: [{ parts: ['Hands'], mode: 'ground', hands: 2 }, { parts: ['Hands'], mode: 'ground', hands: 1 }],
  };
};

const bristleHead = (len: number, mouth: boolean) => (top: number, c: string): { svg: string; outside: Pt[]; mouth?: Pt[] } => ({
  svg: rect(-0.02, top - len, 0.04, len, c, 0.008) + Array.from({ length: 4 }, (_, i) => line([0.02, top - len + (i + 0.5) * (len / 4)], [0.045, top - len + (i + 0.5) * (len / 4)], 0.008, '#f0f0f0')).join(''),
  outside: [[0.045, top - len * 0.5]],
  ...(mouth ? { mouth: [[0.04, top - len * 0.5]] as Pt[] } : {}),
});

const blade = (len: number, w: number) => (top: number, c: string): { svg: string; outside: Pt[] } => ({
  svg: poly([[-0.012, top], [-0.012 - w, top], [-0.012, top - len]], '#c8ccd0') + rect(-0.015, top, 0.03, 0.012, c),
  outside: seg([-0.012 - w, top], [-0.012, top - len], 3).map(([x, y]) => [x - 0.004, y] as Pt),
});

const knob = (r: number) => (top: number, c: string): { svg: string; outside: Pt[] } => ({ svg: ellipse(0, top - r * 0.6, r * 0.8, r * 1.3, c), outside: [[0, top - r * 1.8]] });

const ball = (name: string, r: number, pattern: boolean, variants: Variant[]): ObjectKind => (rng) => {
  const rr = r * rng.range(0.85, 1.15);
  const c = colour(rng, [45, 70]);
  const svg = circle(0, -rr, rr, c, '#222', 0.006) + (pattern ? poly([[0, -rr * 1.4], [rr * 0.35, -rr * 1.1], [rr * 0.2, -rr * 0.7], [-rr * 0.2, -rr * 0.7], [-rr * 0.35, -rr * 1.1]], '#222') : line([-rr, -rr], [rr, -rr], 0.008, '#00000066'));
  return { name, svg, regions: { Feet: [[[-rr * 0.9, -rr * 0.6]], [[-rr * 0.6, -rr * 0.2]]], Hands: [[[-rr * 0.95, -rr]], [[rr * 0.95, -rr]]] }, regionNames: { Feet: ['upper_side', 'lower_side'], Hands: ['side', 'side'] }, outside: [[0, 0]], variants };
};

const chair = (name: string, back: boolean, seatH: number, seatW: number): ObjectKind => (rng) => {
  const sh = seatH * rng.range(0.92, 1.08), sw = seatW * rng.range(0.9, 1.15);
  const c = colour(rng, [25, 50]);
  const bh = back ? rng.range(0.28, 0.34) : 0;
  const bx = -sw / 2;
  const svg = rect(-sw / 2, -sh - 0.03, sw, 0.03, c) + rect(-sw / 2 + 0.01, -sh, 0.02, sh, c) + rect(sw / 2 - 0.03, -sh, 0.02, sh, c) + (back ? rect(bx - 0.025, -sh - bh, 0.025, bh, c) : '');
  const seat: Pt = [bx + 0.07, -sh - 0.03];
  return {
    name,
    svg,
    regions: { Hips: [[seat, [seat[0] + 0.04, seat[1]]]], ...(back ? { Back: [seg([bx, -sh - bh * 0.35], [bx, -sh - bh * 0.75], 2)] } : {}) },
    outside: [[-sw / 2 + 0.02, 0], [sw / 2 - 0.02, 0]],
    variants: back ? [{ parts: ['Hips', 'Back'], mode: 'sit' }, { parts: ['Hips'], mode: 'sit' }] : [{ parts: ['Hips'], mode: 'sit' }],
    seat,
    backrestX: back ? bx : undefined,
  };
};

const bed = (name: string, h: number, len: number, head: boolean): ObjectKind => (rng) => {
  const hh = h * rng.range(0.85, 1.15), ln = len * rng.range(0.9, 1.1);
  const c = colour(rng, [30, 55]);
  const svg = rect(-ln / 2, -hh, ln, hh * 0.5, c, 0.01) + rect(-ln / 2, -hh * 0.5, 0.03, hh * 0.5, c) + rect(ln / 2 - 0.03, -hh * 0.5, 0.03, hh * 0.5, c) + (head ? rect(-ln / 2 - 0.03, -hh - 0.15, 0.03, hh + 0.15, c) : '') + rect(-ln / 2 + 0.01, -hh - 0.015, 0.1, 0.015, '#f4f4f4');
  return {
    name,
    svg,
    // Where a lying body touches: the back near the head end, the hips in the middle, the feet at the far end.
    regions: { Back: [seg([-ln / 2 + 0.12, -hh], [-ln / 2 + 0.3, -hh], 2)], Hips: [[[-ln / 2 + 0.48, -hh]]], Feet: [[[ln / 2 - 0.08, -hh]]] },
    outside: [[-ln / 2 + 0.015, 0], [ln / 2 - 0.015, 0]],
    variants: [{ parts: ['Back', 'Hips', 'Feet'], mode: 'lie' }, { parts: ['Back', 'Hips'], mode: 'lie' }],
    surface: { x0: -ln / 2, x1: ln / 2, y: -hh },
  };
};

const wheel = (x: number, r: number): string => circle(x, -r, r, '#333', '#111', 0.008) + circle(x, -r, r * 0.3, '#999');

const bicycle = (name: string, seatH: number, wheelR: number, hasSeat: boolean): ObjectKind => (rng) => {
  const r = wheelR * rng.range(0.9, 1.1), sh = seatH * rng.range(0.95, 1.05);
  const c = colour(rng, [35, 55]);
  const back: Pt = [-0.22, -r], frontW: Pt = [0.22, -r];
  const seat: Pt = [-0.1, -sh], bar: Pt = [0.18, -sh - 0.08], crank: Pt = [-0.02, -r];
  const pedal: Pt = [crank[0] + 0.06, crank[1] + 0.03];
  const svg = wheel(back[0], r) + wheel(frontW[0], r) + line(back, crank, 0.014, c) + line(crank, hasSeat ? seat : [crank[0], -r - 0.1], 0.014, c) + line(crank, [0.16, -sh + 0.02], 0.014, c) + line([0.16, -sh + 0.02], frontW, 0.014, c) + line([0.16, -sh + 0.02], bar, 0.012, c) + line([bar[0] - 0.03, bar[1]], [bar[0] + 0.03, bar[1]], 0.014, '#222') + (hasSeat ? rect(seat[0] - 0.04, seat[1] - 0.015, 0.08, 0.02, '#222', 0.008) : rect(-0.2, -r - 0.02, 0.3, 0.02, '#333')) + line(crank, pedal, 0.01, '#555');
  return {
    name,
    svg,
    regions: { ...(hasSeat ? { Hips: [[seat]] } : {}), Hands: [[bar]], Feet: hasSeat ? [[pedal]] : [[[-0.1, -r - 0.02]], [[0.0, -r - 0.02]]] },
    regionNames: { Feet: hasSeat ? ['pedal'] : ['deck_rear', 'deck_front'] },
    outside: [[back[0], 0], [frontW[0], 0]],
    variants: hasSeat ? [{ parts: ['Hips', 'Hands', 'Feet'], mode: 'ride' }, { parts: ['Hands', 'Feet'], mode: 'ride' }] : [{ parts: ['Hands', 'Feet'], mode: 'ride' }],
    seat,
  };
};

const cart = (name: string, handleH: number, style: 'cart' | 'stroller' | 'mower'): ObjectKind => (rng) => {
  const hh = handleH * rng.range(0.95, 1.05);
  const c = colour(rng);
  const r = style === 'mower' ? 0.04 : 0.05;
  const body = style === 'stroller' ? `<path d="M -0.05 ${f(-0.12)} a 0.12 0.12 0 0 1 0.24 0 z" fill="${c}"/>` + rect(-0.05, -0.12, 0.24, 0.05, c) : rect(-0.02, -0.16, 0.24, 0.1, c, 0.01);
  const handle: Pt = [-0.14, -hh];
  const svg = wheel(0, r) + wheel(0.18, r) + body + line([-0.02, -0.12], handle, 0.014, '#333') + line([handle[0] - 0.005, handle[1]], [handle[0] + 0.02, handle[1] - 0.01], 0.02, '#222');
  return { name, svg, regions: { Hands: [[handle]] }, outside: [[0, 0], [0.18, 0]], variants: [{ parts: ['Hands'], mode: 'ground', hands: 1 }] };
};

const bag = (name: string, w: number, h: number, hanging: boolean): ObjectKind => (rng) => {
  const ww = w * rng.range(0.9, 1.1), hh = h * rng.range(0.9, 1.1);
  const c = colour(rng, [25, 50]);
  const bottom = hanging ? -0.35 : 0.0;
  const svg = (hanging ? line([0, bottom - hh], [0, -1.05], 0.008, '#444') + rect(-0.02, -1.06, 0.2, 0.02, '#444') + line([0.17, -1.05], [0.17, 0], 0.015, '#444') : '') + rect(-ww / 2, bottom - hh, ww, hh, c, ww * 0.3);
  return {
    name,
    svg,
    regions: { Hands: [seg([-ww / 2, bottom - hh * 0.85], [-ww / 2, bottom - hh * 0.65], 2), seg([ww / 2, bottom - hh * 0.85], [ww / 2, bottom - hh * 0.65], 2)], Feet: [[[-ww / 2, bottom - hh * 0.2]]] },
    outside: hanging ? [[0, -1.05]] : [[-ww / 2 + 0.02, 0], [ww / 2 - 0.02, 0]],
    variants: hanging ? [{ parts: ['Hands'], mode: 'ground', hands: 1 }, { parts: ['Hands'], mode: 'ground', hands: 2 }] : [{ parts: ['Hands'], mode: 'ground', hands: 1 }, { parts: ['Feet'], mode: 'ground' }],
  };
};

const rollingPin: ObjectKind = (rng) => {
  const w = rng.range(0.3, 0.38), th = rng.range(0.44, 0.5);
  const c = colour(rng, [40, 60]);
  const pw = w * 0.7, y = -th - 0.035;
  const svg = table(w + 0.08, th, colour(rng, [25, 45])) + ellipse(0, -th - 0.006, pw * 0.45, 0.008, '#f3e0b5') + rect(-pw / 2 + 0.05, y - 0.02, pw - 0.1, 0.04, c, 0.015) + line([-pw / 2, y], [-pw / 2 + 0.05, y], 0.018, c) + line([pw / 2 - 0.05, y], [pw / 2, y], 0.018, c);
  return {
    name: 'rolling_pin',
    svg,
    regions: { Hands: [[[-pw / 2 + 0.02, y]], [[pw / 2 - 0.02, y]]] },
    outside: seg([-pw / 2 + 0.06, -th - 0.012], [pw / 2 - 0.06, -th - 0.012], 3),
    variants: [{ parts: ['Hands'], mode: 'ground', hands: 2 }, { parts: ['Hands'], mode: 'ground', hands: 1 }],
  };
};

const dumbbell = (name: string, bar: number, plate: number): ObjectKind => (rng) => {
  const b = bar * rng.range(0.9, 1.1), p = plate * rng.range(0.85, 1.15);
  const c = colour(rng, [20, 40]);
  // Held at the bar's centre; the two plates are the object's ends.
  const svg = line([-b / 2, 0], [b / 2, 0], 0.014, '#888') + rect(-b / 2 - 0.03, -p, 0.03, 2 * p, c, 0.005) + rect(b / 2, -p, 0.03, 2 * p, c, 0.005);
  return { name, svg, regions: { Hands: [seg([-b * 0.2, 0], [b * 0.2, 0], 2)], Mouth: [[[-b / 2 - 0.015, -p]]] }, outside: [[-b / 2 - 0.015, p], [b / 2 + 0.015, p]], variants: [HOLD, MOUTH], holdAngle: [-10, 10] };
};

const umbrella = (name: string, r: number, handle: number): ObjectKind => (rng) => {
  const rr = r * rng.range(0.9, 1.1), h = handle * rng.range(0.9, 1.1);
  const c = colour(rng);
  const svg = line([0, 0.03], [0, -h], 0.012, '#333') + `<path d="M ${f(-rr)} ${f(-h + 0.02)} Q 0 ${f(-h - rr * 0.9)} ${f(rr)} ${f(-h + 0.02)} Z" fill="${c}"/>`;
  return { name, svg, regions: { Hands: [seg([0, 0.02], [0, -0.05], 2), seg([0, -h * 0.45], [0, -h * 0.55], 2)] }, regionNames: { Hands: ['end_grip', 'mid_shaft'] }, outside: [[0, -h - rr * 0.45]], variants: [HOLD], holdAngle: [-15, 15] };
};

const crutch = (name: string, h: number, gripAt: number): ObjectKind => (rng) => {
  const hh = h * rng.range(0.95, 1.05);
  const c = colour(rng, [40, 65]);
  const grip = -hh * gripAt;
  const svg = line([0, 0], [0, -hh], 0.014, c) + line([-0.04, grip], [0.04, grip], 0.016, '#333') + rect(-0.05, -hh - 0.02, 0.1, 0.025, '#444', 0.01) + circle(0, -0.005, 0.01, '#222');
  return { name, svg, regions: { Hands: [[[0.0, grip]]] }, outside: [[0, 0]], variants: [{ parts: ['Hands'], mode: 'ground', hands: 1 }] };
};

const board = (name: string, w: number, h: number, legs: boolean): ObjectKind => (rng) => {
  const ww = w * rng.range(0.9, 1.1), hh = h * rng.range(0.9, 1.1);
  const c = colour(rng, [15, 35]);
  const y0 = legs ? -0.45 : -0.3;
  const svg = (legs ? line([-ww * 0.4, 0], [-ww * 0.3, y0], 0.014, '#6b4f2a') + line([ww * 0.4, 0], [ww * 0.3, y0], 0.014, '#6b4f2a') : rect(-ww / 2, y0, 0.015, -y0, '#6b4f2a')) + rect(-ww / 2, y0 - hh, ww, hh, c) + line([-ww * 0.3, y0 - hh * 0.5], [ww * 0.1, y0 - hh * 0.5], 0.006, '#f0f0f0');
  return {
    name,
    svg,
    regions: { Hands: [seg([-ww * 0.35, y0 - hh * 0.55], [-ww * 0.05, y0 - hh * 0.55], 2), seg([ww * 0.05, y0 - hh * 0.55], [ww * 0.35, y0 - hh * 0.55], 2)], Back: [seg([-ww / 2, y0 - hh * 0.6], [-ww / 2, y0 - hh * 0.3], 2)] },
    outside: [[-ww * 0.4, 0], [ww * 0.4, 0]],
    variants: [{ parts: ['Hands'], mode: 'ground', hands: 1 }],
  };
};

/** A chair with a writing tablet: the back rests on the backrest while the hand writes on the tablet. */
const tabletChair: ObjectKind = (rng) => {
  const base = chair('tablet_chair', true, 0.24, 0.2)(rng);
  const c = colour(rng, [25, 45]);
  const tx = 0.12, ty = -0.4;
  return {
    ...base,
    svg: base.svg + line([0.08, -0.27], [tx, ty], 0.014, c) + rect(tx - 0.02, ty - 0.015, 0.16, 0.015, c),
    regions: { ...base.regions, Hands: [seg([tx + 0.02, ty - 0.015], [tx + 0.1, ty - 0.015], 2)] },
    variants: [{ parts: ['Back', 'Hands'], mode: 'sit' }, { parts: ['Hands'], mode: 'sit' }],
  };
};

const cup = vessel('cup', { w: 0.06, h: 0.08, handles: 1, mouth: true });
const mug2 = vessel('two_handled_mug', { w: 0.07, h: 0.08, handles: 2, mouth: true });
const bottle = vessel('bottle', { w: 0.05, h: 0.13, handles: 0, neck: true, mouth: true });
const kettle = vessel('kettle', { w: 0.1, h: 0.09, handles: 1, spout: true, mouth: false });
const jug = vessel('jug', { w: 0.08, h: 0.11, handles: 1, spout: true, mouth: true });
const bowl = vessel('bowl', { w: 0.13, h: 0.05, handles: 0 });

/** Object kinds per class folder. */
export const CLASS_KINDS: Record<string, ObjectKind[]> = {
  Type_on: [keyboardOnTable('keyboard', 0.02, false), keyboardOnTable('laptop', 0.018, true), keyboardOnTable('typewriter', 0.05, false)],
  Brush_with: [tool('toothbrush', { handle: 0.13, head: bristleHead(0.035, true), mouth: true }), tool('scrub_brush', { handle: 0.09, head: bristleHead(0.06, false) }), tool('electric_toothbrush', { handle: 0.12, width: 0.04, head: bristleHead(0.03, true), mouth: true })],
  Kick: [ball('football', 0.06, true, [{ parts: ['Feet'], mode: 'ground' }, { parts: ['Hands'], mode: 'hold' }]), ball('rugby_ball', 0.05, false, [{ parts: ['Feet'], mode: 'ground' }]), bag('kick_bag', 0.12, 0.62, false)],
  Jump: [topped('jump_box', { w: 0.32, h: 0.4, feetTop: true, draw: (w, h, c) => rect(-w / 2, -h, w, h, c, 0.01) }), topped('trampoline', { w: 0.5, h: 0.1, feetTop: true, handsTop: false, draw: (w, h, c) => rect(-w / 2, -h, w, 0.02, '#222') + line([-w / 2 + 0.02, -h], [-w / 2 + 0.02, 0], 0.015, c) + line([w / 2 - 0.02, -h], [w / 2 - 0.02, 0], 0.015, c) }), topped('vault_horse', { w: 0.4, h: 0.48, feetTop: false, draw: (w, h, c) => rect(-w / 2, -h, w, 0.1, c, 0.04) + line([-w * 0.3, -h + 0.08], [-w * 0.35, 0], 0.02, '#555') + line([w * 0.3, -h + 0.08], [w * 0.35, 0], 0.02, '#555') })],
  Swing: [tool('baseball_bat', { handle: 0.3, width: 0.02, head: knob(0.025) }), tool('tennis_racket', { handle: 0.13, head: (top, c) => ({ svg: `<ellipse cx="0" cy="${f(top - 0.08)}" rx="0.06" ry="0.08" fill="none" stroke="${c}" stroke-width="0.012"/>`, outside: [[0, top - 0.08]] }) }), tool('golf_club', { handle: 0.38, width: 0.01, head: (top, c) => ({ svg: rect(-0.05, top - 0.02, 0.05, 0.025, c), outside: [[-0.05, top - 0.008]] }) })],
  Cut: [tool('knife', { handle: 0.06, width: 0.03, head: blade(0.13, 0.03) }), tool('saw', { handle: 0.05, width: 0.035, head: blade(0.22, 0.06) }), tool('scissors', { handle: 0.04, width: 0.03, head: blade(0.08, 0.02) }), tool('cleaver', { handle: 0.06, width: 0.03, head: blade(0.1, 0.07) })],
  Ride: [bicycle('bicycle', 0.42, 0.12, true), bicycle('tricycle', 0.34, 0.09, true), bicycle('scooter', 0.45, 0.05, false)],
  Boxing: [bag('punching_bag', 0.14, 0.36, true), bag('standing_bag', 0.14, 0.7, false)],
  Hit: [tool('hammer', { handle: 0.16, head: (top, c) => ({ svg: rect(-0.05, top - 0.03, 0.1, 0.035, c), outside: [[0.05, top - 0.012]] }) }), tool('mallet', { handle: 0.18, head: (top, c) => ({ svg: rect(-0.04, top - 0.05, 0.08, 0.055, c, 0.01), outside: [[0.04, top - 0.025]] }) }), tool('drumstick', { handle: 0.17, width: 0.012, head: knob(0.012) })],
  Sit_on: [chair('chair', true, 0.25, 0.2), chair('stool', false, 0.3, 0.14), chair('bench', false, 0.24, 0.36), chair('armchair', true, 0.2, 0.26)],
  Roll_dough: [rollingPin],
  Blowing: [tool('flute', { handle: 0.05, width: 0.014, angle: [-100, -80], head: (top, c) => ({ svg: line([0, top], [0, top - 0.2], 0.014, c), outside: [[0, top - 0.2]], mouth: [[0, top - 0.18]] }), mouth: true }), tool('trumpet', { handle: 0.06, width: 0.015, head: (top, c) => ({ svg: poly([[-0.01, top], [0.01, top], [0.04, top - 0.12], [-0.04, top - 0.12]], c), outside: [[0, top - 0.12]], mouth: [[0, top + 0.05]] }), mouth: true }), tool('whistle', { handle: 0.02, width: 0.02, head: (top, c) => ({ svg: rect(-0.015, top - 0.04, 0.03, 0.04, c, 0.008), outside: [[0, top - 0.04]], mouth: [[0, top - 0.035]] }), mouth: true })],
  Push_and_pull: [cart('cart', 0.5, 'cart'), cart('stroller', 0.52, 'stroller'), cart('lawn_mower', 0.48, 'mower')],
  Throw: [ball('ball', 0.045, false, [{ parts: ['Hands'], mode: 'hold' }, { parts: ['Feet'], mode: 'ground' }]), tool('javelin', { handle: 0.3, width: 0.01, head: (top) => ({ svg: poly([[-0.008, top], [0.008, top], [0, top - 0.05]], '#bbb'), outside: [[0, top - 0.05]] }) }), tool('frisbee', { handle: 0.0, width: 0.01, angle: [-10, 10], head: (top, c) => ({ svg: ellipse(0.06, top, 0.07, 0.015, c), outside: [[0.13, top]] }) })],
  Drink_with: [cup, mug2, bottle, tool('glass_with_straw', { handle: 0.0, width: 0.01, angle: [-5, 5], mouth: true, head: (top, c) => ({ svg: rect(-0.03, top - 0.1, 0.06, 0.1, c, 0.005) + line([0.01, top - 0.1], [0.02, top - 0.16], 0.008, '#e33'), outside: [[0, top]], mouth: [[0.02, top - 0.16]] }) })],
  Lie_on: [bed('bed', 0.22, 1.08, true), bed('mat', 0.04, 1.05, false), bed('sofa', 0.2, 1.05, true), bed('hammock_bench', 0.3, 1.1, false)],
  Mix: [tool('spoon', { handle: 0.14, width: 0.012, head: knob(0.02) }), tool('whisk', { handle: 0.1, width: 0.014, head: (top, c) => ({ svg: `<ellipse cx="0" cy="${f(top - 0.05)}" rx="0.025" ry="0.05" fill="none" stroke="${c}" stroke-width="0.006"/>`, outside: [[0, top - 0.1]] }) }), bowl],
  Stick: [tool('chopsticks', { handle: 0.12, width: 0.008, mouth: true, head: (top, c) => ({ svg: line([0.01, 0.05], [0.012, top - 0.04], 0.007, c), outside: [[0.005, top - 0.04]], mouth: [[0.005, top - 0.04]] }) }), tool('skewer', { handle: 0.16, width: 0.006, mouth: true, head: (top, c) => ({ svg: circle(0, top - 0.02, 0.02, c) + circle(0, top - 0.06, 0.018, '#a0522d'), outside: [[0, top - 0.08]], mouth: [[0, top - 0.06]] }) }), tool('lollipop', { handle: 0.1, width: 0.006, mouth: true, head: (top, c) => ({ svg: circle(0, top - 0.03, 0.03, c), outside: [[0, top - 0.06]], mouth: [[0, top - 0.03]] }) })],
  Write: [tool('pen', { handle: 0.1, width: 0.012, angle: [-40, 20], head: (top, c) => ({ svg: poly([[-0.006, top], [0.006, top], [0, top - 0.02]], c), outside: [[0, top - 0.02]] }) }), board('blackboard', 0.4, 0.3, true), tabletChair],
  Lift: [dumbbell('dumbbell', 0.12, 0.035), dumbbell('kettlebell', 0.05, 0.05), vessel('jar', { w: 0.09, h: 0.12, handles: 0, mouth: true }), dumbbell('barbell', 0.3, 0.06)],
  Pour: [kettle, jug, vessel('watering_can', { w: 0.12, h: 0.1, handles: 1, spout: true }), bottle],
  Crutches: [crutch('crutch', 0.8, 0.62), crutch('walking_stick', 0.6, 0.97)],
  Shelter: [umbrella('umbrella', 0.22, 0.3), umbrella('parasol', 0.3, 0.35)],
};

/** The object kind of an Unseen class that is held out of training (the last of its list). */
export function heldOutKind(folder: string): number {
  return CLASS_KINDS[folder].length - 1;
}
