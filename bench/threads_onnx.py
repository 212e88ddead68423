#!/usr/bin/python3
"""Exports the Keras tutorial CNN and ResNet-20 (CIFAR-10), written in PyTorch as
examples/tutorial_cnn.hpp and examples/resnet20.hpp write them (random weights, eval mode), to
ONNX at batch 1 and 64, for bench/zoo_ort.mjs with THREADS=1 and 2: the peer's side of
bench/threads.cpp. Each model gets a <name>.json with its input and output shapes.

    /usr/bin/python3 bench/threads_onnx.py OUT_DIR
"""
import json
import os
import sys

import torch
from torch import nn


def keras_cnn():
    return nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(1600, 128), nn.ReLU(), nn.Linear(128, 10), nn.Softmax(dim=1))


class Block(nn.Module):
    def __init__(self, cin, c, stride):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(cin, c, 3, stride, 1, bias=False), nn.BatchNorm2d(c), nn.ReLU(),
                                  nn.Conv2d(c, c, 3, 1, 1, bias=False), nn.BatchNorm2d(c))
        self.shortcut = (nn.Sequential(nn.Conv2d(cin, c, 1, stride, bias=False), nn.BatchNorm2d(c))
                         if stride != 1 or cin != c else nn.Identity())

    def forward(self, x):
        return torch.relu(self.body(x) + self.shortcut(x))


def resnet20():
    layers = [nn.Conv2d(3, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU()]
    cin = 16
    for c, stride in [(16, 1), (32, 2), (64, 2)]:
        for i in range(3):
            layers.append(Block(cin, c, stride if i == 0 else 1))
            cin = c
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10), nn.Softmax(dim=1)]
    return nn.Sequential(*layers)


def main(out):
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    for name, model, shape in [("cnn28", keras_cnn(), (1, 28, 28)), ("resnet20", resnet20(), (3, 32, 32))]:
        model.eval()
        for n in [1, 64]:
            path = os.path.join(out, f"{name}_b{n}.onnx")
            with open(os.path.join(out, f"{name}_b{n}.json"), "w") as f:
                json.dump({"input": [n, *shape], "output": [n, 10]}, f)
            if os.path.exists(path):
                continue
            torch.onnx.export(model, (torch.rand(n, *shape),), path, opset_version=13, do_constant_folding=True,
                              input_names=["x"], output_names=["y"])
            print("exported", path)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "/tmp/typenet-threads-onnx")
