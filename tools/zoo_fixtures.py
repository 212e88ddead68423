#!/usr/bin/python3
"""Golden fixtures for examples/zoo/: torchvision's own model definitions at 224x224, batch 3,
with weights AND inputs drawn by the seeded generator of tools/ir_fixtures.py (which
tests/model/torchvision.hpp implements too), so that only small files are committed:

    /usr/bin/python3 tools/zoo_fixtures.py [model ...]

For each model: zoo_<model>.names.txt (the state_dict's names and shapes, in its order) and
zoo_<model>.out.safetensors ("output" [3, classes], computed in float64). The weights (5 to
530 MB) and the 1.8 MB input never leave the generator.

The input: element j of the NCHW tensor [3, 3, 224, 224] is 2 u - 1 with u = uniform(seed, 0,
j) below; the weights: tensor t of the state_dict is seeded_value(uniform(seed, t, .)).
"""
import os
import sys

import numpy as np
import torch
import torchvision

from export_pytorch import write_safetensors
from ir_fixtures import OUT, seeded_state, uniform

# model -> seed (weights: seed; input: seed + 1000)
MODELS = {
    "resnet18": 18,
    "resnet50": 50,
    "mobilenet_v2": 2,
    "mobilenet_v3_small": 3,
    "mobilenet_v3_large": 4,
    "efficientnet_b0": 7,
    "squeezenet1_1": 11,
    "shufflenet_v2_x1_0": 21,
    "vgg11": 111,
}
BATCH, SIZE = 3, 224


def seeded_input(seed):
    n = BATCH * 3 * SIZE * SIZE
    return torch.from_numpy((2 * uniform(seed + 1000, 0, n) - 1).astype(np.float32).reshape(BATCH, 3, SIZE, SIZE))


def main(names):
    for name in names:
        seed = MODELS[name]
        model = getattr(torchvision.models, name)().eval()
        model.load_state_dict(seeded_state(model, seed))
        with open(os.path.join(OUT, "zoo_" + name + ".names.txt"), "w") as f:
            for key, tensor in model.state_dict().items():
                f.write(key + " " + ",".join(str(d) for d in tensor.shape) + "\n")
        with torch.no_grad():
            y = model.double()(seeded_input(seed).double()).float()
        write_safetensors(os.path.join(OUT, "zoo_" + name + ".out.safetensors"), {"output": y})
        print(name, tuple(y.shape), "max |y| %.4g" % float(y.abs().max()), "std %.4g" % float(y.std()))


if __name__ == "__main__":
    main(sys.argv[1:] or list(MODELS))
