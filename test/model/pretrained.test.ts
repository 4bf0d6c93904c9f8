// Pretrained MiT weights from the files researchers have: torch.save zip and legacy .pth, HF .bin and
// .safetensors, NVlabs' and HF's names; every kind of bad file is an error naming it.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { useCpu, tf } from './setup';
import { PIALNet, type PIALNetConfig } from '../../kernel/ml/model/index';
import { IMAGENET_MEAN, IMAGENET_STD } from '../../kernel/ml/data/index';
import { hfTensors, maliciousPickle, torchShape, writeSafetensors, writeTorchLegacy, writeTorchZip, type FileTensor } from './weightfiles';
import { readF32, relMaxDiff, runTorchReference, SMALL_MIT, smallMitOptions, torchPython, torchSkip } from './torchref';
import { spawnSync } from 'node:child_process';

before(useCpu);

const NANO: PIALNetConfig = { base: 'nano', baseline: 'encoder-decoder' };

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'mit-weights-'));
}

/** NVlabs-named tensors for a model's encoder, values a function of (tensor, PyTorch index), plus an ImageNet head. */
function nvlabsTensors(m: PIALNet, salt = 0): FileTensor[] {
  const out: FileTensor[] = [];
  let k = 0;
  for (const s of m.params.specs.values()) {
    if (!s.name.startsWith('encoder.')) continue;
    const shape = torchShape(s.name, s.shape);
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    k++;
    for (let i = 0; i < n; i++) data[i] = Math.round(Math.sin(k * 12.9898 + i * 0.731 + salt) * 256) / 512;
    out.push({ name: s.name.slice('encoder.'.length), shape, data });
  }
  const c = m.options.embedDims[3];
  out.push({ name: 'head.weight', shape: [10, c], data: new Float32Array(10 * c).fill(0.5) });
  out.push({ name: 'head.bias', shape: [10], data: new Float32Array(10) });
  return out;
}

/** Checks element by element that the model holds the file's tensors in tfjs layouts. */
function assertHolds(m: PIALNet, nv: FileTensor[]): void {
  const byName = new Map(nv.map((t) => [t.name, t]));
  for (const s of m.params.specs.values()) {
    if (!s.name.startsWith('encoder.')) continue;
    const t = byName.get(s.name.slice('encoder.'.length))!;
    const ours = m.params.get(s.name).dataSync();
    const at = (flat: number): number => {
      if (s.shape.length === 4) {
        const [kh, kw, ci, co] = s.shape;
        const o = flat % co;
        const i = Math.floor(flat / co) % ci;
        const x = Math.floor(flat / (co * ci)) % kw;
        const y = Math.floor(flat / (co * ci * kw));
        // PyTorch conv weight [co, ci, kh, kw]; depthwise [C, 1, kh, kw] (ours [kh, kw, C, 1])
        return s.name.includes('dwconv') ? t.data[(i * kh + y) * kw + x] : t.data[((o * ci + i) * kh + y) * kw + x];
      }
      if (s.shape.length === 2) {
        const [cin, cout] = s.shape;
        return t.data[(flat % cout) * cin + Math.floor(flat / cout)];
      }
      return t.data[flat];
    };
    for (let f = 0; f < ours.length; f++) if (ours[f] !== at(f)) assert.fail(`${s.name}[${f}] = ${ours[f]}, the file's value is ${at(f)}`);
  }
}

void test('NVlabs names: a torch.save zip .pth and a legacy .pth load into the encoder with PyTorch layouts converted; the head is left alone', () => {
  const dir = tmp();
  try {
    const ref = PIALNet.create(NANO);
    const nv = nvlabsTensors(ref);
    writeTorchZip(join(dir, 'mit_zip.pth'), nv);
    writeTorchLegacy(join(dir, 'mit_legacy.pth'), nv);
    const fresh = PIALNet.create({ ...NANO, seed: 4 }, { build: true });
    for (const f of ['mit_zip.pth', 'mit_legacy.pth']) {
      const m = PIALNet.create({ ...NANO, seed: 4, pretrainedEncoder: join(dir, f) }, { build: true });
      assertHolds(m, nv);
      for (const n of m.params.specs.keys()) if (!n.startsWith('encoder.')) assert.deepEqual(m.params.get(n).dataSync(), fresh.params.get(n).dataSync(), `${f}: ${n} keeps its initial value`);
      m.dispose();
    }
    fresh.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test("HF names: pytorch_model.bin and model.safetensors (key and value joined into kv), as files and as HF folders with config.json", () => {
  const dir = tmp();
  try {
    const ref = PIALNet.create(NANO);
    const nv = nvlabsTensors(ref);
    const hf = hfTensors(nv);
    mkdirSync(join(dir, 'hf-bin'));
    mkdirSync(join(dir, 'hf-st'));
    writeTorchZip(join(dir, 'hf-bin', 'pytorch_model.bin'), hf);
    writeSafetensors(join(dir, 'hf-st', 'model.safetensors'), hf);
    const o = ref.options;
    const config = { model_type: 'segformer', hidden_sizes: o.embedDims, depths: o.depths, num_attention_heads: o.heads, sr_ratios: o.srRatios, mlp_ratios: [2, 2, 2, 2], patch_sizes: [7, 3, 3, 3], strides: [4, 2, 2, 2], num_channels: 3, hidden_act: 'gelu' };
    for (const d of ['hf-bin', 'hf-st']) writeFileSync(join(dir, d, 'config.json'), JSON.stringify(config));
    for (const p of ['hf-bin/pytorch_model.bin', 'hf-st/model.safetensors', 'hf-bin', 'hf-st']) {
      const m = PIALNet.create({ ...NANO, pretrainedEncoder: join(dir, p) }, { build: true });
      assertHolds(m, nv);
      m.dispose();
    }
    // config.json is checked against the encoder
    writeFileSync(join(dir, 'hf-st', 'config.json'), JSON.stringify({ ...config, hidden_sizes: [32, 64, 160, 256], depths: [2, 2, 2, 2] }));
    assert.throws(
      () => PIALNet.create({ ...NANO, pretrainedEncoder: join(dir, 'hf-st') }, { build: true }),
      (e: Error) => /hf-st[\\/]config\.json: the checkpoint's configuration does not match the nano-baseline encoder: hidden_sizes is \[32,64,160,256\], expected \[8,16,16,16\]; depths is \[2,2,2,2\], expected \[1,1,1,1\]/.test(e.message),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('safetensors F16 and BF16 weights are converted to float32', () => {
  const dir = tmp();
  try {
    const ref = PIALNet.create(NANO);
    // values k / 512 with |k| <= 256: exact in F16; BF16 keeps 8 bits of mantissa, so compare with truncated values
    const nv = nvlabsTensors(ref, 1);
    writeSafetensors(join(dir, 'h.safetensors'), nv, 'F16');
    const m = PIALNet.create({ ...NANO, pretrainedEncoder: join(dir, 'h.safetensors') }, { build: true });
    assertHolds(m, nv);
    m.dispose();
    writeSafetensors(join(dir, 'b.safetensors'), nv, 'BF16');
    const trunc = nv.map((t) => {
      const u = new Uint32Array(Float32Array.from(t.data).buffer);
      for (let i = 0; i < u.length; i++) u[i] &= 0xffff0000;
      return { ...t, data: new Float32Array(u.buffer) };
    });
    const b = PIALNet.create({ ...NANO, pretrainedEncoder: join(dir, 'b.safetensors') }, { build: true });
    assertHolds(b, trunc);
    b.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('the weights are read when the model is built: at create({ build: true }) or at the first forward', () => {
  const dir = tmp();
  try {
    const ref = PIALNet.create(NANO);
    const nv = nvlabsTensors(ref);
    writeTorchZip(join(dir, 'w.pth'), nv);
    const m = PIALNet.create({ ...NANO, pretrainedEncoder: join(dir, 'w.pth') });
    assert.equal(m.params.built, false);
    const x = tf.zeros([1, 32, 32, 3]) as tf.Tensor4D;
    tf.dispose(m.predict({ nonInteractive: x }).dNon);
    assertHolds(m, nv);
    // a bad file fails at the first forward, naming it
    writeFileSync(join(dir, 'bad.pth'), 'not a checkpoint at all');
    const bad = PIALNet.create({ ...NANO, pretrainedEncoder: join(dir, 'bad.pth') });
    assert.throws(() => bad.predict({ nonInteractive: x }), /pretrainedEncoder .*bad\.pth: .*bad\.pth: not a PyTorch checkpoint \(zip or legacy format\) nor a safetensors file/);
    assert.equal(bad.params.built, false);
    tf.dispose(x);
    m.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('a pickle that would call os.system is refused, naming the global and the file, and nothing runs', () => {
  const dir = tmp();
  try {
    const marker = join(dir, 'ran');
    const evil = maliciousPickle(`touch ${marker}`);
    writeTorchZip(join(dir, 'evil_zip.pth'), [], evil);
    writeTorchLegacy(join(dir, 'evil_legacy.pth'), [], evil);
    for (const f of ['evil_zip.pth', 'evil_legacy.pth']) {
      assert.throws(
        () => PIALNet.create({ ...NANO, pretrainedEncoder: join(dir, f) }, { build: true }),
        (e: Error) => e.message.includes(`${join(dir, f)}: refuses to load: the pickle names the global "posix.system"`),
        f,
      );
    }
    assert.equal(existsSync(marker), false, 'the command in the pickle did not run');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('truncated and inconsistent safetensors files are errors naming the file', () => {
  const dir = tmp();
  try {
    const ref = PIALNet.create(NANO);
    const good = writeSafetensors(join(dir, 'good.safetensors'), nvlabsTensors(ref));
    const headerLen = Number(good.readBigUInt64LE(0));
    const cases: [string, Buffer, RegExp][] = [
      ['truncated.safetensors', good.subarray(0, good.length - 100), /truncated\.safetensors: not a valid safetensors file \(tensor ".*" ends at data byte \d+ but the file holds \d+ bytes of data; truncated\?\)/],
      ['short.safetensors', good.subarray(0, 5), /short\.safetensors: not a valid safetensors file \(5 bytes, shorter than the 8-byte header length\)/],
      ['header.safetensors', good.subarray(0, 8 + 10), /header\.safetensors: not a valid safetensors file \(header length \d+ exceeds the file \(18 bytes\); truncated\?\)/],
      ['json.safetensors', Buffer.concat([good.subarray(0, 8), Buffer.from('{"a": '.padEnd(headerLen, ' ')), good.subarray(8 + headerLen)]), /json\.safetensors: not a valid safetensors file \(header is not JSON/],
      ['extra.safetensors', Buffer.concat([good, Buffer.alloc(16)]), /extra\.safetensors: not a valid safetensors file \(the tensors cover \d+ bytes of data but the file holds \d+\)/],
    ];
    const patch = (f: (h: Record<string, { dtype: string; shape: number[]; data_offsets: number[] }>) => void): Buffer => {
      const h = JSON.parse(good.subarray(8, 8 + headerLen).toString('utf8')) as Record<string, { dtype: string; shape: number[]; data_offsets: number[] }>;
      f(h);
      const json = Buffer.from(JSON.stringify(h));
      const len = Buffer.alloc(8);
      len.writeBigUInt64LE(BigInt(json.length));
      return Buffer.concat([len, json, good.subarray(8 + headerLen)]);
    };
    cases.push(['dtype.safetensors', patch((h) => (h['norm1.weight'].dtype = 'F8_E4M3')), /dtype\.safetensors: not a valid safetensors file \(tensor "norm1\.weight" has dtype "F8_E4M3"; expected one of F32, F16, BF16/]);
    cases.push(['bytes.safetensors', patch((h) => (h['norm1.weight'].shape = [3])), /bytes\.safetensors: not a valid safetensors file \(tensor "norm1\.weight" \(\[3\] F32\) needs 12 bytes but data_offsets \[\d+, \d+\] hold 32\)/]);
    cases.push([
      'overlap.safetensors',
      patch((h) => {
        h['norm1.bias'].data_offsets = [...h['norm1.weight'].data_offsets];
      }),
      /overlap\.safetensors: not a valid safetensors file \(tensor "norm1\.(weight|bias)" overlaps the tensor before it\)/,
    ]);
    for (const [name, bytes, re] of cases) {
      writeFileSync(join(dir, name), bytes);
      const m = PIALNet.create({ ...NANO, pretrainedEncoder: join(dir, name) });
      assert.throws(() => m.build(), re, name);
      assert.equal(m.params.built, false, `${name}: the model is left unbuilt`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('truncated .pth files (zip and legacy) are errors naming the file', () => {
  const dir = tmp();
  try {
    const nv = nvlabsTensors(PIALNet.create(NANO));
    writeTorchZip(join(dir, 'z.pth'), nv);
    writeTorchLegacy(join(dir, 'l.pth'), nv);
    for (const [f, re] of [
      ['z.pth', /z-cut\.pth: not a complete zip archive \(no end-of-central-directory record; the file may be truncated\)/],
      ['l.pth', /l-cut\.pth: storage \d+ ends at byte \d+, past the end of the file \(\d+ bytes\); truncated\?/],
    ] as const) {
      const b = readFileSync(join(dir, f));
      const cut = f.replace('.pth', '-cut.pth');
      writeFileSync(join(dir, cut), b.subarray(0, b.length - 300));
      assert.throws(() => PIALNet.create({ ...NANO, pretrainedEncoder: join(dir, cut) }, { build: true }), re);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('a wrong-shape, missing or unknown tensor is an error naming the tensor, the file, the expected and the found shape; the model is left as it was', () => {
  const dir = tmp();
  try {
    const nv = nvlabsTensors(PIALNet.create(NANO));
    const wrong = nv.map((t) => (t.name === 'block1.0.attn.q.weight' ? { ...t, shape: [8, 4], data: t.data.slice(0, 32) } : t));
    writeTorchZip(join(dir, 'shape.pth'), wrong);
    const m = PIALNet.create({ ...NANO, pretrainedEncoder: join(dir, 'shape.pth') });
    assert.throws(() => m.build(), (e: Error) => e.message.includes(`${join(dir, 'shape.pth')}: the weights do not fit the encoder. tensor "block1.0.attn.q.weight" has shape [8, 4], expected [8, 8] (for encoder.block1.0.attn.q.weight)`));
    assert.equal(m.params.built, false);
    const missing = nv.filter((t) => t.name !== 'norm2.bias');
    missing.push({ name: 'block9.0.attn.q.weight', shape: [1], data: new Float32Array(1) }, { name: 'pos_embed', shape: [1], data: new Float32Array(1) });
    writeSafetensors(join(dir, 'missing.safetensors'), missing);
    assert.throws(
      () => PIALNet.create({ ...NANO, pretrainedEncoder: join(dir, 'missing.safetensors') }, { build: true }),
      (e: Error) =>
        e.message.includes('missing.safetensors: the weights do not fit the encoder.') &&
        e.message.includes('encoder.norm2.bias is missing (expected a tensor "norm2.bias" of shape [16])') &&
        e.message.includes('tensor "pos_embed" is not a MiT encoder tensor') &&
        e.message.includes('tensor "block9.0.attn.q.weight" is not a MiT encoder tensor'),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('a MiT-B0 checkpoint given to paper (MiT-B2) names both sizes', () => {
  const dir = tmp();
  try {
    // B0's widths and depths, zero values (the shapes are what matters); the paper model is never built.
    const b0 = PIALNet.create({ base: 'paper', embedDims: [32, 64, 160, 256], depths: [2, 2, 2, 2], ifeHeads: 8 });
    const tensors = [...b0.params.specs.values()]
      .filter((s) => s.name.startsWith('encoder.'))
      .map((s) => {
        const shape = torchShape(s.name, s.shape);
        return { name: s.name.slice('encoder.'.length), shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) };
      });
    writeTorchZip(join(dir, 'mit_b0.pth'), tensors);
    assert.throws(
      () => PIALNet.create({ base: 'paper', pretrainedEncoder: join(dir, 'mit_b0.pth') }, { build: true }),
      (e: Error) =>
        e.message.includes(
          'mit_b0.pth: the weights do not fit the encoder. The file holds a MiT with widths [32, 64, 160, 256] and depths [2, 2, 2, 2] (MiT-B0); the paper encoder has widths [64, 128, 320, 512] and depths [3, 4, 6, 3] (MiT-B2). ',
        ) && e.message.includes('tensor "block1.0.attn.kv.weight" has shape [64, 32], expected [128, 64] (for encoder.block1.0.attn.kv.weight)'),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('a missing path (~/ is the home folder), an empty folder and a folder with several weight files are named in the error', () => {
  const dir = tmp();
  try {
    assert.throws(() => PIALNet.create({ ...NANO, pretrainedEncoder: join(dir, 'nope.pth') }, { build: true }), /pretrainedEncoder .*nope\.pth: .*nope\.pth: not found/);
    // a leading ~/ is the home folder, as in a shell
    assert.throws(() => PIALNet.create({ ...NANO, pretrainedEncoder: '~/no-such-mit-b2.pth' }, { build: true }), (e: Error) => e.message.includes(`${join(homedir(), 'no-such-mit-b2.pth')}: not found`));
    assert.throws(() => PIALNet.create({ ...NANO, pretrainedEncoder: dir }, { build: true }), /: no weights found \(expected model\.safetensors or pytorch_model\.bin, a \.pth\/\.bin\/\.safetensors file, or a PIAL-Net checkpoint folder\)/);
    writeFileSync(join(dir, 'a.pth'), '');
    writeFileSync(join(dir, 'b.pth'), '');
    assert.throws(() => PIALNet.create({ ...NANO, pretrainedEncoder: dir }, { build: true }), /several weight files \(a\.pth, b\.pth\); name the one to use/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test("the dataset's default normalisation is the ImageNet mean/std that MiT's pretrained weights expect", () => {
  // mmseg's img_norm_cfg for SegFormer (0..255 RGB): mean [123.675, 116.28, 103.53], std [58.395, 57.12, 57.375].
  [123.675, 116.28, 103.53].forEach((v, i) => assert.ok(Math.abs(IMAGENET_MEAN[i] - v / 255) < 1e-6, `mean[${i}]`));
  [58.395, 57.12, 57.375].forEach((v, i) => assert.ok(Math.abs(IMAGENET_STD[i] - v / 255) < 1e-6, `std[${i}]`));
});

void test('files written by PyTorch (zip, legacy, HF .bin with config.json, HF .safetensors, float16) give the features PyTorch computes', { skip: torchSkip() }, () => {
  const dir = tmp();
  try {
    const meta = runTorchReference(dir, { ...SMALL_MIT, seed: 11, inputs: [[2, 64, 64]], write: ['zip', 'legacy', 'hf', 'safetensors', 'half'] });
    const x = tf.tensor4d(readF32(join(dir, 'input_0.f32')), meta.inputs[0] as [number, number, number, number]);
    for (const [p, tol] of [
      ['mit_zip.pth', 1e-4],
      ['mit_legacy.pth', 1e-4],
      ['hf', 1e-4],
      ['hf/pytorch_model.bin', 1e-4],
      ['hf/model.safetensors', 1e-4],
      // float16 weights: the features of the rounded weights differ from the float32 ones by about 1e-3
      ['mit_half.pth', 2e-2],
    ] as const) {
      const m = PIALNet.create({ ...(smallMitOptions as object), pretrainedEncoder: join(dir, p) }, { build: true });
      const f = m.encoderFeatures(x);
      f.forEach((t, s) => {
        const err = relMaxDiff(t.dataSync(), readF32(join(dir, `features_0_${s}.f32`)));
        assert.ok(err < tol, `${p} stage ${s + 1}: max |ours - PyTorch| / max |PyTorch| = ${err.toExponential(2)}`);
      });
      tf.dispose(f);
      m.dispose();
    }
    x.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test("PyTorch's own torch.load reads the test's zip and legacy files to the same tensors (the fixtures are real torch.save files)", { skip: torchSkip() }, () => {
  const dir = tmp();
  try {
    const nv = nvlabsTensors(PIALNet.create(NANO));
    writeTorchZip(join(dir, 'z.pth'), nv);
    writeTorchLegacy(join(dir, 'l.pth'), nv);
    const py = 'import sys, json, torch\nout = {}\nfor f in sys.argv[1:]:\n    sd = torch.load(f)\n    out[f] = {k: [list(v.shape), float(v.double().sum()), float(v.reshape(-1)[-1])] for k, v in sd.items()}\nprint(json.dumps(out))';
    const r = spawnSync(torchPython()!, ['-c', py, join(dir, 'z.pth'), join(dir, 'l.pth')], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const got = JSON.parse(r.stdout) as Record<string, Record<string, [number[], number, number]>>;
    for (const f of ['z.pth', 'l.pth']) {
      const sd = got[join(dir, f)];
      assert.deepEqual(Object.keys(sd), nv.map((t) => t.name), f);
      for (const t of nv) {
        const [shape, sum, last] = sd[t.name];
        assert.deepEqual(shape, t.shape, `${f} ${t.name}`);
        assert.ok(Math.abs(sum - t.data.reduce((a, b) => a + b, 0)) < 1e-6 * (1 + t.data.length), `${f} ${t.name} sum`);
        assert.equal(last, t.data[t.data.length - 1], `${f} ${t.name} last value`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
