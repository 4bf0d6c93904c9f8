#!/usr/bin/env python3
"""PIAL-Net `small` in PyTorch, layer for layer as kernel/ml/model/{layers,pialnet,config}.ts define it, and a
CPU benchmark of it (training step and inference), so the project's own CPU throughput can be put as a ratio
against PyTorch measured in the same run.

Parameter names are the project's (`encoder.block1.0.attn.q.weight`, `ife.c_in.norm_q.weight`, ...); shapes
are PyTorch's layouts (Linear [out, in], Conv2d [out, in, kh, kw]) with the same number of scalars.

usage:
  pialnet_small.py [--expect-params N] [--expect-counts FILE] [--threads 1,2] [--sizes 128,96] [--batch 8]
                   [--steps 5] [--warmup 2] [--profile] [--json-only]
      benchmark; prints one JSON object per line ({"kind": "train" | "infer" | ...}) and a table
  pialnet_small.py --check [--size 128[,96,...]] [--expect-params N] [--expect-counts FILE]
                   [--weights DIR] [--out DIR]
      builds the model, prints one JSON line {size, params, counts, shapes} per --size for a batch of 1
      (stage shapes are of the encoder's batch, both images of the pair, NCHW); with
      --weights DIR (weights.json + weights.f32 in the project's layouts, inputs.json + inputs.f32), loads those
      weights and inputs, and writes the logits (NHWC float32) into --out DIR.
--expect-counts FILE: JSON {name: scalars} of the project's parameters; with it (or --expect-params) a
mismatch prints a per-module comparison and exits with status 3.
"""
import argparse
import json
import math
import os
import sys
import time

import torch
import torch.nn.functional as F
from torch import nn

# The project's `small` configuration (kernel/ml/model/config.ts).
SMALL = dict(
    inputSize=128,
    embedDims=[32, 64, 128, 160],
    depths=[1, 1, 2, 1],
    heads=[1, 2, 4, 5],
    srRatios=[8, 4, 2, 1],
    mlpRatio=4,
    decoderDim=64,
    decoderHidden=32,
    ifeIterations=2,
    ifeTokens=16,
    ifeMlpRatio=1,
    ifeHeads=5,
    khpDim=64,
    khpLayers=1,
    khpHeads=4,
    gcnHidden=32,
)
NUM_CHANNELS = 6
NUM_KEYPOINTS = 17
OUTPUT_BIAS = -3.0
MIT_BLOCK_EPS = 1e-6
MIT_EMBED_EPS = 1e-5
# COCO-17 skeleton (kernel/protocol.ts)
COCO17_SKELETON = [
    (15, 13), (13, 11), (16, 14), (14, 12), (11, 12), (5, 11), (6, 12), (5, 6), (5, 7), (6, 8), (7, 9),
    (8, 10), (1, 2), (0, 1), (0, 2), (1, 3), (2, 4), (3, 5), (4, 6),
]


def coco_adjacency():
    """D^-1/2 (A + I) D^-1/2 of the COCO-17 skeleton."""
    a = torch.eye(NUM_KEYPOINTS, dtype=torch.float64)
    for i, j in COCO17_SKELETON:
        a[i, j] = 1
        a[j, i] = 1
    d = a.sum(1).rsqrt()
    return (d[:, None] * a * d[None, :]).float()


def linear(cin, cout, bias=True):
    m = nn.Linear(cin, cout, bias=bias)
    nn.init.trunc_normal_(m.weight, std=0.02)
    if bias:
        nn.init.zeros_(m.bias)
    return m


def conv(cin, cout, k, stride, pad, groups=1, bias_init=0.0):
    m = nn.Conv2d(cin, cout, k, stride, pad, groups=groups)
    fan_out = k * k * cout // groups
    nn.init.normal_(m.weight, 0, math.sqrt(2 / fan_out))
    nn.init.constant_(m.bias, bias_init)
    return m


def tokens_to_map(x, h, w):
    b, n, c = x.shape
    return x.transpose(1, 2).reshape(b, c, h, w)


def map_to_tokens(x):
    return x.flatten(2).transpose(1, 2)


class Attention(nn.Module):
    """Multi-head attention, queries from x, keys/values from kv; MiT's spatial reduction when sr > 1."""

    def __init__(self, dim, heads, sr=1):
        super().__init__()
        self.heads = heads
        self.q = linear(dim, dim)
        self.kv = linear(dim, 2 * dim)
        self.proj = linear(dim, dim)
        self.sr_ratio = sr
        if sr > 1:
            self.sr = conv(dim, dim, sr, sr, 0)
            self.norm = nn.LayerNorm(dim, eps=MIT_EMBED_EPS)

    def forward(self, x, kv, hw=None):
        b, n, c = x.shape
        d = c // self.heads
        src = kv
        if self.sr_ratio > 1:
            src = self.norm(map_to_tokens(self.sr(tokens_to_map(kv, *hw))))
        q = self.q(x).view(b, n, self.heads, d).transpose(1, 2)
        k, v = self.kv(src).view(b, -1, 2, self.heads, d).permute(2, 0, 3, 1, 4)
        att = torch.softmax((q @ k.transpose(-1, -2)) * (1 / math.sqrt(d)), dim=-1)
        return self.proj((att @ v).transpose(1, 2).reshape(b, n, c))


class DWConv(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.dwconv = conv(dim, dim, 3, 1, 1, groups=dim)

    def forward(self, x, hw):
        return map_to_tokens(self.dwconv(tokens_to_map(x, *hw)))


class MixFFN(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = linear(dim, hidden)
        self.dwconv = DWConv(hidden)
        self.fc2 = linear(hidden, dim)

    def forward(self, x, hw):
        return self.fc2(F.gelu(self.dwconv(self.fc1(x), hw)))  # exact (erf) GELU


class MiTBlock(nn.Module):
    def __init__(self, dim, heads, sr, mlp_ratio):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=MIT_BLOCK_EPS)
        self.attn = Attention(dim, heads, sr)
        self.norm2 = nn.LayerNorm(dim, eps=MIT_BLOCK_EPS)
        self.mlp = MixFFN(dim, dim * mlp_ratio)

    def forward(self, x, hw):
        a = self.norm1(x)
        x = x + self.attn(a, a, hw)
        return x + self.mlp(self.norm2(x), hw)


class PatchEmbed(nn.Module):
    def __init__(self, cin, dim, k, s):
        super().__init__()
        self.proj = conv(cin, dim, k, s, k // 2)
        self.norm = nn.LayerNorm(dim, eps=MIT_EMBED_EPS)

    def forward(self, x):
        e = self.proj(x)
        return self.norm(map_to_tokens(e)), (e.shape[2], e.shape[3])


class MiTEncoder(nn.Module):
    def __init__(self, o):
        super().__init__()
        cin = 3
        for i in range(4):
            dim = o['embedDims'][i]
            k, s = (7, 4) if i == 0 else (3, 2)
            setattr(self, f'patch_embed{i + 1}', PatchEmbed(cin, dim, k, s))
            setattr(self, f'block{i + 1}', nn.ModuleList(MiTBlock(dim, o['heads'][i], o['srRatios'][i], o['mlpRatio']) for _ in range(o['depths'][i])))
            setattr(self, f'norm{i + 1}', nn.LayerNorm(dim, eps=MIT_BLOCK_EPS))
            cin = dim

    def forward(self, x):
        """Maps of stages 1..3 (NCHW) and the stage-4 tokens [B, N4, C4] with their map size."""
        maps = []
        for i in range(4):
            t, hw = getattr(self, f'patch_embed{i + 1}')(x)
            for blk in getattr(self, f'block{i + 1}'):
                t = blk(t, hw)
            t = getattr(self, f'norm{i + 1}')(t)
            if i == 3:
                return maps, t, hw
            x = tokens_to_map(t, *hw)
            maps.append(x)


class CrossBlock(nn.Module):
    """a + MHA(LN a, LN kv), then + FFN (exact GELU)."""

    def __init__(self, dim, heads, mlp_ratio):
        super().__init__()
        hidden = max(1, round(dim * mlp_ratio))
        self.norm_q = nn.LayerNorm(dim, eps=MIT_BLOCK_EPS)
        self.norm_kv = nn.LayerNorm(dim, eps=MIT_BLOCK_EPS)
        self.attn = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim, eps=MIT_BLOCK_EPS)
        self.fc1 = linear(dim, hidden)
        self.fc2 = linear(hidden, dim)

    def forward(self, a, kv):
        y = a + self.attn(self.norm_q(a), self.norm_kv(kv))
        return y + self.fc2(F.gelu(self.fc1(self.norm2(y))))


class IFE(nn.Module):
    def __init__(self, o):
        super().__init__()
        d = o['embedDims'][3]
        self.iterations = o['ifeIterations']
        self.cross_tokens = nn.Parameter(nn.init.trunc_normal_(torch.empty(o['ifeTokens'], d), std=0.02))
        for n in ('c_in', 'c_non', 'c_joint', 'x_in', 'x_non'):
            setattr(self, n, CrossBlock(d, o['ifeHeads'], o['ifeMlpRatio']))

    def forward(self, a, n):
        xc = self.cross_tokens.unsqueeze(0).expand(a.shape[0], -1, -1)
        for _ in range(self.iterations):
            c1 = self.c_in(xc, torch.cat([a, xc], 1))
            c2 = self.c_non(xc, torch.cat([n, xc], 1))
            xc = self.c_joint((c1 + c2) * 0.5, torch.cat([c1, c2], 1))
            a = self.x_in(a, torch.cat([a, xc], 1))
            n = self.x_non(n, torch.cat([n, xc], 1))
        return a, n


class MLPHead(nn.Module):
    def __init__(self, o):
        super().__init__()
        e = o['decoderDim']
        for i, c in enumerate(o['embedDims']):
            setattr(self, f'linear_c{i + 1}', linear(c, e))
        self.linear_fuse = linear(4 * e, e)

    def forward(self, maps):
        h, w = maps[0].shape[2:]
        ups = []
        for i, m in enumerate(maps):
            b, _, mh, mw = m.shape
            p = tokens_to_map(getattr(self, f'linear_c{i + 1}')(map_to_tokens(m)), mh, mw)
            ups.append(p if i == 0 else F.interpolate(p, size=(h, w), mode='bilinear', align_corners=False))
        f = torch.cat(ups, 1)
        return tokens_to_map(F.relu(self.linear_fuse(map_to_tokens(f))), h, w)


class Decoder(nn.Module):
    def __init__(self, o):
        super().__init__()
        self.conv1 = conv(o['decoderDim'], o['decoderHidden'], 3, 1, 1)
        self.conv2 = conv(o['decoderHidden'], NUM_CHANNELS, 1, 1, 0, bias_init=OUTPUT_BIAS)

    def forward(self, f):
        return self.conv2(F.relu(self.conv1(f)))


class KHP(nn.Module):
    def __init__(self, o):
        super().__init__()
        k, e = o['khpDim'], o['decoderDim']
        self.region_proj = linear(e, k)
        self.gcn1 = linear(3, o['gcnHidden'])
        self.gcn2 = linear(o['gcnHidden'], k)
        self.joint_embed = nn.Parameter(nn.init.trunc_normal_(torch.empty(NUM_KEYPOINTS, k), std=0.02))
        self.type_embed = nn.Parameter(nn.init.trunc_normal_(torch.empty(2, k), std=0.02))
        self.transformer = nn.ModuleList(CrossBlock(k, o['khpHeads'], 2) for _ in range(o['khpLayers']))
        self.fuse_h = nn.Linear(NUM_CHANNELS * k, e, bias=False)
        nn.init.zeros_(self.fuse_h.weight)
        self.fuse_non = nn.Linear(e, e)
        with torch.no_grad():
            self.fuse_non.weight.copy_(torch.eye(e))
            self.fuse_non.bias.zero_()
        self.register_buffer('adjacency', coco_adjacency(), persistent=False)
        self.register_buffer('centre', torch.tensor([0.5, 0.5, 0.0]), persistent=False)

    def forward(self, f_in, d_in, f_non, pose):
        b, e, h, w = f_in.shape
        feats = map_to_tokens(f_in)  # [B, HW, E]
        masks = map_to_tokens(d_in)  # [B, HW, 6]
        regions = (masks.transpose(1, 2) @ feats) / (masks.sum(1).unsqueeze(2) + 1e-6)
        r = self.region_proj(regions) + self.type_embed[0]
        g1 = F.relu(self.gcn1(self.adjacency @ (pose - self.centre)))
        kp = self.gcn2(self.adjacency @ g1) + self.joint_embed + self.type_embed[1]
        seq = torch.cat([r, kp], 1)
        for blk in self.transformer:
            seq = blk(seq, seq)
        h_vec = self.fuse_h(seq[:, :NUM_CHANNELS].reshape(b, -1))
        non = tokens_to_map(self.fuse_non(map_to_tokens(f_non)), h, w)
        return non + h_vec[:, :, None, None]


class PIALNet(nn.Module):
    def __init__(self, o):
        super().__init__()
        self.o = o
        self.encoder = MiTEncoder(o)
        self.ife = IFE(o)
        self.head = MLPHead(o)
        self.dec_in = Decoder(o)
        self.khp = KHP(o)
        self.dec_non = Decoder(o)

    def forward(self, interactive, non_interactive, pose, trace=None):
        b = interactive.shape[0]
        maps, t4, hw4 = self.encoder(torch.cat([interactive, non_interactive], 0))
        x_in, x_non = self.ife(*t4.split(b, 0))
        m4 = tokens_to_map(torch.cat([x_in, x_non], 0), *hw4)
        f = self.head(maps + [m4])
        f_in, f_non = f.split(b, 0)
        logits_in = self.dec_in(f_in)
        logits_non = self.dec_non(self.khp(f_in, torch.sigmoid(logits_in), f_non, pose))
        if trace is not None:
            for i, m in enumerate(maps + [m4]):
                trace[f'stage{i + 1}'] = list(m.shape)
            trace['fused'] = list(f.shape)
            trace['logitsIn'] = list(logits_in.shape)
            trace['logitsNon'] = list(logits_non.shape)
        return logits_in, logits_non


def gt_at_output(gt, h, w):
    """The project's gtAtOutput: average pooling for an integer factor, bilinear (half-pixel) otherwise."""
    H, W = gt.shape[2:]
    if (H, W) == (h, w):
        return gt
    if H % h == 0 and W % w == 0 and H // h == W // w:
        return F.avg_pool2d(gt, H // h)
    return F.interpolate(gt, size=(h, w), mode='bilinear', align_corners=False)


def pial_loss(model, batch):
    """BCE(D_in, GT_in) + BCE(D_non, GT_non) on the logits, GT brought to the output size (pialLoss)."""
    logits_in, logits_non = model(batch['interactive'], batch['nonInteractive'], batch['pose'])
    h, w = logits_non.shape[2:]
    loss_non = F.binary_cross_entropy_with_logits(logits_non, gt_at_output(batch['gtNon'], h, w).clamp(0, 1))
    loss_in = F.binary_cross_entropy_with_logits(logits_in, gt_at_output(batch['gtIn'], h, w).clamp(0, 1))
    return loss_in + loss_non


def make_optimizer(model, lr=3e-4, head_mult=10.0, weight_decay=0.01):
    """AdamW (betas 0.9, 0.999, eps 1e-8) as kernel/ml/train/adamw.ts: encoder at lr, the rest at lr x 10,
    decoupled decay on tensors of rank >= 2 only."""
    groups = {}
    for name, p in model.named_parameters():
        enc = name.startswith('encoder.')
        decay = p.dim() >= 2
        groups.setdefault((enc, decay), []).append(p)
    return torch.optim.AdamW(
        [{'params': ps, 'lr': lr if enc else lr * head_mult, 'weight_decay': weight_decay if decay else 0.0} for (enc, decay), ps in groups.items()],
        lr=lr, betas=(0.9, 0.999), eps=1e-8,
    )


def random_batch(n, size, seed=0):
    g = torch.Generator().manual_seed(seed)
    return {
        'interactive': torch.randn(n, 3, size, size, generator=g),
        'nonInteractive': torch.randn(n, 3, size, size, generator=g),
        'pose': torch.rand(n, NUM_KEYPOINTS, 3, generator=g),
        'gtIn': torch.rand(n, NUM_CHANNELS, size, size, generator=g),
        'gtNon': torch.rand(n, NUM_CHANNELS, size, size, generator=g),
    }


def build(size):
    o = dict(SMALL, inputSize=size)
    torch.manual_seed(0)
    return PIALNet(o)


def counts_of(model):
    return {n: p.numel() for n, p in model.named_parameters()}


def module_of(name, depth):
    parts = name.split('.')
    return '.'.join(parts[:min(depth, len(parts) - 1)]) or parts[0]


def compare_counts(ours, expected_total, expected_counts):
    """Prints a per-module comparison when the counts differ; returns True when they match."""
    total = sum(ours.values())
    ok = expected_total is None or total == expected_total
    if expected_counts is not None:
        ok = ok and ours == expected_counts
    if ok:
        return True
    print(f'parameter count mismatch: PyTorch {total}, project {expected_total if expected_total is not None else sum(expected_counts.values())}', file=sys.stderr)
    if expected_counts is not None:
        for depth in (1, 2, 3):
            mods = sorted({module_of(n, depth) for n in list(ours) + list(expected_counts)})
            rows = []
            for m in mods:
                a = sum(v for n, v in ours.items() if module_of(n, depth) == m)
                b = sum(v for n, v in expected_counts.items() if module_of(n, depth) == m)
                if a != b:
                    rows.append(f'  {m:40s} pytorch {a:>9d}  project {b:>9d}  diff {a - b:+d}')
            if rows:
                print(f'modules that differ (depth {depth}):', file=sys.stderr)
                print('\n'.join(rows), file=sys.stderr)
        only_ours = sorted(set(ours) - set(expected_counts))
        only_theirs = sorted(set(expected_counts) - set(ours))
        if only_ours:
            print('only in PyTorch: ' + ', '.join(only_ours), file=sys.stderr)
        if only_theirs:
            print('only in the project: ' + ', '.join(only_theirs), file=sys.stderr)
    return False


def to_torch_layout(name, value, torch_shape):
    """A tensor in the project's layout ([in, out] linears, [kh, kw, in, out] convolutions, [kh, kw, C, 1]
    depthwise convolutions) in PyTorch's."""
    if name.endswith('dwconv.dwconv.weight'):
        value = value.permute(2, 3, 0, 1)
    elif value.dim() == 4:
        value = value.permute(3, 2, 0, 1)
    elif value.dim() == 2 and name.endswith('.weight'):
        value = value.t()
    if tuple(value.shape) != tuple(torch_shape):
        raise SystemExit(f'{name}: shape {list(value.shape)} in PyTorch layout, the model has {list(torch_shape)}')
    return value.contiguous()


def read_f32(path, offset, count):
    with open(path, 'rb') as f:
        f.seek(offset * 4)
        data = bytearray(f.read(count * 4))
    return torch.frombuffer(data, dtype=torch.float32).clone()


def load_weights_and_run(model, wdir, out_dir):
    """Loads weights.json/weights.f32 (the project's layouts, names) and inputs.json/inputs.f32 (NHWC), runs
    the model and writes logits_in.f32 / logits_non.f32 (NHWC) into out_dir."""
    meta = json.load(open(os.path.join(wdir, 'weights.json')))
    params = dict(model.named_parameters())
    missing = sorted(set(params) - {m['name'] for m in meta})
    if missing:
        raise SystemExit(f'weights.json lacks {", ".join(missing[:5])}')
    with torch.no_grad():
        for m in meta:
            p = params[m['name']]
            v = read_f32(os.path.join(wdir, 'weights.f32'), m['offset'], math.prod(m['shape'])).reshape(m['shape'])
            p.copy_(to_torch_layout(m['name'], v, p.shape))
        ins = {}
        for m in json.load(open(os.path.join(wdir, 'inputs.json'))):
            v = read_f32(os.path.join(wdir, 'inputs.f32'), m['offset'], math.prod(m['shape'])).reshape(m['shape'])
            ins[m['name']] = v.permute(0, 3, 1, 2).contiguous() if v.dim() == 4 else v
        model.eval()
        li, ln = model(ins['interactive'], ins['nonInteractive'], ins['pose'])
    os.makedirs(out_dir, exist_ok=True)
    for name, t in (('logits_in', li), ('logits_non', ln)):
        with open(os.path.join(out_dir, f'{name}.f32'), 'wb') as f:
            f.write(t.permute(0, 2, 3, 1).contiguous().numpy().tobytes())


def check(args, expected_counts):
    ok = True
    for size in args.size:
        model = build(size)
        counts = counts_of(model)
        ok = compare_counts(counts, args.expect_params, expected_counts) and ok
        trace = {}
        with torch.no_grad():
            b = random_batch(1, size)
            model(b['interactive'], b['nonInteractive'], b['pose'], trace=trace)
        print(json.dumps({'kind': 'check', 'size': size, 'params': sum(counts.values()), 'counts': counts, 'shapes': trace, 'torch': torch.__version__}), flush=True)
        if args.weights:
            load_weights_and_run(model, args.weights, args.out or args.weights)
    return 0 if ok else 3


def timed(fn, warmup, steps):
    """Wall and CPU seconds of `steps` calls after `warmup` calls, and the median wall time of one call."""
    for _ in range(warmup):
        fn()
    t0, c0 = time.perf_counter(), time.process_time()
    each = []
    for _ in range(steps):
        t = time.perf_counter()
        fn()
        each.append(time.perf_counter() - t)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return wall, cpu, sorted(each)[len(each) // 2]


def bench(args, expected_counts):
    rows = []
    emit = lambda rec: (rows.append(rec), print(json.dumps(rec), flush=True))
    model = build(128)
    counts = counts_of(model)
    ok = compare_counts(counts, args.expect_params, expected_counts)
    emit({'kind': 'meta', 'torch': torch.__version__, 'params': sum(counts.values()), 'params_match': ok,
          'interop_threads': torch.get_num_interop_threads(), 'config': torch.__config__.parallel_info().splitlines()[:3]})
    if not ok:
        return 3
    for size in args.sizes:
        for threads in args.threads:
            torch.set_num_threads(threads)
            model = build(size)
            model.train()
            opt = make_optimizer(model)
            batch = random_batch(args.batch, size)

            def step():
                opt.zero_grad(set_to_none=True)
                loss = pial_loss(model, batch)
                loss.backward()
                opt.step()
                return loss

            wall, cpu, med = timed(step, args.warmup, args.steps)
            emit({'kind': 'train', 'size': size, 'threads': threads, 'batch': args.batch, 'steps': args.steps,
                  'wall_s': wall, 'cpu_s': cpu, 'pairs_per_s': args.batch * args.steps / wall,
                  'pairs_per_cpu_s': args.batch * args.steps / cpu, 'pairs_per_s_median_step': args.batch / med})
            model.eval()

            def infer():
                with torch.no_grad():
                    li, ln = model(batch['interactive'], batch['nonInteractive'], batch['pose'])
                    torch.sigmoid(ln), torch.sigmoid(li)

            wall, cpu, med = timed(infer, args.warmup, args.steps)
            emit({'kind': 'infer', 'size': size, 'threads': threads, 'batch': args.batch, 'steps': args.steps,
                  'wall_s': wall, 'cpu_s': cpu, 'pairs_per_s': args.batch * args.steps / wall,
                  'pairs_per_cpu_s': args.batch * args.steps / cpu, 'pairs_per_s_median_step': args.batch / med})
    if args.profile:
        torch.set_num_threads(1)
        size = args.sizes[0]
        model = build(size)
        opt = make_optimizer(model)
        batch = random_batch(args.batch, size)
        for _ in range(2):
            opt.zero_grad(set_to_none=True)
            pial_loss(model, batch).backward()
            opt.step()
        with torch.autograd.profiler.profile() as prof:
            opt.zero_grad(set_to_none=True)
            pial_loss(model, batch).backward()
            opt.step()
        avg = sorted(prof.key_averages(), key=lambda e: e.self_cpu_time_total, reverse=True)
        total = sum(e.self_cpu_time_total for e in avg) or 1
        top = [{'op': e.key, 'calls': e.count, 'self_ms': e.self_cpu_time_total / 1000, 'share': e.self_cpu_time_total / total} for e in avg[:15]]
        emit({'kind': 'profile', 'size': size, 'threads': 1, 'batch': args.batch, 'total_self_ms': total / 1000, 'top': top})
    if not args.json_only:
        print('\nPIAL-Net small in PyTorch %s, batch %d pairs, %d timed steps after %d warm-up' % (torch.__version__, args.batch, args.steps, args.warmup), file=sys.stderr)
        print('%-6s %-5s %-8s %14s %18s %16s' % ('kind', 'px', 'threads', 'pairs/s (wall)', 'median-step pairs/s', 'pairs/CPU-second'), file=sys.stderr)
        for r in rows:
            if r['kind'] in ('train', 'infer'):
                print('%-6s %-5d %-8d %14.2f %18.2f %16.2f' % (r['kind'], r['size'], r['threads'], r['pairs_per_s'], r['pairs_per_s_median_step'], r['pairs_per_cpu_s']), file=sys.stderr)
        for r in rows:
            if r['kind'] == 'profile':
                print('\ntop ops of one training step (%d px, 1 thread), self CPU time:' % r['size'], file=sys.stderr)
                for t in r['top']:
                    print('  %-40s %5d calls %9.1f ms %5.1f%%' % (t['op'][:40], t['calls'], t['self_ms'], 100 * t['share']), file=sys.stderr)
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--check', action='store_true')
    ap.add_argument('--size', default='128')
    ap.add_argument('--weights')
    ap.add_argument('--out')
    ap.add_argument('--expect-params', type=int)
    ap.add_argument('--expect-counts')
    ap.add_argument('--threads', default='1,2')
    ap.add_argument('--sizes', default='128,96')
    ap.add_argument('--batch', type=int, default=8)
    ap.add_argument('--steps', type=int, default=5)
    ap.add_argument('--warmup', type=int, default=2)
    ap.add_argument('--profile', action='store_true')
    ap.add_argument('--json-only', action='store_true')
    args = ap.parse_args()
    args.threads = [int(t) for t in args.threads.split(',')]
    args.sizes = [int(s) for s in args.sizes.split(',')]
    args.size = [int(s) for s in args.size.split(',')]
    if args.weights and len(args.size) != 1:
        ap.error('--weights needs one --size')
    expected_counts = json.load(open(args.expect_counts)) if args.expect_counts else None
    sys.exit(check(args, expected_counts) if args.check else bench(args, expected_counts))


if __name__ == '__main__':
    main()
