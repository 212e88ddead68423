"""A PyTorch model as a user would train it: the Keras tutorial CNN with BatchNorm, written
the PyTorch way (NCHW, activations as modules). tools/export_pytorch.py turns it into the
typenet type in examples/pytorch_import.cpp and the weights file next to this script."""
import torch
from torch import nn


def build():
    torch.manual_seed(3)
    model = nn.Sequential(
        nn.Conv2d(1, 16, 3, bias=False), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Dropout(0.25), nn.Linear(32 * 6 * 6, 64), nn.ReLU(), nn.Linear(64, 10), nn.Softmax(dim=1))
    # Stand-in for training: non-trivial BatchNorm statistics.
    with torch.no_grad():
        model[1].running_mean.uniform_(-0.5, 0.5)
        model[1].running_var.uniform_(0.5, 2.0)
        model[1].weight.uniform_(0.5, 1.5)
        model[1].bias.uniform_(-0.2, 0.2)
    return model.eval()


if __name__ == "__main__":
    # Writes the sample input and PyTorch's output for the example to check against.
    import os, sys
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tools"))
    from export_pytorch import write_safetensors
    m = build()
    torch.manual_seed(4)
    x = torch.rand(3, 1, 28, 28)
    with torch.no_grad():
        y = m(x)
    write_safetensors(os.path.join(os.path.dirname(__file__), "io.safetensors"), {"input": x.permute(0, 2, 3, 1), "output": y})
