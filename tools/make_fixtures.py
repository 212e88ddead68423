#!/usr/bin/python3
"""Writes the golden fixtures under tests/fixtures/ with PyTorch.

Run with Debian's interpreter, which has python3-torch (the python3 first on PATH may not):
    /usr/bin/python3 tools/make_fixtures.py

For each model: <name>.weights.safetensors holds its parameters under typenet's names
("<layer index>.weight", nested blocks "<i>.<j>.weight"), in PyTorch's layouts; <name>.io.
safetensors holds "input" [17, ...] and PyTorch's "output" for it. Weights and inputs are
float32; the reference output is computed in float64 from those float32 values and stored
as float32, so it is the exact answer rounded once.
"""
import json
import os
import struct

import torch
import torch.nn.functional as F

import graph_fixtures
import ir_fixtures
import sequence_fixtures
from export_pytorch import write_safetensors  # the same writer users export with

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures")
BATCH = 17

ACTIVATIONS = {
    "linear": lambda x: x,
    "relu": F.relu,
    "leaky_relu": lambda x: F.leaky_relu(x, 0.01),
    "leaky_relu_3_10": lambda x: F.leaky_relu(x, 0.3),
    "elu": lambda x: F.elu(x, 1.0),
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "gelu": lambda x: F.gelu(x),
    "gelu_tanh": lambda x: F.gelu(x, approximate="tanh"),
    "silu": F.silu,
    "hard_sigmoid": F.hardsigmoid,
    "softmax": lambda x: F.softmax(x, dim=-1),
    "log_softmax": lambda x: F.log_softmax(x, dim=-1),
}


class WeightAndBias:
    """A layer whose parameters are `weight` and an optional `bias`."""

    def params(self, prefix):
        p = {prefix + "weight": self.w}
        if self.b is not None:
            p[prefix + "bias"] = self.b
        return p


class Dense(WeightAndBias):
    """A typenet Dense: nn.Linear's parameters plus an activation."""

    def __init__(self, fan_in, units, act="linear", bias=True):
        lin = torch.nn.Linear(fan_in, units, bias=bias)
        self.w = lin.weight.detach().clone()
        self.b = lin.bias.detach().clone() if bias else None
        self.act = act

    def __call__(self, x):
        y = x @ self.w.double().T
        if self.b is not None:
            y = y + self.b.double()
        return ACTIVATIONS[self.act](y)


def save(name, layers, x):
    """layers: list of (path, Dense or callable)."""
    params, y = {}, x.double()
    for path, layer in layers:
        if isinstance(layer, Dense):
            params.update(layer.params(path + "."))
        y = layer(y)
    write_safetensors(os.path.join(OUT, name + ".weights.safetensors"), params)
    write_safetensors(os.path.join(OUT, name + ".io.safetensors"), {"input": x, "output": y})


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(20261121)

    # The Keras tutorial MLP: 784-128-64-10, pixel-like inputs in [0, 1).
    save("mlp", [("0", Dense(784, 128, "relu")), ("1", Dense(128, 64, "relu")), ("2", Dense(64, 10, "softmax"))],
         torch.rand(BATCH, 784))

    # Odd sizes: every SIMD tail and partial panel runs.
    save("odd", [("0", Dense(37, 53, "tanh")), ("1", Dense(53, 29, "gelu")), ("2", Dense(29, 11, "log_softmax"))],
         torch.randn(BATCH, 37))

    # Every activation fused into a Dense 37 -> 19; inputs wide enough to reach both tails.
    for act in ACTIVATIONS:
        save("act_" + act, [("0", Dense(37, 19, act))], 3.0 * torch.randn(BATCH, 37))

    save("nobias", [("0", Dense(37, 19, "relu", bias=False))], torch.randn(BATCH, 37))

    # Input<4,5,3> -> Flatten -> Dense<24, elu> -> Reshape<2,3,4> -> Dropout -> Flatten -> Dense<7, sigmoid>
    flat = lambda x: x.reshape(x.shape[0], -1)
    save("shapes", [("flatten", flat), ("1", Dense(60, 24, "elu")), ("reshape", lambda x: x.reshape(-1, 2, 3, 4)),
                    ("dropout", lambda x: x), ("flatten2", flat), ("5", Dense(24, 7, "sigmoid"))],
         torch.randn(BATCH, 4, 5, 3))

    # Input<23> -> Sequential<Dense<31, silu>, Dense<17>> -> ReLU -> Dense<5, hard_sigmoid>
    save("nested", [("0.0", Dense(23, 31, "silu")), ("0.1", Dense(31, 17)), ("relu", F.relu),
                    ("2", Dense(17, 5, "hard_sigmoid"))], torch.randn(BATCH, 23))


# ---- Convolutional models. PyTorch runs NCHW; typenet NHWC. ------------------------------

def rand(*shape):
    return torch.randn(*shape) * 0.5


class Conv(WeightAndBias):
    """A typenet Conv2D / DepthwiseConv2D with PyTorch's weight layout [out, in/groups, kh, kw].
    pad: (top, bottom, left, right) zero padding applied before the convolution (this is how the
    reference expresses Keras' "same" rule for any stride)."""

    def __init__(self, cin, cout, k, stride=1, pad=(0, 0, 0, 0), dilation=1, groups=1, act="linear", bias=True):
        kh, kw = (k, k) if isinstance(k, int) else k
        self.w = rand(cout, cin // groups, kh, kw) / (cin // groups * kh * kw) ** 0.5
        self.b = rand(cout) if bias else None
        self.stride, self.pad, self.dilation, self.groups, self.act = stride, pad, dilation, groups, act

    def __call__(self, x):
        t, b, l, r = self.pad
        x = F.pad(x, (l, r, t, b))
        y = F.conv2d(x, self.w.double(), None if self.b is None else self.b.double(), stride=self.stride,
                     dilation=self.dilation, groups=self.groups)
        return ACTIVATIONS[self.act](y)


class BN:
    def __init__(self, c, eps=1e-5):
        self.g, self.b = 1 + rand(c) * 0.5, rand(c)
        self.m, self.v = rand(c), 0.5 + torch.rand(c)
        self.eps = eps

    def params(self, prefix):
        return {prefix + "weight": self.g, prefix + "bias": self.b, prefix + "running_mean": self.m,
                prefix + "running_var": self.v}

    def __call__(self, x):
        return F.batch_norm(x, self.m.double(), self.v.double(), self.g.double(), self.b.double(), False, 0.0, self.eps)


class DenseAfterFlatten(Dense):
    """A Dense that follows a Flatten of a C x H x W feature map. Its file holds PyTorch's
    weight as is, columns in (c, h, w) order: loading with tn::from_pytorch permutes them to
    typenet's (h, w, c)."""

    def __init__(self, c, h, w, units, act="linear"):
        super().__init__(c * h * w, units, act)


def same_pad(size, k, s, d=1):
    """Keras/TensorFlow 'same': output ceil(size / s); odd total padding puts the extra at the end."""
    out = -(-size // s)
    total = max((out - 1) * s + (k - 1) * d + 1 - size, 0)
    return total // 2, total - total // 2


def save_nhwc(name, layers, x):
    """x: NCHW input. layers: list of (path or None, callable) in NCHW."""
    params, y = {}, x.double()
    for path, layer in layers:
        if path is not None:
            params.update(layer.params(path + "."))
        y = layer(y)
    nhwc = lambda t: t.permute(0, 2, 3, 1) if t.dim() == 4 else t
    write_safetensors(os.path.join(OUT, name + ".weights.safetensors"), params)
    write_safetensors(os.path.join(OUT, name + ".io.safetensors"), {"input": nhwc(x), "output": nhwc(y)})


def flatten(x):
    return x.reshape(x.shape[0], -1)


def max_pool_same(x, k, s):
    t, b = same_pad(x.shape[2], k, s)
    l, r = same_pad(x.shape[3], k, s)
    return F.max_pool2d(F.pad(x, (l, r, t, b), value=float("-inf")), k, s)


def conv_fixtures():
    B = 17
    # 23x19x3 -> Conv 7 3x3 relu -> Conv 13 3x3 stride 2 padding 1 -> Flatten -> Dense 5
    save_nhwc("conv_basic", [("0", Conv(3, 7, 3, act="relu")), ("1", Conv(7, 13, 3, stride=2, pad=(1, 1, 1, 1))),
                             (None, flatten), ("3", DenseAfterFlatten(13, 11, 9, 5))], torch.randn(B, 3, 23, 19))
    # Keras 'same' at stride 1 (5x3 kernel) and stride 2, tanh; then a 1x1 conv (the GEMM fast path)
    save_nhwc("conv_same", [("0", Conv(3, 8, (5, 3), pad=same_pad(23, 5, 1) + same_pad(19, 3, 1), act="tanh")),
                            ("1", Conv(8, 6, 3, stride=2, pad=same_pad(23, 3, 2) + same_pad(19, 3, 2))),
                            ("2", Conv(6, 16, 1, act="relu"))], torch.randn(B, 3, 23, 19))
    # dilation 2 with padding 2, elu; asymmetric stride (2, 1) without bias
    conv_d = Conv(3, 5, 3, pad=(2, 2, 2, 2), dilation=2, act="elu")
    conv_s = Conv(5, 4, (3, 2), stride=(2, 1), bias=False)
    save_nhwc("conv_dilation", [("0", conv_d), ("1", conv_s)], torch.randn(B, 3, 23, 19))
    # groups: 6 -> 9 in 3 groups; depthwise 9 -> 9 (direct kernel); depthwise multiplier 2 (grouped GEMM)
    save_nhwc("conv_groups", [("0", Conv(6, 9, 3, groups=3, act="relu")),
                              ("1", Conv(9, 9, 3, pad=(1, 1, 1, 1), groups=9, act="sigmoid")),
                              ("2", Conv(9, 18, (3, 3), stride=2, groups=9))], torch.randn(B, 6, 12, 10))
    # pooling: max 2; average 3 stride 2 padding 1 (excluding padding, Keras' rule);
    # average 2 with padding 1 including padding (PyTorch's default); max 3 stride 2 'same'
    save_nhwc("pooling", [(None, lambda x: F.max_pool2d(x, 2)),
                          (None, lambda x: F.avg_pool2d(x, 3, 2, 1, count_include_pad=False)),
                          (None, lambda x: F.avg_pool2d(x, 2, 1, 1, count_include_pad=True)),
                          (None, lambda x: max_pool_same(x, 3, 2))], torch.randn(B, 7, 23, 19))
    save_nhwc("global_pool", [(None, lambda x: x.mean(dim=(2, 3)))], torch.randn(B, 13, 7, 5))
    save_nhwc("global_max_pool", [(None, lambda x: x.amax(dim=(2, 3)))], torch.randn(B, 13, 7, 5))
    # Conv (no bias) -> BatchNorm -> ReLU: folded and fused; then a BatchNorm on its own after
    # a pooling layer; Keras' eps
    save_nhwc("batchnorm", [("0", Conv(3, 8, 3, bias=False)), ("1", BN(8)), (None, F.relu),
                            (None, lambda x: F.max_pool2d(x, 2)), ("4", BN(8, eps=1e-3)),
                            (None, lambda x: x.mean(dim=(2, 3))), ("6", Dense(8, 4)), ("7", BN(4))],
              torch.randn(B, 3, 23, 19))
    # zero padding, upsampling, cropping
    save_nhwc("spatial", [(None, lambda x: F.pad(x, (2, 0, 1, 3))),
                          (None, lambda x: F.interpolate(x, scale_factor=(2, 3), mode="nearest")),
                          (None, lambda x: x[:, :, 1:-2, 0:-1])], torch.randn(B, 3, 5, 4))
    # The Keras tutorial CNN on 28x28x1.
    save_nhwc("cnn28", [("0", Conv(1, 32, 3, act="relu")), (None, lambda x: F.max_pool2d(x, 2)),
                        ("2", Conv(32, 64, 3, act="relu")), (None, lambda x: F.max_pool2d(x, 2)), (None, flatten),
                        ("5", DenseAfterFlatten(64, 5, 5, 128, "relu")), ("6", Dense(128, 10, "softmax"))],
              torch.rand(5, 1, 28, 28))


class ConvT(WeightAndBias):
    """A typenet Conv2DTranspose with PyTorch's ConvTranspose2d layout [in, out, kh, kw].
    crop: (top, bottom, left, right) removed from the full output (PyTorch's padding, or
    Keras' 'same' rule); output_padding is PyTorch's."""

    def __init__(self, cin, cout, k, stride, crop=(0, 0, 0, 0), output_padding=0, act="linear"):
        self.w = rand(cin, cout, k, k) / (cin * k * k) ** 0.5
        self.b = rand(cout)
        self.stride, self.crop, self.op, self.act = stride, crop, output_padding, act

    def __call__(self, x):
        y = F.conv_transpose2d(x, self.w.double(), self.b.double(), stride=self.stride, output_padding=self.op)
        t, b, l, r = self.crop
        return ACTIVATIONS[self.act](y[:, :, t:y.shape[2] - b, l:y.shape[3] - r])


class Separable:
    """Keras' SeparableConv2D: depthwise (no bias) then pointwise 1x1 with bias and activation."""

    def __init__(self, cin, cout, k, pad, act):
        self.dw = Conv(cin, cin, k, pad=pad, groups=cin, bias=False)
        self.pw = Conv(cin, cout, 1, act=act)

    def params(self, prefix):
        p = self.dw.params(prefix + "0.")
        p.update(self.pw.params(prefix + "1."))
        return p

    def __call__(self, x):
        return self.pw(self.dw(x))


def conv_more_fixtures():
    torch.manual_seed(7)
    # 9x7x5 -> SeparableConv2D 8 3x3 same relu -> Conv2DTranspose 4 3x3 stride 2 padding 1
    # output_padding 1 tanh -> Conv2DTranspose 3 2x2 stride 2 'same' (Keras: output = 2 x input)
    save_nhwc("conv_transpose", [("0", Separable(5, 8, 3, (1, 1, 1, 1), "relu")),
                                 ("1", ConvT(8, 4, 3, 2, crop=(1, 1, 1, 1), output_padding=1, act="tanh")),
                                 ("2", ConvT(4, 3, 2, 2))], torch.randn(5, 5, 9, 7))


def keras_fixture(name, layers):
    """Rewrites <name>.weights.safetensors in Keras' naming and layouts as <name>.keras.safetensors.
    layers: (typenet prefix, Keras layer name, kind); kind is "dense", ("flatten_dense", c, h, w),
    "conv", ("depthwise", multiplier) or "bn"."""
    import json as _json
    path = os.path.join(OUT, name + ".weights.safetensors")
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = _json.loads(f.read(n))
        data = f.read()
    t = {k: torch.frombuffer(bytearray(data[v["data_offsets"][0]:v["data_offsets"][1]]), dtype=torch.float32).reshape(v["shape"])
         for k, v in header.items() if k != "__metadata__"}
    out = {}
    for prefix, keras, kind in layers:
        w = t.get(prefix + ".weight")
        if kind == "bn":
            for ours, theirs in [("weight", "gamma"), ("bias", "beta"), ("running_mean", "moving_mean"),
                                 ("running_var", "moving_variance")]:
                out[keras + "/" + theirs] = t[prefix + "." + ours]
            continue
        if kind == "dense":
            out[keras + "/kernel"] = w.t()
        elif kind[0] == "flatten_dense":  # Keras flattens (h, w, c), as typenet does
            _, c, h, ww = kind
            out[keras + "/kernel"] = w.reshape(-1, c, h, ww).permute(0, 2, 3, 1).reshape(w.shape[0], -1).t()
        elif kind == "conv":
            out[keras + "/kernel"] = w.permute(2, 3, 1, 0)
        elif kind[0] == "depthwise":
            m = kind[1]
            out[keras + "/depthwise_kernel"] = w.reshape(-1, m, w.shape[2], w.shape[3]).permute(2, 3, 0, 1)
        if prefix + ".bias" in t:
            out[keras + "/bias"] = t[prefix + ".bias"]
    write_safetensors(os.path.join(OUT, name + ".keras.safetensors"), out)


def numpy_fixtures():
    """The 'odd' model's weights as NumPy writes them: np.savez (stored entries), the same
    compressed (which typenet rejects with words), and single arrays in float64 and in
    Fortran order."""
    import numpy as np
    import json as _json
    with open(os.path.join(OUT, "odd.weights.safetensors"), "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = _json.loads(f.read(n))
        data = f.read()
    arrays = {k: np.frombuffer(data[v["data_offsets"][0]:v["data_offsets"][1]], dtype="<f4").reshape(v["shape"])
              for k, v in header.items()}
    np.savez(os.path.join(OUT, "odd.npz"), **arrays)
    np.savez_compressed(os.path.join(OUT, "odd_compressed.npz"), **arrays)
    w = arrays["0.weight"]
    np.save(os.path.join(OUT, "odd_w0_f64.npy"), w.astype("<f8"))
    np.save(os.path.join(OUT, "odd_w0_fortran.npy"), np.asfortranarray(w))


def more_activation_fixtures():
    """Activations added after the first set, with their own seed so that the others stay."""
    torch.manual_seed(20261202)
    more = {"hard_swish": F.hardswish, "relu6": F.relu6, "hardtanh": F.hardtanh,
            "hardtanh_m0.5_1.5": lambda x: F.hardtanh(x, -0.5, 1.5)}
    ACTIVATIONS.update(more)
    for act in more:
        save("act_" + act, [("0", Dense(37, 19, act))], 3.0 * torch.randn(BATCH, 37))


if __name__ == "__main__":
    main()
    conv_fixtures()
    conv_more_fixtures()
    keras_fixture("cnn28", [("0", "conv2d", "conv"), ("2", "conv2d_1", "conv"), ("5", "dense", ("flatten_dense", 64, 5, 5)),
                            ("6", "dense_1", "dense")])
    keras_fixture("conv_groups", [("0", "conv2d", "conv"), ("1", "depthwise_conv2d", ("depthwise", 1)),
                                  ("2", "depthwise_conv2d_1", ("depthwise", 2))])
    keras_fixture("batchnorm", [("0", "conv2d", "conv"), ("1", "batch_normalization", "bn"),
                                ("4", "batch_normalization_1", "bn"), ("6", "dense", "dense"),
                                ("7", "batch_normalization_2", "bn")])
    numpy_fixtures()
    graph_fixtures.main()
    ir_fixtures.main()
    sequence_fixtures.main()
    more_activation_fixtures()
