#!/usr/bin/python3
"""Golden fixtures for the sequence layers, from PyTorch's own nn.RNN, nn.GRU, nn.LSTM and
nn.Conv1d (state_dict names as they are):

    /usr/bin/python3 tools/sequence_fixtures.py

Each model is a module whose children are "0", "1", ... as in the typenet Sequential that
spells it; sequences are batch-first [N, T, F] (typenet's channels-last [T, F] per sample); the
convolutions transpose to PyTorch's [N, C, T] and back, and a causal one is left-padded.
<name>.weights.safetensors is the state_dict; <name>.io.safetensors holds "input", "output"
and, where a model starts from a given state, "h0" (and "c0") as PyTorch takes them.
"""
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

from export_pytorch import write_safetensors

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures")


class Seq(nn.Module):
    """Children 0, 1, ...: a recurrent layer (its output sequence, or the last step), then
    Linear layers applied to each step."""

    def __init__(self, *layers, last="sequence"):
        super().__init__()
        for i, l in enumerate(layers):
            self.add_module(str(i), l)
        self.last = last
        self.h0 = None

    def forward(self, x):
        for i, l in enumerate(self.children()):
            if isinstance(l, (nn.RNN, nn.GRU, nn.LSTM)):
                out, h = l(x, self.h0) if (i == 0 and self.h0 is not None) else l(x)
                hn = h[0] if isinstance(l, nn.LSTM) else h
                if self.last == "sequence":
                    x = out
                else:  # the final state of the last layer, every direction: h_n's last rows
                    d = 2 if l.bidirectional else 1
                    x = torch.cat([hn[-d + k] for k in range(d)], dim=-1)
            else:
                x = l(x)
        return x


class Conv(nn.Module):
    """Children 0, 1, ...: Conv1d (causal: left-padded by (k - 1) * dilation), BatchNorm1d,
    Linear on each step; acts[i] applied after child i. Input and output channels-last."""

    def __init__(self, layers, acts=None, causal=()):
        super().__init__()
        for i, l in enumerate(layers):
            self.add_module(str(i), l)
        self.acts = acts or {}
        self.causal = set(causal)

    def forward(self, x):  # x [N, T, C]
        for i, l in enumerate(self.children()):
            if isinstance(l, (nn.Conv1d, nn.BatchNorm1d)):
                x = x.transpose(1, 2)
                if i in self.causal:
                    x = F.pad(x, ((l.kernel_size[0] - 1) * l.dilation[0], 0))
                x = l(x).transpose(1, 2)
            else:
                x = l(x)
            if i in self.acts:
                x = self.acts[i](x)
        return x


def randomize(module, scale=0.5):
    with torch.no_grad():
        for p in module.parameters():
            p.uniform_(-scale, scale)
        for m in module.modules():
            if isinstance(m, nn.BatchNorm1d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
    return module


def save(name, module, x, h0=None):
    module = randomize(module).eval()
    write_safetensors(os.path.join(OUT, name + ".weights.safetensors"), dict(module.state_dict()))
    io = {"input": x}
    if h0 is not None:
        module.h0 = h0
        if isinstance(h0, tuple):
            io["h0"], io["c0"] = h0
        else:
            io["h0"] = h0
    with torch.no_grad():
        y = module.double()(x.double()).float() if h0 is None else None
        if h0 is not None:
            module.h0 = tuple(t.double() for t in h0) if isinstance(h0, tuple) else h0.double()
            y = module.double()(x.double()).float()
    io["output"] = y.contiguous()
    write_safetensors(os.path.join(OUT, name + ".io.safetensors"), io)


class Resize(nn.Module):
    """Children named by their index in the typenet Sequential; `ops` is the whole forward
    on PyTorch's [N, C, T] (the input arrives channels-last and the output leaves it so)."""

    def __init__(self, modules, ops):
        super().__init__()
        for i, m in modules.items():
            self.add_module(str(i), m)
        self.ops = ops

    def forward(self, x):
        y = self.ops(self, x.transpose(1, 2))
        return y.transpose(1, 2) if y.dim() == 3 else y


def resize_fixtures(g):
    """MaxPool1D, AveragePool1D (padding counted and not), UpSampling1D, ZeroPadding1D,
    Cropping1D, the global pools, after a Conv1d and before a Linear."""
    m = lambda k: k._modules
    save("seq_pool_resize", Resize({0: nn.Conv1d(3, 5, 3), 8: nn.Linear(5, 2)}, lambda s, x: m(s)["8"](
        F.max_pool1d(F.pad(F.pad(F.interpolate(F.avg_pool1d(F.max_pool1d(F.relu(m(s)["0"](x)), 2), 3, stride=2, padding=1),
                                               scale_factor=2, mode="nearest"), (2, 1)), (-1, -3)), 3, stride=1, padding=1)
        .mean(dim=2))), g(5, 24, 3))
    save("seq_avg_exclude_globalmax", Resize({0: nn.Conv1d(4, 6, 3, padding="same"), 3: nn.Linear(6, 3)}, lambda s, x: m(s)["3"](
        F.avg_pool1d(m(s)["0"](x), 4, stride=2, padding=1, count_include_pad=False).amax(dim=2))), g(5, 20, 4))


def keras_gru_reference(x, kernel, recurrent, bias, reset_after):
    """Keras' GRU in double precision, from its definition (gates z, r, h in Keras' order):
    z = sigmoid(x Wz + h Uz + b), r likewise, hh = tanh(x Wh + b_h + r * (h Uh + b'_h))
    with reset_after, tanh(x Wh + (r * h) Uh + b_h) without; h = z * h + (1 - z) * hh."""
    x, kernel, recurrent, bias = (t.double() for t in (x, kernel, recurrent, bias))
    u = recurrent.shape[0]
    b_in, b_rec = (bias[0], bias[1]) if reset_after else (bias, torch.zeros_like(bias))
    h = torch.zeros(x.shape[0], u, dtype=torch.float64)
    out = []
    for t in range(x.shape[1]):
        xs = x[:, t] @ kernel + b_in
        hs = h @ recurrent + b_rec
        z = torch.sigmoid(xs[:, :u] + hs[:, :u])
        r = torch.sigmoid(xs[:, u:2 * u] + hs[:, u:2 * u])
        if reset_after:
            hh = torch.tanh(xs[:, 2 * u:] + r * hs[:, 2 * u:])
        else:
            hh = torch.tanh(xs[:, 2 * u:] + (r * h) @ recurrent[:, 2 * u:])
        h = z * h + (1 - z) * hh
        out.append(h)
    return torch.stack(out, dim=1)


def save_keras(name, tensors, x, y):
    write_safetensors(os.path.join(OUT, name + ".weights.safetensors"), {k: v.float().contiguous() for k, v in tensors.items()})
    write_safetensors(os.path.join(OUT, name + ".io.safetensors"), {"input": x, "output": y.float().contiguous()})


def keras_fixtures(g):
    """Keras-layout files (names and layouts of Keras' GRU and LSTM: kernel [F, G*U],
    recurrent_kernel [U, G*U], bias) for GRU with reset_after True and False and for the
    LSTM, followed by a Dense on each step; outputs from Keras' equations (GRU) and from
    PyTorch's LSTM with the same weights."""
    f, u, out, t, n = 3, 19, 2, 21, 5
    x = g(n, t, f)
    dense_k, dense_b = torch.empty(u, out).uniform_(-0.5, 0.5), torch.empty(out).uniform_(-0.5, 0.5)
    for reset_after in (True, False):
        kernel = torch.empty(f, 3 * u).uniform_(-0.5, 0.5)
        recurrent = torch.empty(u, 3 * u).uniform_(-0.5, 0.5)
        bias = torch.empty(*((2, 3 * u) if reset_after else (3 * u,))).uniform_(-0.5, 0.5)
        h = keras_gru_reference(x, kernel, recurrent, bias, reset_after)
        y = h @ dense_k.double() + dense_b.double()
        save_keras("keras_gru_reset_after" if reset_after else "keras_gru_reset_before",
                   {"gru/kernel": kernel, "gru/recurrent_kernel": recurrent, "gru/bias": bias,
                    "dense/kernel": dense_k, "dense/bias": dense_b}, x, y)
    lstm = randomize(nn.LSTM(f, u, batch_first=True)).double()
    with torch.no_grad():
        h, _ = lstm(x.double())
        y = h @ dense_k.double() + dense_b.double()
    sd = lstm.state_dict()  # i, f, g, o: Keras' i, f, c, o; Keras has one bias, their sum
    save_keras("keras_lstm", {"lstm/kernel": sd["weight_ih_l0"].t(), "lstm/recurrent_kernel": sd["weight_hh_l0"].t(),
                              "lstm/bias": sd["bias_ih_l0"] + sd["bias_hh_l0"], "dense/kernel": dense_k, "dense/bias": dense_b},
               x, y)


class GatedResidual(nn.Module):
    """WaveNet's gated residual stack (the layer Neural Amp Modeler's WaveNet is built of), as a
    typenet graph spells it: x = input(x) (1x1); for each dilation d, z = tanh(filter_d(x)) *
    sigmoid(gate_d(x)) (causal, kernel 3), x = x + mix_d(z) (1x1), and the skips summed;
    out = head(relu(z_1 + z_2 + ... + x)). Channels-last in and out."""

    def __init__(self, ch, dilations):
        super().__init__()
        self.dilations = dilations
        self.add_module("input", nn.Conv1d(1, ch, 1))
        for i, d in enumerate(dilations):
            self.add_module("filter%d" % i, nn.Conv1d(ch, ch, 3, dilation=d))
            self.add_module("gate%d" % i, nn.Conv1d(ch, ch, 3, dilation=d))
            self.add_module("mix%d" % i, nn.Conv1d(ch, ch, 1))
        self.add_module("head", nn.Linear(ch, 1))

    def forward(self, x):  # [N, T, 1]
        m = dict(self.named_children())
        x = m["input"](x.transpose(1, 2))
        skip = 0
        for i, d in enumerate(self.dilations):
            xp = F.pad(x, (2 * d, 0))
            z = torch.tanh(m["filter%d" % i](xp)) * torch.sigmoid(m["gate%d" % i](xp))
            x = x + m["mix%d" % i](z)
            skip = skip + z
        return m["head"](F.relu(skip + x).transpose(1, 2))


def stream_fixtures(g):
    # DepthwiseConv1D: one filter per channel (20 channels: a partial vector), causal, dilated
    save("depthwise1d_causal", Conv([nn.Conv1d(20, 20, 3, dilation=2, groups=20), nn.Linear(20, 2)], acts={0: F.relu},
                                    causal=[0]), g(3, 25, 20))
    # a graph that streams: the gated residual stack, dilations 1, 2, 4, 8
    save("gated_residual", GatedResidual(8, (1, 2, 4, 8)), g(3, 60, 1))


class Nhwc(nn.Module):
    """`ops` on PyTorch's [N, C, H, W]; the input arrives channels-last and the output leaves it so."""

    def __init__(self, ops):
        super().__init__()
        self.ops = ops

    def forward(self, x):
        return self.ops(x.permute(0, 3, 1, 2)).permute(0, 2, 3, 1)


def ceil_mode_fixtures(g):
    """Pooling with ceil_mode=True: a last, partial window; an average counting the padding
    counts only up to it (PyTorch's divisor)."""
    m = lambda k: k._modules
    save("seq_pool_ceil", Resize({0: nn.Conv1d(3, 4, 2)}, lambda s, x: F.max_pool1d(
        F.avg_pool1d(m(s)["0"](x), 3, stride=2, padding=1, ceil_mode=True, count_include_pad=True), 4, stride=3, ceil_mode=True)),
         g(5, 11, 3))
    save("pool2d_ceil", Nhwc(lambda x: F.avg_pool2d(F.max_pool2d(x, 3, stride=2, ceil_mode=True), 3, stride=2, padding=1,
                                                    ceil_mode=True, count_include_pad=True)), g(3, 9, 8, 5))


class ConvPoolHead(nn.Module):
    """Children "0" (Conv2d) and "3" (Linear), as Sequential<Input, Conv2D, AdaptiveAveragePool2D<3>,
    Flatten, Dense> numbers them: VGG's classifier input (adaptive pooling, then PyTorch's flatten)."""

    def __init__(self):
        super().__init__()
        self.add_module("0", nn.Conv2d(3, 4, 3))
        self.add_module("3", nn.Linear(4 * 3 * 3, 5))

    def forward(self, x):  # NHWC in
        m = self._modules
        y = F.adaptive_avg_pool2d(m["0"](x.permute(0, 3, 1, 2)), (3, 3))
        return m["3"](y.flatten(1))


def shuffle_channels(x, groups):  # torchvision's channel_shuffle, on [N, C, H, W]
    n, c, h, w = x.shape
    return x.view(n, groups, c // groups, h, w).transpose(1, 2).reshape(n, c, h, w)


class SqueezeExcite(nn.Module):
    """Broadcasting merges, as a graph spells them: f = conv(x); a squeeze-and-excitation gate
    s = hardsigmoid(fc2(relu(fc1(mean of f over H, W)))) [C]; a spatial gate g = sigmoid(spatial(f))
    [H, W, 1]; out = (f * s) * g - s, and the same with s as [1, 1, C]."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(5, 16, 3, padding=1)
        self.fc1 = nn.Linear(16, 4)
        self.fc2 = nn.Linear(4, 16)
        self.spatial = nn.Conv2d(16, 1, 1)

    def forward(self, x):  # NHWC in and out
        f = self.conv(x.permute(0, 3, 1, 2))
        s = F.hardsigmoid(self.fc2(F.relu(self.fc1(f.mean(dim=(2, 3))))))[:, :, None, None]
        g = torch.sigmoid(self.spatial(f))
        return ((f * s) * g - s).permute(0, 2, 3, 1)


class SqueezeExciteBlock(nn.Module):
    """torchvision's own SqueezeExcitation between two convolutions: conv 5 -> 20 (3x3), se
    (20 -> 8 -> 20; ReLU and Hardsigmoid as MobileNetV3, or SiLU and Sigmoid as EfficientNet),
    out 1x1 -> 6. 20 channels: a partial SIMD vector on every instruction set."""

    def __init__(self, efficientnet):
        super().__init__()
        from torchvision.ops import SqueezeExcitation
        self.conv = nn.Conv2d(5, 20, 3, padding=1)
        if efficientnet:
            self.se = SqueezeExcitation(20, 8, activation=nn.SiLU, scale_activation=nn.Sigmoid)
        else:
            self.se = SqueezeExcitation(20, 8, activation=nn.ReLU, scale_activation=nn.Hardsigmoid)
        self.out = nn.Conv2d(20, 6, 1)

    def forward(self, x):  # NHWC in and out
        return self.out(self.se(self.conv(x.permute(0, 3, 1, 2)))).permute(0, 2, 3, 1)


class ShuffleUnit(nn.Module):
    """ShuffleNetV2's stride-1 unit, reduced: x1, x2 = x.chunk(2, dim=1); out =
    channel_shuffle(cat(x1, relu(branch(x2))), 2), branch a 1x1 Conv2d."""

    def __init__(self):
        super().__init__()
        self.branch = nn.Conv2d(4, 4, 1)

    def forward(self, x):  # NHWC in and out
        x1, x2 = x.permute(0, 3, 1, 2).chunk(2, dim=1)
        return shuffle_channels(torch.cat((x1, F.relu(self.branch(x2))), dim=1), 2).permute(0, 2, 3, 1)


def zoo_layer_fixtures(g):
    """Layers the torchvision models need: adaptive pooling (shrinking and growing), VGG's
    adaptive pool before flatten, ShuffleNet's channel shuffle, squeeze-and-excitation."""
    save("adaptive_pool", Nhwc(lambda x: F.adaptive_max_pool2d(F.adaptive_avg_pool2d(x, (5, 3)), (2, 4))), g(3, 11, 7, 6))
    save("adaptive_pool_flatten", ConvPoolHead(), g(3, 10, 9, 3))
    save("channel_shuffle", Nhwc(lambda x: shuffle_channels(F.relu(x), 3)), g(3, 4, 5, 12))
    save("broadcast_gates", SqueezeExcite(), g(3, 8, 8, 5))
    save("shuffle_unit", ShuffleUnit(), g(3, 6, 5, 8))
    save("squeeze_excite", SqueezeExciteBlock(False), g(3, 7, 6, 5))
    save("squeeze_excite_silu", SqueezeExciteBlock(True), g(3, 7, 6, 5))


def main():
    torch.manual_seed(14)
    g = lambda *s: torch.randn(*s)
    # input 3, hidden 37, two layers, every step, then a Linear on each step; batch 5
    save("gru_3_37_2l", Seq(nn.GRU(3, 37, num_layers=2, batch_first=True), nn.Linear(37, 2)), g(5, 23, 3))
    # input 1, hidden 29 (an audio model's shape); LSTM and GRU
    save("lstm_1_29", Seq(nn.LSTM(1, 29, batch_first=True), nn.Linear(29, 1)), g(5, 40, 1))
    save("gru_1_29", Seq(nn.GRU(1, 29, batch_first=True), nn.Linear(29, 1)), g(5, 40, 1))
    save("lstm_3_37_2l", Seq(nn.LSTM(3, 37, num_layers=2, batch_first=True), nn.Linear(37, 4)), g(5, 23, 3))
    # SimpleRNN, tanh and relu, no bias for one of them
    save("rnn_tanh_4_13", Seq(nn.RNN(4, 13, batch_first=True), nn.Linear(13, 3)), g(5, 17, 4))
    save("rnn_relu_4_13", Seq(nn.RNN(4, 13, nonlinearity="relu", bias=False, batch_first=True)), g(5, 17, 4))
    # last step only: h_n
    save("gru_last_3_16", Seq(nn.GRU(3, 16, batch_first=True), nn.Linear(16, 3), last="h_n"), g(5, 19, 3))
    # bidirectional: every step (two layers), and h_n of both directions
    save("lstm_bi_3_7_2l", Seq(nn.LSTM(3, 7, num_layers=2, bidirectional=True, batch_first=True)), g(5, 11, 3))
    save("gru_bi_last_3_11", Seq(nn.GRU(3, 11, bidirectional=True, batch_first=True), last="h_n"), g(5, 13, 3))
    # an initial state given (one sequence)
    save("lstm_h0_2_9", Seq(nn.LSTM(2, 9, num_layers=2, batch_first=True)), g(1, 15, 2), h0=(g(2, 1, 9), g(2, 1, 9)))

    # Conv1D: stride 2 with padding, dilation, groups with "same", depthwise without bias
    save("conv1d_s2_p2", Conv([nn.Conv1d(3, 8, 5, stride=2, padding=2)]), g(5, 21, 3))
    save("conv1d_dil3_relu", Conv([nn.Conv1d(4, 6, 3, dilation=3)], acts={0: F.relu}), g(5, 20, 4))
    save("conv1d_groups_same", Conv([nn.Conv1d(6, 9, 4, groups=3, padding="same")]), g(5, 15, 6))
    save("conv1d_depthwise", Conv([nn.Conv1d(4, 8, 3, groups=4, bias=False)]), g(5, 12, 4))
    save("conv1d_bn_relu_dense", Conv([nn.Conv1d(3, 7, 3, padding=1), nn.BatchNorm1d(7), nn.ReLU(), nn.Linear(7, 2)]),
         g(5, 16, 3))
    # a causal TCN: Conv1D 1 -> 16, kernel 3, dilations 1, 2, 4, 8, 16 (tanh), then Dense 1
    tcn = [nn.Conv1d(1 if i == 0 else 16, 16, 3, dilation=2 ** i) for i in range(5)] + [nn.Linear(16, 1)]
    save("tcn_causal", Conv(tcn, acts={i: torch.tanh for i in range(5)}, causal=range(5)), g(3, 70, 1))
    keras_fixtures(g)
    resize_fixtures(g)
    stream_fixtures(g)
    ceil_mode_fixtures(g)
    zoo_layer_fixtures(g)
    # an LSTM of two units: its gates packed two to a vector on every instruction set
    save("lstm_2_2_2l", Seq(nn.LSTM(2, 2, num_layers=2, batch_first=True), nn.Linear(2, 1)), g(5, 31, 2))


if __name__ == "__main__":
    main()
