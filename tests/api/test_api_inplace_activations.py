"""`nn.ReLU(inplace=True)` and `F.relu(x, inplace=True)` (and the other activations' `inplace`):
torch updates the input tensor, so an alias sees the result. Compared with PyTorch eager,
traced and scripted; scripted code rebinds the name and refuses where an alias would miss it."""

from __future__ import annotations

import numpy as np
import pytest
import torch as pt
from torch_oracle import assert_same, rand

import xjit

X = rand(2, 3) * 2

INPLACE = [
    ("ReLU", ()),
    ("ReLU6", ()),
    ("LeakyReLU", (0.2,)),
    ("ELU", (0.5,)),
    ("Hardtanh", (-0.5, 0.5)),
    ("SiLU", ()),
    ("Mish", ()),
    ("SELU", ()),
    ("CELU", (0.5,)),
    ("Hardswish", ()),
    ("Hardsigmoid", ()),
    ("Threshold", (0.1, -3.0)),
]


def _block(T, name, args):
    class Block(T.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = T.nn.Linear(3, 3)
            self.act = getattr(T.nn, name)(*args, inplace=True)

        def forward(self, x):
            out = self.lin(x)
            out = self.act(out)
            return out * 2

    return Block


def _copy(src, dst) -> None:
    dst.load_state_dict(
        {k: xjit.from_numpy(v.detach().numpy().copy()) for k, v in src.state_dict().items()}
    )


@pytest.mark.parametrize("name,args", INPLACE, ids=[n for n, _ in INPLACE])
def test_inplace_module_eager_traced_scripted(name, args) -> None:
    tm = _block(pt, name, args)().eval()
    xm = _block(xjit, name, args)().eval()
    _copy(tm, xm)
    assert repr(xm.act) == repr(tm.act)
    want = tm(pt.from_numpy(X.copy()))
    x = xjit.from_numpy(X.copy())
    assert_same(xm(x), want, "eager")
    assert_same(xjit.jit.trace(xm, (x,))(x), want, "traced")
    assert_same(xjit.jit.script(xm)(x), want, "scripted")


def _aliased(T):
    class Aliased(T.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = T.nn.Linear(3, 3)
            self.relu = T.nn.ReLU(inplace=True)

        def forward(self, x):
            out = self.lin(x)
            keep = out  # torch: keep is the same tensor, so it is relu'd too
            y = self.relu(out)
            return y + keep

    return Aliased


def test_alias_sees_the_update_eager_and_traced() -> None:
    tm, xm = _aliased(pt)().eval(), _aliased(xjit)().eval()
    _copy(tm, xm)
    want = tm(pt.from_numpy(X.copy()))
    x = xjit.from_numpy(X.copy())
    assert_same(xm(x), want, "eager")
    assert_same(xjit.jit.trace(xm, (x,))(x), want, "traced")


def test_alias_sees_the_update_in_script() -> None:
    # TorchScript updates `out` in place, so `keep` changes too; so does xjit, which rebinds
    # every alias (frontends/script/alias_updates.py), not relu(out) + out
    tm, xm = _aliased(pt)().eval(), _aliased(xjit)().eval()
    _copy(tm, xm)
    with pt.no_grad():
        ts = pt.jit.script(tm)(pt.from_numpy(X.copy()))
    assert_same(ts, tm(pt.from_numpy(X.copy())), "torchscript")
    assert_same(xjit.jit.script(xm)(xjit.from_numpy(X.copy())), ts, "scripted")


def test_functional_inplace_updates_the_input() -> None:
    for T in (pt, xjit):
        x = T.from_numpy(X.copy())
        y = T.nn.functional.relu(x, inplace=True)
        assert y is x
        np.testing.assert_array_equal(np.asarray(x.numpy()), np.maximum(X, 0))
        x = T.from_numpy(X.copy())
        T.nn.functional.leaky_relu(x, 0.1, inplace=True)
        np.testing.assert_allclose(np.asarray(x.numpy()), np.where(X > 0, X, 0.1 * X), rtol=1e-6)


def test_functional_inplace_is_refused_in_script() -> None:
    class M(xjit.nn.Module):
        def forward(self, x):
            y = x * 2
            xjit.nn.functional.relu(y, inplace=True)
            return y

    with pytest.raises(xjit.jit.FrontendError, match=r"relu\(\.\.\., inplace=True\)"):
        xjit.jit.script(M())
