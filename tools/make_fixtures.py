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


def write_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().to(torch.float32).contiguous()
        data = t.numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


class Dense:
    """A typenet Dense: nn.Linear's parameters plus an activation."""

    def __init__(self, fan_in, units, act="linear", bias=True):
        lin = torch.nn.Linear(fan_in, units, bias=bias)
        self.w = lin.weight.detach().clone()
        self.b = lin.bias.detach().clone() if bias else None
        self.act = act

    def params(self, prefix):
        p = {prefix + "weight": self.w}
        if self.b is not None:
            p[prefix + "bias"] = self.b
        return p

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


if __name__ == "__main__":
    main()
