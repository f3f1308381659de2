"""nn modules of the scripting issue: torch's constructors, reprs and parameter names; eager vs
numpy; traced and scripted (Sequential iteration, `for m in self.layers`) vs eager."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import xjit as torch
from xjit.backends.numpy.diagnostics import XjitPerformanceWarning


class Net(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.emb = torch.nn.Embedding(10, 4, padding_idx=0)
        self.seq = torch.nn.Sequential(
            torch.nn.Linear(4, 4), torch.nn.GELU(), torch.nn.Dropout(0.1), torch.nn.Identity()
        )
        self.ln = torch.nn.LayerNorm(4)
        self.layers = torch.nn.ModuleList([torch.nn.Linear(4, 4) for _ in range(2)])
        self.sm = torch.nn.Softmax(dim=-1)

    def forward(self, idx):
        x = self.emb(idx)
        x = self.seq(x)
        for m in self.layers:
            x = m(x)
        return self.sm(self.ln(x))


def test_reprs_and_parameter_names() -> None:
    net = Net()
    assert repr(net.emb) == "Embedding(10, 4, padding_idx=0)"
    assert repr(net.ln) == "LayerNorm((4,), eps=1e-05, elementwise_affine=True, bias=True)"
    assert repr(net.sm) == "Softmax(dim=-1)"
    assert repr(torch.nn.GELU()) == "GELU(approximate='none')"
    assert repr(torch.nn.Dropout()) == "Dropout(p=0.5, inplace=False)"
    assert repr(torch.nn.Identity()) == "Identity()"
    assert "(seq): Sequential(\n    (0): Linear(in_features=4, out_features=4, bias=True)" in repr(
        net
    )
    assert [n for n, _ in net.named_parameters()] == [
        "emb.weight",
        "seq.0.weight",
        "seq.0.bias",
        "ln.weight",
        "ln.bias",
        "layers.0.weight",
        "layers.0.bias",
        "layers.1.weight",
        "layers.1.bias",
    ]
    assert np.all(net.emb.weight.numpy()[0] == 0)
    assert len(net.seq) == 4 and isinstance(net.seq[-1], torch.nn.Identity)
    assert len(net.layers) == 2 and isinstance(net.seq[1:], torch.nn.Sequential)


def test_modules_against_numpy() -> None:
    x = torch.rand(2, 3, 4)
    a = x.numpy()
    ln = torch.nn.LayerNorm(4)
    mu = a.mean(-1, keepdims=True)
    ref = (a - mu) / np.sqrt(((a - mu) ** 2).mean(-1, keepdims=True) + 1e-5)
    np.testing.assert_allclose(ln(x).numpy(), ref, rtol=1e-5, atol=1e-6)
    e = np.exp(a - a.max(1, keepdims=True))
    np.testing.assert_allclose(
        torch.nn.Softmax(1)(x).numpy(), e / e.sum(1, keepdims=True), rtol=1e-6
    )
    np.testing.assert_array_equal(torch.nn.Dropout(0.3).eval()(x).numpy(), a)
    with pytest.raises(NotImplementedError):
        torch.nn.Dropout(0.3)(x)  # training mode


@pytest.mark.parametrize("mode", ["trace", "script"])
def test_net_compiled_matches_eager(mode: str) -> None:
    torch.manual_seed(0)
    net = Net().eval()
    idx = torch.tensor([[1, 2, 3], [9, 0, 4]])
    with warnings.catch_warnings():
        warnings.simplefilter("error", XjitPerformanceWarning)
        c = torch.jit.trace(net, (idx,)) if mode == "trace" else torch.jit.script(net)
        got = c(idx)
    np.testing.assert_allclose(got.numpy(), net(idx).numpy(), rtol=1e-5, atol=1e-6)
