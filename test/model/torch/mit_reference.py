#!/usr/bin/env python3
"""Independent reference for the MiT encoder tests, in PyTorch.

A Mix Transformer built from PyTorch's own modules (nn.Conv2d with padding k // 2, nn.LayerNorm, nn.GELU),
with the parameter names of NVlabs' release, random weights from a seed (LayerNorm and bias values
perturbed too, so that every parameter matters), run on random images.

usage: mit_reference.py OUT_DIR CONFIG_JSON
  CONFIG_JSON: {"embedDims": [4], "depths": [4], "heads": [4], "srRatios": [4], "mlpRatio": n, "seed": n,
                "inputs": [[B, H, W], ...], "write": ["zip", "legacy", "hf", "safetensors", "tfjs", "half"], "classes": n}
writes into OUT_DIR:
  mit_zip.pth        state dict, NVlabs names (+ an ImageNet-style `head`), torch.save zip format
  mit_legacy.pth     the same, pre-1.6 format (_use_new_zipfile_serialization=False)
  hf/pytorch_model.bin + hf/config.json   HF names (`segformer.encoder.*`, `classifier.*`), zip format
  hf/model.safetensors   the HF tensors as safetensors (written here from the format's description)
  mit_half.pth       the state dict in float16 (zip format)
  tfjs.json + tfjs.f32   weights converted here with numpy to the tfjs layouts and names (`encoder.` + NVlabs)
  input_K.f32, features_K_S.f32   input K (NHWC float32) and its stage S output (NHWC float32)
  meta.json          shapes of all of the above
Nothing here is imported by the project; the tests run it when PyTorch is installed.
"""
import json
import os
import sys

import numpy as np
import torch
from torch import nn


class SpatialReductionAttention(nn.Module):
    def __init__(self, dim, heads, sr):
        super().__init__()
        self.heads = heads
        self.q = nn.Linear(dim, dim)
        self.kv = nn.Linear(dim, 2 * dim)
        self.proj = nn.Linear(dim, dim)
        self.sr_ratio = sr
        if sr > 1:
            self.sr = nn.Conv2d(dim, dim, kernel_size=sr, stride=sr)
            self.norm = nn.LayerNorm(dim)

    def forward(self, x, h, w):
        b, n, c = x.shape
        d = c // self.heads
        q = self.q(x).view(b, n, self.heads, d).transpose(1, 2)
        src = x
        if self.sr_ratio > 1:
            m = x.transpose(1, 2).reshape(b, c, h, w)
            src = self.norm(self.sr(m).flatten(2).transpose(1, 2))
        kv = self.kv(src).view(b, -1, 2, self.heads, d)
        k = kv[:, :, 0].transpose(1, 2)
        v = kv[:, :, 1].transpose(1, 2)
        att = torch.softmax(q @ k.transpose(-1, -2) / (d ** 0.5), dim=-1)
        return self.proj((att @ v).transpose(1, 2).reshape(b, n, c))


class DepthwiseMix(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.dwconv = nn.Conv2d(dim, dim, 3, 1, 1, groups=dim)

    def forward(self, x, h, w):
        b, n, c = x.shape
        return self.dwconv(x.transpose(1, 2).reshape(b, c, h, w)).flatten(2).transpose(1, 2)


class MixFFN(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.dwconv = DepthwiseMix(hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x, h, w):
        return self.fc2(self.act(self.dwconv(self.fc1(x), h, w)))


class Block(nn.Module):
    def __init__(self, dim, heads, sr, mlp_ratio):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = SpatialReductionAttention(dim, heads, sr)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = MixFFN(dim, dim * mlp_ratio)

    def forward(self, x, h, w):
        x = x + self.attn(self.norm1(x), h, w)
        return x + self.mlp(self.norm2(x), h, w)


class PatchEmbed(nn.Module):
    def __init__(self, cin, dim, k, s):
        super().__init__()
        self.proj = nn.Conv2d(cin, dim, kernel_size=k, stride=s, padding=k // 2)
        self.norm = nn.LayerNorm(dim)

    def forward(self, x):
        y = self.proj(x)
        _, _, h, w = y.shape
        return self.norm(y.flatten(2).transpose(1, 2)), h, w


class MiT(nn.Module):
    def __init__(self, dims, depths, heads, srs, mlp_ratio, classes):
        super().__init__()
        cin = 3
        for i in range(4):
            k, s = (7, 4) if i == 0 else (3, 2)
            setattr(self, f"patch_embed{i + 1}", PatchEmbed(cin, dims[i], k, s))
            setattr(self, f"block{i + 1}", nn.ModuleList([Block(dims[i], heads[i], srs[i], mlp_ratio) for _ in range(depths[i])]))
            setattr(self, f"norm{i + 1}", nn.LayerNorm(dims[i], eps=1e-6))
            cin = dims[i]
        self.head = nn.Linear(dims[3], classes)

    def features(self, x):
        outs = []
        for i in range(4):
            t, h, w = getattr(self, f"patch_embed{i + 1}")(x)
            for blk in getattr(self, f"block{i + 1}"):
                t = blk(t, h, w)
            t = getattr(self, f"norm{i + 1}")(t)
            x = t.reshape(t.shape[0], h, w, -1).permute(0, 3, 1, 2)
            outs.append(x)
        return outs


def hf_name(name):
    """NVlabs name -> HF `segformer.encoder.` name (key/value are split by the caller)."""
    p = name.split(".")
    if p[0] == "head":
        return "classifier." + p[1]
    if p[0].startswith("patch_embed"):
        i = int(p[0][len("patch_embed"):]) - 1
        return f"segformer.encoder.patch_embeddings.{i}." + {"proj": "proj", "norm": "layer_norm"}[p[1]] + "." + p[2]
    if p[0].startswith("norm"):
        return f"segformer.encoder.layer_norm.{int(p[0][4:]) - 1}.{p[1]}"
    i = int(p[0][len("block"):]) - 1
    rest = ".".join(p[2:])
    table = {
        "norm1": "layer_norm_1", "norm2": "layer_norm_2", "attn.q": "attention.self.query",
        "attn.proj": "attention.output.dense", "attn.sr": "attention.self.sr", "attn.norm": "attention.self.layer_norm",
        "mlp.fc1": "mlp.dense1", "mlp.fc2": "mlp.dense2", "mlp.dwconv.dwconv": "mlp.dwconv.dwconv",
    }
    module, leaf = rest.rsplit(".", 1)
    return f"segformer.encoder.block.{i}.{p[1]}.{table[module]}.{leaf}"


def tfjs_layout(name, t):
    a = t.detach().numpy().astype(np.float32)
    if a.ndim == 4:
        # depthwise [C, 1, 3, 3] -> [3, 3, C, 1]; conv [out, in, kh, kw] -> [kh, kw, in, out]
        return np.transpose(a, (2, 3, 0, 1) if "dwconv" in name else (2, 3, 1, 0))
    if a.ndim == 2:
        return a.T
    return a


def main():
    out = sys.argv[1]
    cfg = json.loads(sys.argv[2])
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(cfg.get("seed", 0))
    model = MiT(cfg["embedDims"], cfg["depths"], cfg["heads"], cfg["srRatios"], cfg["mlpRatio"], cfg.get("classes", 10))
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("bias"):
                p.normal_(0, 0.1)
            elif p.ndim == 1:
                p.copy_(1 + 0.2 * torch.randn_like(p))
    model.eval()
    sd = model.state_dict()
    write = set(cfg.get("write", ["zip", "legacy", "hf", "tfjs"]))
    meta = {"tensors": {k: list(v.shape) for k, v in sd.items()}, "inputs": [], "features": []}
    if "zip" in write:
        torch.save(sd, os.path.join(out, "mit_zip.pth"))
    if "legacy" in write:
        torch.save(sd, os.path.join(out, "mit_legacy.pth"), _use_new_zipfile_serialization=False)
    if "half" in write:
        torch.save({k: v.half() for k, v in sd.items()}, os.path.join(out, "mit_half.pth"))
    if "hf" in write:
        hf = {}
        for k, v in sd.items():
            if ".attn.kv." in k:
                c = v.shape[0] // 2
                base = hf_name(k.replace(".attn.kv.", ".attn.q.")).replace("attention.self.query", "attention.self.{}")
                hf[base.format("key")] = v[:c].clone()
                hf[base.format("value")] = v[c:].clone()
            else:
                hf[hf_name(k)] = v
        os.makedirs(os.path.join(out, "hf"), exist_ok=True)
        torch.save(hf, os.path.join(out, "hf", "pytorch_model.bin"))
        if "safetensors" in write:
            header, blobs, offset = {"__metadata__": {"format": "pt"}}, [], 0
            for k, v in hf.items():
                b = v.detach().contiguous().numpy().astype("<f4").tobytes()
                header[k] = {"dtype": "F32", "shape": list(v.shape), "data_offsets": [offset, offset + len(b)]}
                blobs.append(b)
                offset += len(b)
            h = json.dumps(header).encode("utf-8")
            with open(os.path.join(out, "hf", "model.safetensors"), "wb") as f:
                f.write(len(h).to_bytes(8, "little") + h + b"".join(blobs))
        with open(os.path.join(out, "hf", "config.json"), "w") as f:
            json.dump({
                "model_type": "segformer", "architectures": ["SegformerForImageClassification"],
                "hidden_sizes": cfg["embedDims"], "depths": cfg["depths"], "num_attention_heads": cfg["heads"],
                "sr_ratios": cfg["srRatios"], "mlp_ratios": [cfg["mlpRatio"]] * 4, "patch_sizes": [7, 3, 3, 3],
                "strides": [4, 2, 2, 2], "num_channels": 3, "num_encoder_blocks": 4, "hidden_act": "gelu",
            }, f, indent=1)
    if "tfjs" in write:
        entries, blobs, offset = [], [], 0
        for k, v in sd.items():
            if k.startswith("head."):
                continue
            a = np.ascontiguousarray(tfjs_layout(k, v))
            entries.append({"name": "encoder." + k, "shape": list(a.shape), "offset": offset})
            blobs.append(a.tobytes())
            offset += a.nbytes
        with open(os.path.join(out, "tfjs.f32"), "wb") as f:
            f.write(b"".join(blobs))
        with open(os.path.join(out, "tfjs.json"), "w") as f:
            json.dump(entries, f)
    g = torch.Generator().manual_seed(cfg.get("seed", 0) + 1)
    with torch.no_grad():
        for ki, (b, h, w) in enumerate(cfg["inputs"]):
            x = torch.randn(b, 3, h, w, generator=g)
            x.permute(0, 2, 3, 1).contiguous().numpy().astype(np.float32).tofile(os.path.join(out, f"input_{ki}.f32"))
            meta["inputs"].append([b, h, w, 3])
            shapes = []
            for si, f in enumerate(model.features(x)):
                nhwc = f.permute(0, 2, 3, 1).contiguous().numpy().astype(np.float32)
                nhwc.tofile(os.path.join(out, f"features_{ki}_{si}.f32"))
                shapes.append(list(nhwc.shape))
            meta["features"].append(shapes)
    with open(os.path.join(out, "meta.json"), "w") as f:
        json.dump(meta, f)


if __name__ == "__main__":
    main()
