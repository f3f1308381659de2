"""The forwards `xjit.jit.script` compiles for xjit.nn's recurrent layers (xjit/nn/rnn.py), in
the scriptable subset: the eager forwards check arguments in Python and share a step function
taking the mode string, which scripted code cannot call. These read the same module attributes
(`mode`, `num_layers`, `bidirectional`, `batch_first`, `bias`, weights by torch's names) and
compute the same thing; they are compiled per argument shapes (the time loop is unrolled for
the sequence length, as `torch.jit.trace` does, but a new length compiles again, never reuses).

Not for eager use: nn.RNN's own forward is the eager one (and the oracle of the tests).
"""

from __future__ import annotations

import xjit as torch
from xjit._tensor import Tensor
from xjit.nn import functional as F


def rnn_forward(self, input, hx: Tensor | None = None):  # noqa: ANN001, ANN201
    """nn.RNN / nn.GRU: (output, h_n)."""
    if input.dim() != 2 and input.dim() != 3:
        raise ValueError(f"Expected input to be 2D or 3D, got {input.dim()}D instead")
    batched = len(input.shape) == 3  # the shape: compiled per argument shapes
    x = input
    if not batched:
        x = x.unsqueeze(1)
    elif self.batch_first:
        x = x.transpose(0, 1)
    dirs = 2 if self.bidirectional else 1
    if hx is None:
        h0 = torch.zeros(self.num_layers * dirs, x.size(1), self.hidden_size, dtype=x.dtype)
    else:
        h0 = hx if batched else hx.unsqueeze(1)
    hs = []
    for layer in range(self.num_layers):
        outs = []
        for d in range(dirs):
            sfx = "_l" + str(layer) + ("_reverse" if d == 1 else "")
            w_ih = getattr(self, "weight_ih" + sfx)
            w_hh = getattr(self, "weight_hh" + sfx)
            b_ih = getattr(self, "bias_ih" + sfx) if self.bias else None
            b_hh = getattr(self, "bias_hh" + sfx) if self.bias else None
            xw = F.linear(x, w_ih, b_ih)
            h = h0[layer * dirs + d]
            seq = []
            for t in range(x.size(0)):
                hw = F.linear(h, w_hh, b_hh)
                xt = xw[x.size(0) - 1 - t] if d == 1 else xw[t]
                if self.mode == "GRU":
                    xr, xz, xn = xt.chunk(3, -1)
                    hr, hz, hn = hw.chunk(3, -1)
                    r = F.sigmoid(xr + hr)
                    z = F.sigmoid(xz + hz)
                    n = F.tanh(xn + r * hn)
                    h = (1 - z) * n + z * h
                elif self.mode == "RNN_TANH":
                    h = F.tanh(xt + hw)
                else:
                    h = F.relu(xt + hw)
                seq.append(h)
            if d == 1:
                seq.reverse()
            outs.append(torch.stack(seq))
            hs.append(h)
        x = outs[0] if dirs == 1 else torch.cat(outs, 2)
    h_n = torch.stack(hs)
    if not batched:
        return x.squeeze(1), h_n.squeeze(1)
    if self.batch_first:
        x = x.transpose(0, 1)
    return x, h_n


def lstm_forward(self, input, hx: tuple[Tensor, Tensor] | None = None):  # noqa: ANN001, ANN201
    """nn.LSTM: (output, (h_n, c_n)); `hx` is (h_0, c_0), compiled per None / not None."""
    if input.dim() != 2 and input.dim() != 3:
        raise ValueError(f"Expected input to be 2D or 3D, got {input.dim()}D instead")
    batched = len(input.shape) == 3
    x = input
    if not batched:
        x = x.unsqueeze(1)
    elif self.batch_first:
        x = x.transpose(0, 1)
    dirs = 2 if self.bidirectional else 1
    if hx is None:
        zero = torch.zeros(self.num_layers * dirs, x.size(1), self.hidden_size, dtype=x.dtype)
        h0 = zero
        c0 = zero
    else:
        h0, c0 = hx
        if not batched:
            h0 = h0.unsqueeze(1)
            c0 = c0.unsqueeze(1)
    hs = []
    cs = []
    for layer in range(self.num_layers):
        outs = []
        for d in range(dirs):
            sfx = "_l" + str(layer) + ("_reverse" if d == 1 else "")
            w_ih = getattr(self, "weight_ih" + sfx)
            w_hh = getattr(self, "weight_hh" + sfx)
            b_ih = getattr(self, "bias_ih" + sfx) if self.bias else None
            b_hh = getattr(self, "bias_hh" + sfx) if self.bias else None
            xw = F.linear(x, w_ih, b_ih)
            h = h0[layer * dirs + d]
            c = c0[layer * dirs + d]
            seq = []
            for t in range(x.size(0)):
                xt = xw[x.size(0) - 1 - t] if d == 1 else xw[t]
                i, f, g, o = (xt + F.linear(h, w_hh, b_hh)).chunk(4, -1)
                c = F.sigmoid(f) * c + F.sigmoid(i) * F.tanh(g)
                h = F.sigmoid(o) * F.tanh(c)
                seq.append(h)
            if d == 1:
                seq.reverse()
            outs.append(torch.stack(seq))
            hs.append(h)
            cs.append(c)
        x = outs[0] if dirs == 1 else torch.cat(outs, 2)
    h_n = torch.stack(hs)
    c_n = torch.stack(cs)
    if not batched:
        return x.squeeze(1), (h_n.squeeze(1), c_n.squeeze(1))
    if self.batch_first:
        x = x.transpose(0, 1)
    return x, (h_n, c_n)


def cell_forward(self, input, hx: Tensor | None = None):  # noqa: ANN001, ANN201
    """nn.RNNCell / nn.GRUCell: h'."""
    if input.dim() != 1 and input.dim() != 2:
        raise ValueError(f"Expected input to be 1D or 2D, got {input.dim()}D instead")
    batched = len(input.shape) == 2
    x = input if batched else input.unsqueeze(0)
    if hx is None:
        h = torch.zeros(x.size(0), self.hidden_size, dtype=x.dtype)
    else:
        h = hx if batched else hx.unsqueeze(0)
    xw = F.linear(x, self.weight_ih, self.bias_ih)
    hw = F.linear(h, self.weight_hh, self.bias_hh)
    if self.mode == "GRU":
        xr, xz, xn = xw.chunk(3, -1)
        hr, hz, hn = hw.chunk(3, -1)
        r = F.sigmoid(xr + hr)
        z = F.sigmoid(xz + hz)
        n = F.tanh(xn + r * hn)
        h = (1 - z) * n + z * h
    elif self.mode == "RNN_TANH":
        h = F.tanh(xw + hw)
    else:
        h = F.relu(xw + hw)
    return h if batched else h.squeeze(0)


def lstm_cell_forward(self, input, hx: tuple[Tensor, Tensor] | None = None):  # noqa: ANN001, ANN201
    """nn.LSTMCell: (h', c'); `hx` is (h, c), compiled per None / not None."""
    if input.dim() != 1 and input.dim() != 2:
        raise ValueError(f"Expected input to be 1D or 2D, got {input.dim()}D instead")
    batched = len(input.shape) == 2
    x = input if batched else input.unsqueeze(0)
    if hx is None:
        h = torch.zeros(x.size(0), self.hidden_size, dtype=x.dtype)
        c = h
    else:
        h, c = hx
        if not batched:
            h = h.unsqueeze(0)
            c = c.unsqueeze(0)
    gates = F.linear(x, self.weight_ih, self.bias_ih) + F.linear(h, self.weight_hh, self.bias_hh)
    i, f, g, o = gates.chunk(4, -1)
    c = F.sigmoid(f) * c + F.sigmoid(i) * F.tanh(g)
    h = F.sigmoid(o) * F.tanh(c)
    if batched:
        return h, c
    return h.squeeze(0), c.squeeze(0)


SCRIPTED_FORWARD = {
    "RNN": rnn_forward,
    "GRU": rnn_forward,
    "LSTM": lstm_forward,
    "RNNCell": cell_forward,
    "GRUCell": cell_forward,
    "LSTMCell": lstm_cell_forward,
}
