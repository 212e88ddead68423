#!/usr/bin/python3
"""Golden fixtures for the sequence layers, from PyTorch's own nn.RNN, nn.GRU, nn.LSTM and
nn.Conv1d (state_dict names as they are):

    /usr/bin/python3 tools/sequence_fixtures.py

Each model is a module whose children are "0", "1", ... as in the typenet Sequential that
spells it; sequences are batch-first [N, T, F] (typenet's channels-last [T, F] per sample).
<name>.weights.safetensors is the state_dict; <name>.io.safetensors holds "input", "output"
and, where a model starts from a given state, "h0" (and "c0") as PyTorch takes them.
"""
import os

import torch
import torch.nn as nn

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


def randomize(module, scale=0.5):
    with torch.no_grad():
        for p in module.parameters():
            p.uniform_(-scale, scale)
    return module


def save(name, module, x, h0=None):
    module = randomize(module)
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


if __name__ == "__main__":
    main()
