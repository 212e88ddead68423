#!/usr/bin/python3
"""Golden fixtures for the one-IR issue, from real PyTorch modules whose state_dict names are
the names typenet derives from a type's structure (no renaming anywhere):

    /usr/bin/python3 tools/ir_fixtures.py

nested_features     torchvision-style features/classifier Sequentials (BatchNorm inside a
                    named block; the flatten permutation across two blocks and a Dropout)
conv_flatten_dense  a conv inside a nested Sequential, then Flatten and Linear
one_engine          convs, BatchNorm, ReLU, a residual add, a concat, Flatten, Linear: the
                    network tests/model/one_engine.cpp spells four ways

The seeded generator below (uniform, seeded_value, seeded_state) draws the weights of
torchvision's models for tools/zoo_fixtures.py; tests/model/zoo.hpp implements it too.

<name>.weights.safetensors is the state_dict (num_batches_tracked included, as a real export
has it); <name>.io.safetensors holds "input" (NHWC) and "output".
"""
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from export_pytorch import write_safetensors
from graph_fixtures import randomize as randomize_bn

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures")


def save(name, module, x_nchw, weights=True):
    if weights:  # random weights of its own, with non-trivial BatchNorm statistics
        module = randomize_bn(module)
        write_safetensors(os.path.join(OUT, name + ".weights.safetensors"), dict(module.state_dict()))
    with torch.no_grad():
        y = module.double()(x_nchw.double()).float()
    nhwc = lambda t: t.permute(0, 2, 3, 1).contiguous() if t.dim() == 4 else t
    write_safetensors(os.path.join(OUT, name + ".io.safetensors"), {"input": nhwc(x_nchw), "output": nhwc(y)})


class OneEngine(nn.Module):
    """conv1-bn1-relu, a residual block (conv2-bn2, + its input, relu), a branch of two convs
    concatenated on channels (a: 1x1 + relu, b: 3x3), Flatten, fc; on 6x6 images."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.block = nn.Module()
        self.block.conv2 = nn.Conv2d(8, 8, 3, padding=1, bias=False)
        self.block.bn2 = nn.BatchNorm2d(8)
        self.branch = nn.Module()
        self.branch.a = nn.Conv2d(8, 4, 1)
        self.branch.b = nn.Conv2d(8, 4, 3, padding=1)
        self.fc = nn.Linear(8 * 6 * 6, 5)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = F.relu(x + self.block.bn2(self.block.conv2(x)))
        x = torch.cat([F.relu(self.branch.a(x)), self.branch.b(x)], dim=1)
        return self.fc(torch.flatten(x, 1))


# ---- The seeded generator (also in tests/model/zoo.hpp) ------------------------------
# Element j of the tensor with index t in the state_dict's order (num_batches_tracked skipped):
# u = splitmix64(seed * 2^32 + t * 2^24 + j) / 2^64 in [0, 1), then mapped per kind of tensor.
def uniform(seed, t, n):
    with np.errstate(over="ignore"):
        z = np.uint64(seed << 32) + np.uint64(t << 24) + np.arange(n, dtype=np.uint64)
        z = z + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(40)).astype(np.float64) / float(1 << 24)  # 24 bits: exact in float32


def seeded_value(name, shape, u):
    """weights ~ U(-1, 1) / sqrt(fan_in); BatchNorm weight U(0.5, 1.5), bias and mean U(-0.1, 0.1),
    var U(0.5, 1.5); biases U(-0.1, 0.1)."""
    if name.endswith("running_var") or (len(shape) == 1 and name.endswith("weight")):
        v = 0.5 + u
    elif len(shape) == 1:
        v = 0.2 * u - 0.1
    else:
        fan_in = int(np.prod(shape[1:]))
        v = (2 * u - 1) / np.sqrt(fan_in)
    return v.astype(np.float32).reshape(shape)


def seeded_state(module, seed):
    state = {}
    t = 0
    for name, tensor in module.state_dict().items():
        if name.endswith("num_batches_tracked"):
            state[name] = tensor
            continue
        u = uniform(seed, t, tensor.numel())
        state[name] = torch.from_numpy(seeded_value(name, tuple(tensor.shape), u))
        t += 1
    return state


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(23)

    nested = nn.Sequential()
    nested.add_module("features", nn.Sequential(nn.Conv2d(3, 5, 3), nn.BatchNorm2d(5), nn.ReLU(), nn.MaxPool2d(2)))
    nested.add_module("classifier", nn.Sequential(nn.Flatten(), nn.Dropout(), nn.Linear(5 * 6 * 6, 7)))
    save("nested_features", nested, torch.randn(17, 3, 14, 14))

    inner = nn.Sequential(nn.Conv2d(2, 3, 1))
    cfd = nn.Sequential(inner, nn.Flatten(), nn.Linear(3 * 4 * 4, 5))
    save("conv_flatten_dense", cfd, torch.randn(17, 2, 4, 4))

    save("one_engine", OneEngine(), torch.randn(17, 3, 6, 6))


if __name__ == "__main__":
    main()
