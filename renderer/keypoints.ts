/**
 * Keypoints view: the COCO-17 skeleton as SVG over the image (canvas), joints and bones coloured by body
 * part, contact channels as chips (focusing one enlarges its contact marks and dims the rest), a
 * body-part legend that shows and hides parts, the nearest joint's name and score on hover, a score
 * threshold and an image toggle. SVG keeps the skeleton sharp at any size; its viewBox is the payload's
 * coordinate space, so no coordinate is converted by hand.
 */
import type { KeypointsPayload } from '../kernel/protocol';
import { checkSignal, checkboxControl, frameScheduler, h, onResize, rangeControl, svg } from './dom';
import { decodeImage } from './image';
import type { View, ViewEnv } from './renderer';
import { onThemeChange } from './theme';
import { checkKeypoints } from './validate';
import { savedBool, savedNumber } from './memory';

type BodyPart = 'head' | 'torso' | 'left arm' | 'right arm' | 'left leg' | 'right leg';

/** Body-part colours: distinct hues of medium lightness, readable on dark and light backgrounds. */
export const BODY_PART_COLORS: Record<BodyPart, string> = {
  head: '#e6b422',
  torso: '#9d7bf0',
  'left arm': '#2fbf86',
  'right arm': '#2f9fe0',
  'left leg': '#f08a3c',
  'right leg': '#e8559a',
};

/** The six contact channels in tensor order (kept here: the renderer imports only types from the protocol). */
const CHANNELS = ['Back', 'Hips', 'Hands', 'Feet', 'Mouth', 'Outside'];

/** Contact channel colours. */
export const CHANNEL_COLORS: Record<string, string> = {
  Back: '#d9405e',
  Hips: '#e8a317',
  Hands: '#1fae6a',
  Feet: '#3b7ddd',
  Mouth: '#c94fd0',
  Outside: '#8c8c8c',
};

/** Which joints (by COCO name) belong to a contact channel. */
const CHANNEL_JOINTS: Record<string, RegExp> = {
  Back: /shoulder|hip/,
  Hips: /hip/,
  Hands: /wrist/,
  Feet: /ankle/,
  Mouth: /nose/,
};

function bodyPart(name: string): BodyPart {
  if (/nose|eye|ear/.test(name)) return 'head';
  const side = name.startsWith('left') ? 'left' : name.startsWith('right') ? 'right' : undefined;
  if (side && /shoulder|elbow|wrist/.test(name)) return `${side} arm`;
  if (side && /hip|knee|ankle/.test(name)) return `${side} leg`;
  return 'torso';
}

function edgePart(a: string, b: string): BodyPart {
  const pa = bodyPart(a);
  const pb = bodyPart(b);
  if (pa === pb) return pa;
  if (pa === 'head' || pb === 'head') return 'head';
  return 'torso';
}

const MAX_STAGE_CSS_HEIGHT = 560;
/** The pointer picks the nearest joint or contact within this many CSS pixels, at any display size. */
const HIT_RADIUS_CSS = 14;
/** Opacity of what a focused channel does not concern. */
const DIMMED = 0.25;

/** Draws a keypoints payload into `root`. */
export async function renderKeypoints(root: HTMLElement, payload: unknown, env: ViewEnv): Promise<View> {
  const p: KeypointsPayload = checkKeypoints(payload);
  const { store, signal } = env;
  let base: ImageBitmap | undefined;
  if (p.image) {
    base = await decodeImage(p.image, 'keypoints', 'image');
    const bitmap = base;
    store.defer(() => bitmap.close());
    checkSignal(signal);
  }
  const W = p.width;
  const H = p.height;
  const unit = Math.max(W, H) / 100;
  const names = p.keypoints.map((_, i) => p.names[i] ?? `joint ${i}`);
  const saved = env.memory.load();
  const state = {
    threshold: savedNumber(saved.threshold, 0, 1) ?? 0,
    showImage: base !== undefined && (savedBool(saved.showImage) ?? true),
    focus: typeof saved.focus === 'string' ? saved.focus : undefined,
    hiddenParts: new Set<BodyPart>(Array.isArray(saved.hiddenParts) ? (saved.hiddenParts as unknown[]).filter((x): x is BodyPart => typeof x === 'string' && x in BODY_PART_COLORS) : []),
  };
  const remember = (): void => env.memory.save({ threshold: state.threshold, showImage: state.showImage, focus: state.focus ?? null, hiddenParts: [...state.hiddenParts] });

  // ---- controls ----
  const toolbar = h('div', { className: 'al-toolbar' });
  const threshold = rangeControl('Min score', 0, 1, 0.05, state.threshold, 'al-threshold', (v) => v.toFixed(2));
  toolbar.append(threshold.wrap);
  const imageToggle = checkboxControl('Image', state.showImage || base === undefined, 'al-show-image');
  if (base) toolbar.append(imageToggle.wrap);
  const shownCount = h('span', { className: 'al-sub al-kp-count' });
  toolbar.append(shownCount);

  const contactsByChannel = new Map<string, [number, number][]>();
  for (const c of p.contacts) contactsByChannel.set(c.channel, [...(contactsByChannel.get(c.channel) ?? []), ...c.points]);
  const channelNames = [...CHANNELS, ...[...contactsByChannel.keys()].filter((c) => !CHANNELS.includes(c))];
  const chips = h('div', { className: 'al-chips', attrs: { role: 'group', 'aria-label': 'Contact channels' } });
  const chipButtons = new Map<string, HTMLButtonElement>();
  for (const ch of channelNames) {
    const pts = contactsByChannel.get(ch) ?? [];
    const swatch = h('span', { className: 'al-swatch' });
    swatch.style.background = CHANNEL_COLORS[ch] ?? '#8c8c8c';
    const b = h('button', { className: 'al-chip', attrs: { type: 'button', 'data-channel': ch, 'aria-pressed': 'false', 'data-empty': String(pts.length === 0) } }, swatch, `${ch}${pts.length ? ` (${pts.length})` : ''}`);
    b.title = pts.length ? `${ch}: ${pts.length} contact point${pts.length === 1 ? '' : 's'}; click to focus` : `${ch}: no contact`;
    chipButtons.set(ch, b);
    chips.append(b);
  }

  // ---- stage ----
  const stage = h('div', { className: 'al-stage' });
  stage.style.aspectRatio = `${W} / ${H}`;
  stage.style.maxWidth = `${Math.round((MAX_STAGE_CSS_HEIGHT * W) / H)}px`;
  const canvas = h('canvas', { attrs: { 'aria-hidden': 'true' } });
  const overlay = svg('svg', { viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: 'none', role: 'img', 'aria-label': `${p.title ?? 'Keypoints'}: ${p.keypoints.length} keypoints, ${p.contacts.length} contact channels` });
  stage.append(canvas, overlay);

  const bones = svg('g', { class: 'al-kp-bones', 'stroke-linecap': 'round' });
  const rings = svg('g', { class: 'al-kp-rings' });
  const contacts = svg('g', { class: 'al-kp-contacts' });
  const joints = svg('g', { class: 'al-kp-joints' });
  overlay.append(bones, rings, contacts, joints);

  const boneEls: { el: SVGLineElement; a: number; b: number }[] = [];
  for (const [a, b] of p.skeleton) {
    const ka = p.keypoints[a];
    const kb = p.keypoints[b];
    if (!ka || !kb) continue;
    const part = edgePart(names[a], names[b]);
    const el = svg('line', { x1: ka.x, y1: ka.y, x2: kb.x, y2: kb.y, stroke: BODY_PART_COLORS[part], 'stroke-width': unit * 0.7, 'stroke-opacity': 0.9, 'data-part': part });
    bones.append(el);
    boneEls.push({ el, a, b });
  }

  const jointEls = p.keypoints.map((k, i) => {
    // Confidence shows as opacity: a joint the pose model doubts is drawn fainter.
    const el = svg('circle', { class: 'al-kp-joint', cx: k.x, cy: k.y, r: unit * 0.95, fill: BODY_PART_COLORS[bodyPart(names[i])], 'fill-opacity': (0.35 + 0.65 * Math.min(1, Math.max(0, k.score))).toFixed(2), 'stroke-width': unit * 0.3, 'data-index': i, 'data-name': names[i], 'data-part': bodyPart(names[i]) });
    const title = svg('title');
    title.textContent = `${names[i]} · score ${k.score.toFixed(2)}`;
    el.append(title);
    joints.append(el);
    return el;
  });

  const ringEls: { el: SVGCircleElement; channel: string; joint: number }[] = [];
  for (const ch of channelNames) {
    const re = CHANNEL_JOINTS[ch];
    if (!re || !(contactsByChannel.get(ch)?.length ?? 0)) continue;
    p.keypoints.forEach((k, i) => {
      if (!re.test(names[i])) return;
      const el = svg('circle', { class: 'al-kp-ring', cx: k.x, cy: k.y, r: unit * 2, stroke: CHANNEL_COLORS[ch] ?? '#8c8c8c', 'stroke-width': unit * 0.45, 'data-channel': ch });
      rings.append(el);
      ringEls.push({ el, channel: ch, joint: i });
    });
  }

  const diamond = (x: number, y: number, r: number): string => `M ${x} ${y - r} L ${x + r} ${y} L ${x} ${y + r} L ${x - r} ${y} Z`;
  const contactEls: { el: SVGPathElement; channel: string; x: number; y: number }[] = [];
  for (const [ch, pts] of contactsByChannel) {
    for (const [x, y] of pts) {
      const el = svg('path', { class: 'al-kp-contact', d: diamond(x, y, unit * 1.1), fill: CHANNEL_COLORS[ch] ?? '#8c8c8c', 'stroke-width': unit * 0.25, 'data-channel': ch });
      const title = svg('title');
      title.textContent = `${ch} contact at (${Math.round(x)}, ${Math.round(y)})`;
      el.append(title);
      contacts.append(el);
      contactEls.push({ el, channel: ch, x, y });
    }
  }
  // The joint or contact under the pointer, drawn on top.
  const hoverRing = svg('circle', { class: 'al-kp-hover', r: unit * 1.9, fill: 'none', 'stroke-width': unit * 0.35, display: 'none' });
  overlay.append(hoverRing);

  const readout = h('div', { className: 'al-readout' });
  const hint = p.keypoints.length ? 'Hover a joint for its name and score.' : 'No person keypoints in this image (non-interactive).';
  readout.textContent = hint;
  // What the focused channel shows, or that it has nothing in this image.
  const focusNote = h('div', { className: 'al-sub al-kp-focus-note', attrs: { role: 'status' } });
  const legend = h('div', { className: 'al-chips al-parts', attrs: { role: 'group', 'aria-label': 'Body parts: click to show or hide' } });
  const partButtons = new Map<BodyPart, HTMLButtonElement>();
  for (const [part, color] of Object.entries(BODY_PART_COLORS) as [BodyPart, string][]) {
    const sw = h('span', { className: 'al-swatch' });
    sw.style.background = color;
    const b = h('button', { className: 'al-chip al-part', attrs: { type: 'button', 'data-part': part, 'aria-pressed': 'true', title: `Show or hide the ${part}` } }, sw, part);
    partButtons.set(part, b);
    legend.append(b);
  }

  if (p.title) root.append(h('div', { className: 'al-title', text: p.title }));
  root.append(toolbar, chips, focusNote, stage, legend, readout);

  /** Whether joint i is drawn: above the score threshold and its body part not hidden. */
  const jointShown = (i: number): boolean => p.keypoints[i].score >= state.threshold && !state.hiddenParts.has(bodyPart(names[i]));

  const applyVisibility = (): void => {
    const visible = p.keypoints.map((_, i) => jointShown(i));
    const focus = state.focus;
    const focusJoints = focus !== undefined ? CHANNEL_JOINTS[focus] : undefined;
    jointEls.forEach((el, i) => {
      el.setAttribute('display', visible[i] ? 'inline' : 'none');
      // A focused channel dims the joints it does not concern.
      el.setAttribute('opacity', focus === undefined || focusJoints?.test(names[i]) ? '1' : String(DIMMED));
    });
    for (const b of boneEls) {
      b.el.setAttribute('display', visible[b.a] && visible[b.b] ? 'inline' : 'none');
      b.el.setAttribute('opacity', focus === undefined ? '1' : String(DIMMED));
    }
    for (const r of ringEls) {
      const on = visible[r.joint] && (focus === undefined || focus === r.channel);
      r.el.setAttribute('display', on ? 'inline' : 'none');
      r.el.setAttribute('r', String(unit * (focus === r.channel ? 2.8 : 2)));
    }
    for (const c of contactEls) {
      const mine = focus === c.channel;
      c.el.setAttribute('opacity', focus === undefined || mine ? '1' : '0.15');
      // The focused channel's marks grow to twice their size, so they read at a glance.
      c.el.setAttribute('d', diamond(c.x, c.y, unit * (mine ? 2.2 : 1.1)));
      if (mine) contacts.append(c.el);
    }
    stage.classList.toggle('al-focused', focus !== undefined);
    for (const [ch, b] of chipButtons) b.setAttribute('aria-pressed', String(focus === ch));
    for (const [part, b] of partButtons) b.setAttribute('aria-pressed', String(!state.hiddenParts.has(part)));
    if (focus === undefined) focusNote.textContent = '';
    else {
      const n = contactsByChannel.get(focus)?.length ?? 0;
      focusNote.textContent = n === 0 ? `No contacts for ${focus} in this image.` : `${focus}: ${n} contact point${n === 1 ? '' : 's'} (diamonds)${focusJoints ? ', the joints that touch ringed' : ''}.`;
    }
    const n = visible.filter(Boolean).length;
    shownCount.textContent = p.keypoints.length ? `${n} of ${p.keypoints.length} joints shown` : '';
  };

  const drawImage = (): void => {
    const cssW = stage.clientWidth || Math.min(W, 480);
    const cssH = (cssW * H) / W;
    const dpr = window.devicePixelRatio || 1;
    const bw = Math.max(1, Math.round(cssW * dpr));
    const bh = Math.max(1, Math.round(cssH * dpr));
    if (canvas.width !== bw) canvas.width = bw;
    if (canvas.height !== bh) canvas.height = bh;
    const ctx = canvas.getContext('2d');
    if (!ctx) return;
    ctx.clearRect(0, 0, bw, bh);
    if (state.showImage && base) {
      ctx.imageSmoothingQuality = 'high';
      ctx.drawImage(base, 0, 0, bw, bh);
    }
  };
  const scheduleDraw = frameScheduler(drawImage, store);

  store.listen(threshold.input, 'input', () => {
    state.threshold = Number(threshold.input.value);
    remember();
    threshold.readout.textContent = state.threshold.toFixed(2);
    applyVisibility();
  });
  store.listen(imageToggle.input, 'change', () => {
    state.showImage = imageToggle.input.checked;
    remember();
    drawImage();
  });
  store.listen(chips, 'click', (e) => {
    const b = e.target instanceof Element ? e.target.closest('button.al-chip') : null;
    if (!(b instanceof HTMLButtonElement)) return;
    const ch = b.dataset.channel;
    state.focus = state.focus === ch ? undefined : ch;
    remember();
    applyVisibility();
  });
  store.listen(legend, 'click', (e) => {
    const b = e.target instanceof Element ? e.target.closest('button.al-part') : null;
    if (!(b instanceof HTMLButtonElement)) return;
    const part = b.dataset.part as BodyPart;
    if (state.hiddenParts.has(part)) state.hiddenParts.delete(part);
    else state.hiddenParts.add(part);
    remember();
    applyVisibility();
  });

  // Hover: the nearest shown joint (or contact mark) within a radius fixed in CSS pixels, so neither a
  // small display nor overlapping marks hand the pointer to the wrong joint.
  const pick = (e: PointerEvent): void => {
    const r = overlay.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) return;
    const sx = W / r.width, sy = H / r.height;
    const x = (e.clientX - r.left) * sx;
    const y = (e.clientY - r.top) * sy;
    const reach = HIT_RADIUS_CSS * Math.max(sx, sy);
    let best: { d: number; joint?: number; contact?: number } | undefined;
    p.keypoints.forEach((k, i) => {
      if (!jointShown(i)) return;
      const d = Math.hypot(k.x - x, k.y - y);
      if (d <= reach && (!best || d < best.d)) best = { d, joint: i };
    });
    contactEls.forEach((c, i) => {
      if (state.focus !== undefined && state.focus !== c.channel) return;
      const d = Math.hypot(c.x - x, c.y - y);
      // A joint wins a tie with a contact mark drawn at the same place.
      if (d <= reach && (!best || d < best.d - 1e-9)) best = { d, contact: i };
    });
    const found: { d: number; joint?: number; contact?: number } | undefined = best;
    if (found?.joint !== undefined) {
      const k = p.keypoints[found.joint];
      readout.textContent = `${names[found.joint]} · score ${k.score.toFixed(2)} · (${Math.round(k.x)}, ${Math.round(k.y)})`;
      hoverRing.setAttribute('cx', String(k.x));
      hoverRing.setAttribute('cy', String(k.y));
      hoverRing.setAttribute('stroke', BODY_PART_COLORS[bodyPart(names[found.joint])]);
      hoverRing.setAttribute('display', 'inline');
    } else if (found?.contact !== undefined) {
      const c = contactEls[found.contact];
      readout.textContent = `${c.channel} contact at (${Math.round(c.x)}, ${Math.round(c.y)})`;
      hoverRing.setAttribute('cx', String(c.x));
      hoverRing.setAttribute('cy', String(c.y));
      hoverRing.setAttribute('stroke', CHANNEL_COLORS[c.channel] ?? '#8c8c8c');
      hoverRing.setAttribute('display', 'inline');
    } else {
      readout.textContent = hint;
      hoverRing.setAttribute('display', 'none');
    }
  };
  // One listener for the whole overlay, so re-rendering never multiplies listeners.
  overlay.addEventListener('pointermove', pick);
  store.defer(() => overlay.removeEventListener('pointermove', pick));
  const onLeave = (): void => {
    readout.textContent = hint;
    hoverRing.setAttribute('display', 'none');
  };
  overlay.addEventListener('pointerleave', onLeave);
  store.defer(() => overlay.removeEventListener('pointerleave', onLeave));

  applyVisibility();
  drawImage();
  onResize(stage, scheduleDraw, store);
  store.add(onThemeChange(scheduleDraw));
  return {};
}
