#!/usr/bin/python3
"""Exports a PyTorch nn.Sequential for typenet: writes its weights as safetensors and prints
the typenet type that matches it.

    /usr/bin/python3 tools/export_pytorch.py my_model.py:build --input 1,28,28 --out model.safetensors

`my_model.py:build` names a function that returns the (trained) nn.Sequential; --input is
one sample's shape as PyTorch sees it (C,H,W for images, F for vectors). Each module becomes
one typenet layer, so the state_dict's names ("0.weight", "3.running_mean", nested "2.1.bias")
are typenet's names: load the file with tn::load_weights(net, path, tn::from_pytorch), which
also puts the Dense after a Flatten of convolutions into typenet's (h, w, c) order. Images are
channels-last in typenet: feed it x.permute(1, 2, 0) of what PyTorch gets.

Supported: Linear, Conv2d (stride, padding int/tuple/'same'/'valid', dilation, groups,
bias), ConvTranspose2d, BatchNorm1d/2d, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d(1) and
AdaptiveMaxPool2d(1) followed by Flatten, Flatten, Dropout, Upsample(nearest), ZeroPad2d,
the activations ReLU, LeakyReLU, ELU, Sigmoid, Tanh, GELU, SiLU, Hardsigmoid, Softmax,
LogSoftmax, and nested nn.Sequential. Anything else stops the export with its name.
"""
import argparse
import importlib.util
import json
import os
import struct
import sys
from fractions import Fraction

import torch
from torch import nn

ACTIVATIONS = {nn.ReLU: "tn::ReLU", nn.Sigmoid: "tn::Sigmoid", nn.Tanh: "tn::Tanh", nn.SiLU: "tn::SiLU",
               nn.Hardsigmoid: "tn::HardSigmoid"}


def pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def ratio(x):
    f = Fraction(x).limit_denominator(100000)
    return f.numerator, f.denominator


def window_options(kernel, stride, padding, dilation=(1, 1), default_stride=None):
    opts = []
    if kernel is not None:
        kh, kw = pair(kernel)
        opts.append(f"tn::kernel<{kh}, {kw}>")
    sh, sw = pair(stride)
    if (sh, sw) != (default_stride or (1, 1)):
        opts.append(f"tn::stride<{sh}, {sw}>")
    if padding == "same":
        opts.append("tn::padding_same")
    elif padding not in ("valid", 0, (0, 0)):
        ph, pw = pair(padding)
        opts.append(f"tn::padding<{ph}, {pw}>")
    dh, dw = pair(dilation)
    if (dh, dw) != (1, 1):
        opts.append(f"tn::dilation<{dh}, {dw}>")
    return opts


def layer_type(m):
    """The typenet spelling of one module."""
    if isinstance(m, nn.Sequential):
        return "tn::Sequential<" + ", ".join(layer_type(c) for c in m) + ">"
    if type(m) in ACTIVATIONS:
        return ACTIVATIONS[type(m)]
    if isinstance(m, nn.LeakyReLU):
        n, d = ratio(m.negative_slope)
        return f"tn::Activation<tn::leaky_relu_with<{n}, {d}>>"
    if isinstance(m, nn.ELU):
        n, d = ratio(m.alpha)
        return f"tn::Activation<tn::elu_with<{n}, {d}>>"
    if isinstance(m, nn.GELU):
        return "tn::Activation<tn::gelu_tanh>" if m.approximate == "tanh" else "tn::GELU"
    if isinstance(m, (nn.Softmax, nn.LogSoftmax)):
        if m.dim not in (-1, 1, None):
            raise SystemExit(f"export: {m} over dim {m.dim}: typenet's softmax runs over the last axis")
        return "tn::Softmax" if isinstance(m, nn.Softmax) else "tn::LogSoftmax"
    if isinstance(m, nn.Linear):
        return f"tn::Dense<{m.out_features}" + ("" if m.bias is not None else ", tn::no_bias") + ">"
    if isinstance(m, nn.Conv2d):
        opts = window_options(m.kernel_size, m.stride, m.padding, m.dilation)
        if m.groups != 1:
            opts.append(f"tn::groups<{m.groups}>")
        if m.bias is None:
            opts.append("tn::no_bias")
        return f"tn::Conv2D<{m.out_channels}, " + ", ".join(opts) + ">"
    if isinstance(m, nn.ConvTranspose2d):
        if m.groups != 1:
            raise SystemExit("export: grouped ConvTranspose2d is not supported")
        opts = window_options(m.kernel_size, m.stride, m.padding, m.dilation)
        oh, ow = pair(m.output_padding)
        if (oh, ow) != (0, 0):
            opts.append(f"tn::output_padding<{oh}, {ow}>")
        if m.bias is None:
            opts.append("tn::no_bias")
        return f"tn::Conv2DTranspose<{m.out_channels}, " + ", ".join(opts) + ">"
    if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
        n, d = ratio(m.eps)
        return "tn::BatchNorm<>" if (n, d) == (1, 100000) else f"tn::BatchNorm<{n}, {d}>"
    if isinstance(m, (nn.MaxPool2d, nn.AvgPool2d)):
        k = pair(m.kernel_size)
        if k[0] != k[1]:
            raise SystemExit(f"export: {m}: typenet pools are square")
        if isinstance(m, nn.MaxPool2d) and pair(m.dilation) != (1, 1):
            raise SystemExit(f"export: {m}: dilated pooling is not supported")
        opts = window_options(None, m.stride or m.kernel_size, m.padding, default_stride=k)
        if isinstance(m, nn.AvgPool2d) and m.count_include_pad and m.padding not in (0, (0, 0)):
            opts.append("tn::count_include_pad")
        name = "tn::MaxPool2D" if isinstance(m, nn.MaxPool2d) else "tn::AveragePool2D"
        return f"{name}<{k[0]}" + "".join(", " + o for o in opts) + ">"
    if isinstance(m, (nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)):
        if pair(m.output_size) != (1, 1):
            raise SystemExit(f"export: {m}: only output_size 1 (global pooling) is supported")
        return "tn::GlobalAveragePool2D" if isinstance(m, nn.AdaptiveAvgPool2d) else "tn::GlobalMaxPool2D"
    if isinstance(m, nn.Flatten):
        return "tn::Flatten"
    if isinstance(m, nn.Dropout):
        n, d = ratio(m.p)
        return f"tn::Dropout<{n}, {d}>"
    if isinstance(m, nn.Upsample):
        if m.mode != "nearest" or m.scale_factor is None:
            raise SystemExit(f"export: {m}: only nearest upsampling by a scale factor is supported")
        sh, sw = pair(tuple(int(s) for s in m.scale_factor) if isinstance(m.scale_factor, tuple) else int(m.scale_factor))
        return f"tn::UpSampling2D<{sh}, {sw}>"
    if isinstance(m, nn.ZeroPad2d):
        l, r, t, b = m.padding
        return f"tn::ZeroPadding2D<{t}, {b}, {l}, {r}>"
    raise SystemExit(f"export: {type(m).__name__} has no typenet layer")


def input_type(shape):
    if len(shape) == 3:  # C, H, W -> H, W, C
        c, h, w = shape
        return f"tn::Input<{h}, {w}, {c}>"
    return "tn::Input<" + ", ".join(str(d) for d in shape) + ">"




def model_type(model, shape, name="Model"):
    layers = [input_type(shape)] + [layer_type(m) for m in model]
    body = ",\n    ".join(layers)
    return f"using {name} = tn::Sequential<\n    {body}>;"


def write_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        data = tensors[name].detach().to(torch.float32).contiguous().cpu().numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensors[name].shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def export(model, shape, path, name="Model"):
    """Writes model's weights to path and returns the typenet type's declaration."""
    if not isinstance(model, nn.Sequential):
        raise SystemExit("export: the model must be an nn.Sequential")
    declaration = model_type(model, shape, name)
    state = {k: v for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}
    write_safetensors(path, state)
    return declaration


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("builder", help="file.py:function returning the nn.Sequential")
    ap.add_argument("--input", required=True, help="one sample's shape as PyTorch sees it, e.g. 1,28,28 or 784")
    ap.add_argument("--out", required=True, help="the safetensors file to write")
    ap.add_argument("--name", default="Model", help="the C++ alias to declare")
    a = ap.parse_args()
    file, func = a.builder.rsplit(":", 1)
    spec = importlib.util.spec_from_file_location("user_model", file)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    model = getattr(mod, func)().eval()
    shape = [int(d) for d in a.input.split(",")]
    print(export(model, shape, a.out, a.name))
    print(f"// weights: {os.path.abspath(a.out)} -> tn::load_weights(net, path, tn::from_pytorch)", file=sys.stderr)


if __name__ == "__main__":
    main()
