#!/usr/bin/python3
"""Exports torchvision's models (their own definitions, random weights, eval mode) to ONNX at
224x224, batch 1 and 8, for bench/zoo_ort.mjs: the peer's side of bench/zoo.cpp.

    /usr/bin/python3 bench/zoo_onnx.py OUT_DIR
"""
import os
import sys

import torch
import torchvision

MODELS = ["resnet18", "resnet50", "mobilenet_v2", "mobilenet_v3_small", "mobilenet_v3_large", "efficientnet_b0",
          "squeezenet1_1", "shufflenet_v2_x1_0", "vgg11"]
BATCHES = {name: [1, 8] for name in ["resnet18", "resnet50", "mobilenet_v2", "mobilenet_v3_large", "efficientnet_b0"]}


def main(out):
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    for name in MODELS:
        model = getattr(torchvision.models, name)().eval()
        for n in BATCHES.get(name, [1]):
            path = os.path.join(out, f"{name}_b{n}.onnx")
            if os.path.exists(path):
                continue
            x = torch.rand(n, 3, 224, 224)
            torch.onnx.export(model, (x,), path, opset_version=13, do_constant_folding=True, input_names=["x"],
                              output_names=["y"])
            print("exported", path)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "/tmp/typenet-zoo-onnx")
