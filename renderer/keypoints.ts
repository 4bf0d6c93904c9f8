/**
 * Keypoints view: the COCO-17 skeleton as SVG over the image (canvas), joints and bones coloured by body
 * part, contact channels as chips whose contact points and joints are highlighted, joint name and score
 * on hover, a score threshold and an image toggle. SVG keeps the skeleton sharp at any size; its
 * viewBox is the payload's coordinate space, so no coordinate is converted by hand.
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
  };
  const remember = (): void => env.memory.save({ threshold: state.threshold, showImage: state.showImage, focus: state.focus ?? null });

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
    const el = svg('line', { x1: ka.x, y1: ka.y, x2: kb.x, y2: kb.y, stroke: BODY_PART_COLORS[edgePart(names[a], names[b])], 'stroke-width': unit * 0.7, 'stroke-opacity': 0.9 });
    bones.append(el);
    boneEls.push({ el, a, b });
  }

  const jointEls = p.keypoints.map((k, i) => {
    // Confidence shows as opacity: a joint the pose model doubts is drawn fainter.
    const el = svg('circle', { class: 'al-kp-joint', cx: k.x, cy: k.y, r: unit * 0.95, fill: BODY_PART_COLORS[bodyPart(names[i])], 'fill-opacity': (0.35 + 0.65 * Math.min(1, Math.max(0, k.score))).toFixed(2), 'stroke-width': unit * 0.3, 'data-index': i, 'data-name': names[i] });
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

  const contactEls: { el: SVGPathElement; channel: string }[] = [];
  for (const [ch, pts] of contactsByChannel) {
    for (const [x, y] of pts) {
      const r = unit * 1.1;
      const el = svg('path', { class: 'al-kp-contact', d: `M ${x} ${y - r} L ${x + r} ${y} L ${x} ${y + r} L ${x - r} ${y} Z`, fill: CHANNEL_COLORS[ch] ?? '#8c8c8c', 'stroke-width': unit * 0.25, 'data-channel': ch });
      const title = svg('title');
      title.textContent = `${ch} contact at (${Math.round(x)}, ${Math.round(y)})`;
      el.append(title);
      contacts.append(el);
      contactEls.push({ el, channel: ch });
    }
  }

  const readout = h('div', { className: 'al-readout' });
  const hint = p.keypoints.length ? 'Hover a joint for its name and score.' : 'No person keypoints in this image (non-interactive).';
  readout.textContent = hint;
  const legend = h('div', { className: 'al-chips al-parts' });
  for (const [part, color] of Object.entries(BODY_PART_COLORS)) {
    const sw = h('span', { className: 'al-swatch' });
    sw.style.background = color;
    legend.append(h('span', { className: 'al-sub', attrs: { style: 'display:inline-flex;align-items:center;gap:4px' } }, sw, part));
  }

  if (p.title) root.append(h('div', { className: 'al-title', text: p.title }));
  root.append(toolbar, chips, stage, legend, readout);

  const applyVisibility = (): void => {
    const visible = p.keypoints.map((k) => k.score >= state.threshold);
    jointEls.forEach((el, i) => el.setAttribute('display', visible[i] ? 'inline' : 'none'));
    for (const b of boneEls) b.el.setAttribute('display', visible[b.a] && visible[b.b] ? 'inline' : 'none');
    for (const r of ringEls) {
      const on = visible[r.joint] && (state.focus === undefined || state.focus === r.channel);
      r.el.setAttribute('display', on ? 'inline' : 'none');
    }
    for (const c of contactEls) c.el.setAttribute('opacity', state.focus === undefined || state.focus === c.channel ? '1' : '0.15');
    for (const [ch, b] of chipButtons) b.setAttribute('aria-pressed', String(state.focus === ch));
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
  // Delegated hover: one listener for every joint, so re-rendering never multiplies listeners.
  const onOver = (e: Event): void => {
    const t = e.target;
    if (!(t instanceof SVGElement)) return;
    if (t.classList.contains('al-kp-joint')) {
      const i = Number(t.getAttribute('data-index'));
      readout.textContent = `${names[i]} · score ${p.keypoints[i].score.toFixed(2)} · (${Math.round(p.keypoints[i].x)}, ${Math.round(p.keypoints[i].y)})`;
    } else if (t.classList.contains('al-kp-contact')) {
      readout.textContent = t.querySelector('title')?.textContent ?? '';
    }
  };
  overlay.addEventListener('pointerover', onOver);
  store.defer(() => overlay.removeEventListener('pointerover', onOver));
  const onLeave = (): void => {
    readout.textContent = hint;
  };
  overlay.addEventListener('pointerleave', onLeave);
  store.defer(() => overlay.removeEventListener('pointerleave', onLeave));

  applyVisibility();
  drawImage();
  onResize(stage, scheduleDraw, store);
  store.add(onThemeChange(scheduleDraw));
  return {};
}
