"""`nn.utils.weight_norm` / `spectral_norm` (eager; traced in eval mode) and
`clip_grad_norm_` / `clip_grad_value_` against torch 2.13: state_dict names, outputs with
torch's parameters and buffers loaded, spectral norm's power iteration in training mode, and
the remove_* functions."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch as pt
from torch_oracle import assert_same, rand

import xjit

LAYERS = [
    (lambda T: T.nn.Linear(5, 4), (3, 5)),
    (lambda T: T.nn.Conv2d(3, 4, 2), (2, 3, 5, 5)),
    (lambda T: T.nn.ConvTranspose2d(3, 4, 2), (2, 3, 4, 4)),
]


def _copy(tm, xm) -> None:
    xm.load_state_dict(
        {k: xjit.from_numpy(v.detach().numpy().copy()) for k, v in tm.state_dict().items()}
    )


def _weight_norm(T, m, dim):
    with warnings.catch_warnings():  # torch deprecates the function in favour of parametrizations
        warnings.simplefilter("ignore", FutureWarning)
        return T.nn.utils.weight_norm(m, dim=dim)


@pytest.mark.parametrize("make,shape", LAYERS, ids=["linear", "conv", "convtranspose"])
@pytest.mark.parametrize("dim", [0, 1, None])
def test_weight_norm(make, shape, dim) -> None:
    tm = _weight_norm(pt, make(pt), dim)
    with pt.no_grad():
        tm.weight_g.mul_(1.5)  # g no longer the norm of v: the weight changes
    xm = _weight_norm(xjit, make(xjit), dim)
    assert list(xm.state_dict()) == list(tm.state_dict())
    assert repr(xm) == repr(tm) and isinstance(xm, type(make(xjit)))
    _copy(tm, xm)
    x = rand(*shape)
    want = tm(pt.from_numpy(x))
    assert_same(xm(xjit.from_numpy(x)), want, "eager")
    assert_same(xm.weight, tm.weight, "weight")
    assert_same(xjit.jit.trace(xm, (xjit.from_numpy(x),))(xjit.from_numpy(x)), want, "traced")
    pt.nn.utils.remove_weight_norm(tm)
    xjit.nn.utils.remove_weight_norm(xm)
    assert list(xm.state_dict()) == list(tm.state_dict())
    assert type(xm) is type(make(xjit))
    assert_same(xm(xjit.from_numpy(x)), tm(pt.from_numpy(x)), "removed")


@pytest.mark.parametrize("make,shape", LAYERS, ids=["linear", "conv", "convtranspose"])
def test_spectral_norm(make, shape) -> None:
    tm = pt.nn.utils.spectral_norm(make(pt), n_power_iterations=2)
    xm = xjit.nn.utils.spectral_norm(make(xjit), n_power_iterations=2)
    assert list(xm.state_dict()) == list(tm.state_dict())
    assert [tuple(v.shape) for v in xm.state_dict().values()] == [
        tuple(v.shape) for v in tm.state_dict().values()
    ]
    _copy(tm, xm)
    x = rand(*shape)
    # training mode: the power iteration updates u and v in place, then normalises
    assert_same(xm(xjit.from_numpy(x)), tm(pt.from_numpy(x)), "train")
    assert_same(xm.weight_u, tm.weight_u, "u")
    assert_same(xm.weight_v, tm.weight_v, "v")
    tm.eval()
    xm.eval()
    want = tm(pt.from_numpy(x))
    assert_same(xm(xjit.from_numpy(x)), want, "eval")
    assert_same(xjit.jit.trace(xm, (xjit.from_numpy(x),))(xjit.from_numpy(x)), want, "traced")
    pt.nn.utils.remove_spectral_norm(tm)
    xjit.nn.utils.remove_spectral_norm(xm)
    assert list(xm.state_dict()) == list(tm.state_dict())
    assert_same(xm(xjit.from_numpy(x)), tm(pt.from_numpy(x)), "removed")


def test_refusals() -> None:
    m = xjit.nn.utils.spectral_norm(xjit.nn.Linear(3, 2))
    with pytest.raises(NotImplementedError, match="power iteration"):
        xjit.jit.trace(m, (xjit.ones(1, 3),))
    with pytest.raises(ValueError, match="no parameter 'weight'"):
        xjit.nn.utils.weight_norm(m, "weight")  # weight is no longer a parameter
    with pytest.raises(ValueError, match="weight_norm of 'weight' not found"):
        xjit.nn.utils.remove_weight_norm(xjit.nn.Linear(2, 2))
    with pytest.raises(ValueError, match="no parameter 'bias'"):
        xjit.nn.utils.weight_norm(xjit.nn.Linear(2, 2, bias=False), "bias")


def test_clip_grad_without_gradients() -> None:
    """xjit has no autograd: no parameter has a gradient, so (as torch for such parameters)
    the total norm is 0 and nothing changes."""
    xm, tm = xjit.nn.Linear(3, 2), pt.nn.Linear(3, 2)
    before = xm.weight.numpy().copy()
    got = xjit.nn.utils.clip_grad_norm_(xm.parameters(), 1.0)
    assert_same(got, pt.nn.utils.clip_grad_norm_(tm.parameters(), 1.0), "total norm")
    assert xjit.nn.utils.clip_grad_value_(xm.parameters(), 0.1) is None
    assert np.array_equal(xm.weight.numpy(), before)
