"""Scripting xjit.nn's recurrent layers and cells (nn.RNN/GRU/LSTM, nn.RNNCell/GRUCell/
LSTMCell), as torch.jit.script scripts PyTorch's: the same weights give the same results as
torch.jit.script of torch.nn's module and as eager xjit. xjit compiles them per argument shapes
(xjit/nn/rnn_scripted.py): the time loop is unrolled for each sequence length."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch as real_torch
from script_oracle import load, to_torch

import xjit

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

X3 = xjit.randn(3, 2, 3)  # (L, N, H_in)
X2 = xjit.randn(2, 3)  # unbatched (L, H_in)
H = xjit.randn(2, 2, 4)  # (layers * dirs, N, H)


def _flat(v: Any) -> list[Any]:
    return [a for b in v for a in _flat(b)] if isinstance(v, tuple) else [v]


def _same(got: Any, want: Any, eager: Any) -> None:
    g, w, e = _flat(got), _flat(want), _flat(eager)
    assert len(g) == len(w) == len(e)
    for a, b, c in zip(g, w, e, strict=True):
        np.testing.assert_allclose(a.numpy(), b.detach().numpy(), rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(c.numpy(), b.detach().numpy(), rtol=1e-4, atol=1e-5)


def _pair(cls: str, kw: dict[str, Any]) -> tuple[Any, Any]:
    ours = getattr(xjit.nn, cls)(3, 4, **kw).eval()
    theirs = getattr(real_torch.nn, cls)(3, 4, **kw).eval()
    theirs.load_state_dict({k: to_torch(v) for k, v in ours.state_dict().items()})
    return ours, theirs


@pytest.mark.parametrize(
    ("cls", "kw", "args"),
    [
        ("RNN", {}, (X3,)),
        ("RNN", {"nonlinearity": "relu", "bias": False}, (X3,)),
        ("RNN", {"num_layers": 2}, (X2, H[:, 0])),
        ("GRU", {"num_layers": 2}, (X3, H)),
        ("GRU", {"bidirectional": True, "batch_first": True}, (X3,)),
        ("GRU", {}, (X2,)),
        ("LSTM", {}, (X3,)),
        ("LSTM", {"num_layers": 2, "bidirectional": True}, (X3,)),
        ("LSTM", {"batch_first": True}, (X2,)),
    ],
)
def test_recurrent_layers(cls: str, kw: dict[str, Any], args: tuple[Any, ...]) -> None:
    ours, theirs = _pair(cls, kw)
    # (torch 2.13's scripted nn.GRU/LSTM has no callable `forward` of its own: the oracle is
    # torch's module eagerly here, and torch.jit.script of a module holding one below)
    scripted = xjit.jit.script(ours)
    _same(scripted(*args), theirs(*to_torch(args)), ours(*args))
    if not kw:  # another sequence length compiles again (the loop is unrolled per length)
        longer = (xjit.cat([args[0], args[0]]), *args[1:])
        _same(scripted(*longer), theirs(*to_torch(longer)), ours(*longer))


@pytest.mark.parametrize(
    ("cls", "kw", "args"),
    [
        ("RNNCell", {}, (xjit.randn(2, 3),)),
        ("RNNCell", {"nonlinearity": "relu"}, (xjit.randn(2, 3), xjit.randn(2, 4))),
        ("GRUCell", {}, (xjit.randn(3), xjit.randn(4))),
        ("GRUCell", {"bias": False}, (xjit.randn(2, 3),)),
        ("LSTMCell", {}, (xjit.randn(2, 3),)),
        ("LSTMCell", {"bias": False}, (xjit.randn(3),)),
    ],
)
def test_cells(cls: str, kw: dict[str, Any], args: tuple[Any, ...]) -> None:
    ours, theirs = _pair(cls, kw)
    want = real_torch.jit.script(theirs)(*to_torch(args))
    _same(xjit.jit.script(ours)(*args), want, ours(*args))


SRC = """
class Encoder(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = torch.nn.GRU(3, 4, num_layers=2)
        self.cell = torch.nn.LSTMCell(4, 2)

    def forward(self, x):
        y, h = self.rnn(x)
        hc, cc = self.cell(y[-1])
        return y.sum(0) + h[0], hc * cc
"""


def test_recurrent_submodules_of_a_scripted_module() -> None:
    ours = load(SRC, xjit)["Encoder"]().eval()
    theirs = load(SRC, real_torch)["Encoder"]().eval()
    theirs.load_state_dict({k: to_torch(v) for k, v in ours.state_dict().items()})
    want = real_torch.jit.script(theirs)(to_torch(X3))
    _same(xjit.jit.script(ours)(X3), want, ours(X3))
