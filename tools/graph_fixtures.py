#!/usr/bin/python3
"""Golden fixtures for graph models (issue: functional graphs), written with real PyTorch
modules whose parameter names are the typenet model's. Run by make_fixtures.py, or alone:
    /usr/bin/python3 tools/graph_fixtures.py

<name>.weights.safetensors: the module's state_dict (float32; BatchNorm's num_batches_tracked
included, as a real export has it). <name>.io.safetensors: "input.<name>" for each model input
and "output.<name>" for each output (NHWC where spatial), computed in float64 by a double copy
of the module in eval mode.
"""
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

from export_pytorch import write_safetensors

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures")
BATCH = 5


def randomize(module):
    """Non-trivial parameters and BatchNorm statistics, so that folding is really tested."""
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.uniform_(0.6, 1.4)
                m.bias.uniform_(-0.3, 0.3)
                m.running_mean.uniform_(-0.3, 0.3)
                m.running_var.uniform_(0.5, 1.5)
    return module.eval()


def nhwc(t):
    return t.permute(0, 2, 3, 1).contiguous() if t.dim() == 4 else t


def nchw(t):
    return t.permute(0, 3, 1, 2).contiguous() if t.dim() == 4 else t


def save(name, module, inputs, output_names):
    """inputs: {name: NHWC/flat float32 tensor}; the module takes them as keyword arguments in
    NCHW and returns a tensor or a tuple in the order of output_names."""
    module = randomize(module)
    write_safetensors(os.path.join(OUT, name + ".weights.safetensors"),
                      {k: v.detach().contiguous() for k, v in module.state_dict().items()})
    ref = module.double()
    with torch.no_grad():
        out = ref(**{k: nchw(v).double() for k, v in inputs.items()})
    if not isinstance(out, tuple):
        out = (out,)
    tensors = {"input." + k: v for k, v in inputs.items()}
    tensors.update({"output." + n: nhwc(o).float() for n, o in zip(output_names, out)})
    write_safetensors(os.path.join(OUT, name + ".io.safetensors"), tensors)


class Residual(nn.Module):
    """typenet's Residual<F, [Projection<P>,] relu>, named as torchvision names its blocks: the
    body is seen through (a Sequential body's layers are the block's own children "0", "1", ...)
    and the projection is "downsample"."""

    def __init__(self, body, projection=None):
        super().__init__()
        self.body = list(body) if isinstance(body, nn.Sequential) else [body]
        for i, m in enumerate(self.body):
            self.add_module(str(i), m)
        self.downsample = projection

    def forward(self, x):
        shortcut = self.downsample(x) if self.downsample is not None else x
        y = x
        for m in self.body:
            y = m(y)
        return F.relu(shortcut + y)


def basic_body(cin, cout, stride):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(),
                         nn.Conv2d(cout, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout))


class Branch(nn.Module):
    """typenet's Branch<Concat<>, paths...>: children "0", "1", ...; concatenated on channels."""

    def __init__(self, *paths):
        super().__init__()
        for i, p in enumerate(paths):
            self.add_module(str(i), p)

    def forward(self, x):
        return torch.cat([p(x) for p in self.children()], dim=1)


class Seq(nn.Sequential):
    def forward(self, x):  # keyword input, as save() passes it
        return super().forward(x)


class SeqIn(nn.Module):
    def __init__(self, *layers):
        super().__init__()
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)

    def state_dict(self, *a, **k):  # typenet names: the Sequential's own
        return self.net.state_dict(*a, **k)


class TwoInputs(nn.Module):
    def __init__(self):
        super().__init__()
        self.img_fc, self.tab_fc, self.head = nn.Linear(784, 64), nn.Linear(10, 32), nn.Linear(96, 10)

    def forward(self, image, tabular):
        x = torch.cat([F.relu(self.img_fc(image)), F.relu(self.tab_fc(tabular))], dim=1)
        return F.softmax(self.head(x), dim=-1)


class TwoOutputs(nn.Module):
    def __init__(self):
        super().__init__()
        self.shared, self.aux = nn.Linear(784, 16), nn.Linear(16, 4)
        self.main_fc, self.main = nn.Linear(16, 32), nn.Linear(32, 10)

    def forward(self, image):
        h = F.relu(self.shared(image.flatten(1)))
        return F.softmax(self.aux(h), dim=-1), F.softmax(self.main(F.relu(self.main_fc(h))), dim=-1)


class Siamese(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder, self.score = nn.Linear(64, 32), nn.Linear(32, 1)

    def forward(self, a, b):
        return torch.sigmoid(self.score(torch.abs(torch.tanh(self.encoder(a)) - torch.tanh(self.encoder(b)))))


class UNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc1, self.enc2 = nn.Conv2d(3, 8, 3, padding=1), nn.Conv2d(8, 16, 3, padding=1)
        self.bottleneck = nn.Conv2d(16, 32, 3, padding=1)
        self.dec2 = nn.Conv2d(48, 16, 3, padding=1)
        self.up1 = nn.ConvTranspose2d(16, 8, 2, stride=2)
        self.dec1 = nn.Conv2d(16, 8, 3, padding=1)
        self.head = nn.Conv2d(8, 2, 1)

    def forward(self, image):
        e1 = F.relu(self.enc1(image))
        e2 = F.relu(self.enc2(F.max_pool2d(e1, 2)))
        b = F.relu(self.bottleneck(F.max_pool2d(e2, 2)))
        d2 = F.relu(self.dec2(torch.cat([F.interpolate(b, scale_factor=2, mode="nearest"), e2], dim=1)))
        d1 = F.relu(self.dec1(torch.cat([self.up1(d2), e1], dim=1)))
        return torch.sigmoid(self.head(d1))


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(11)
    # Two ResNet basic blocks with BatchNorm: identity shortcut, then stride 2 with a 1x1 projection.
    resnet = SeqIn(Residual(basic_body(8, 8, 1)),
                   Residual(basic_body(8, 16, 2), nn.Sequential(nn.Conv2d(8, 16, 1, 2, bias=False), nn.BatchNorm2d(16))))
    save("resnet_block", resnet, {"x": torch.randn(BATCH, 12, 10, 8)}, ["y"])
    # An Inception module: four paths concatenated on channels.
    inception = SeqIn(Branch(nn.Sequential(nn.Conv2d(6, 4, 1), nn.ReLU()),
                             nn.Sequential(nn.Conv2d(6, 3, 1), nn.ReLU(), nn.Conv2d(3, 5, 3, padding=1), nn.ReLU()),
                             nn.Sequential(nn.Conv2d(6, 2, 1), nn.ReLU(), nn.Conv2d(2, 3, 5, padding=2), nn.ReLU()),
                             nn.Sequential(nn.MaxPool2d(3, 1, 1), nn.Conv2d(6, 2, 1), nn.ReLU())))
    save("inception", inception, {"x": torch.randn(BATCH, 9, 9, 6)}, ["y"])
    save("two_inputs", TwoInputs(), {"image": torch.rand(BATCH, 784), "tabular": torch.randn(BATCH, 10)}, ["head"])
    save("two_outputs", TwoOutputs(), {"image": torch.rand(BATCH, 28, 28)}, ["aux", "main"])
    save("siamese", Siamese(), {"a": torch.randn(BATCH, 64), "b": torch.randn(BATCH, 64)}, ["score"])
    save("unet", UNet(), {"image": torch.randn(BATCH, 16, 16, 3)}, ["head"])


if __name__ == "__main__":
    main()
