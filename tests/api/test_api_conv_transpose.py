"""Transposed convolution (issue 12): F.conv_transpose1d/2d, `convolution(transposed=True)` and
nn.ConvTranspose1d/2d against real PyTorch, eager, traced (compiled) and scripted, on a grid of
strides, paddings, output paddings, dilations and groups; the compiled form is vectorized."""

from __future__ import annotations

import itertools
import re
from typing import Any

import numpy as np
import pytest
import torch as pt
from torch_oracle import assert_same, check, rand

import xjit
from xjit.ops.types import ShapeError


def _grid() -> list[Any]:
    cases = []
    for n, s, p, op, d, g in itertools.product([1, 2], [1, 2, 3], [0, 2], [0, 1], [1, 2], [1, 2]):
        if op < s or op < d:  # torch: output_padding below stride or dilation
            cases.append(pytest.param(n, s, p, op, d, g, id=f"{n}d-s{s}-p{p}-op{op}-d{d}-g{g}"))
    return cases


@pytest.mark.parametrize(("n", "s", "p", "op", "d", "g"), _grid())
def test_functional_grid(n: int, s: int, p: int, op: int, d: int, g: int) -> None:
    x = rand(2, 4, *(5, 4)[:n], seed=1)
    w = rand(4, 6 // g, *(3, 2)[:n], seed=2)
    b = rand(6, seed=3)

    def fn(T: Any, x: Any, w: Any, b: Any) -> Any:
        f = getattr(T.nn.functional, f"conv_transpose{n}d")
        return f(x, w, b, s, p, op, g, d)

    check(fn, x, w, b)


@pytest.mark.parametrize(
    "fn",
    [
        # per-dim tuples, keywords, no bias, an unbatched input
        lambda T, x, w: T.nn.functional.conv_transpose2d(
            x, w, stride=(2, 3), padding=(1, 0), output_padding=(1, 2), dilation=(1, 1)
        ),
        lambda T, x, w: T.nn.functional.conv_transpose2d(x[0], w, None, 2, 1, 1),
        lambda T, x, w: T.nn.functional.conv_transpose2d(x, w, padding=(3, 2), dilation=(2, 1)),
        # padding beyond dilation*(kernel-1): the result is cropped
        lambda T, x, w: T.nn.functional.conv_transpose2d(x, w, None, 3, 3),
        lambda T, x, w: T.convolution(x, w, None, [2, 1], [1, 0], [1, 2], True, [1, 0], 1),
    ],
)
def test_functional_forms(fn: Any) -> None:
    check(fn, rand(2, 3, 6, 5, seed=4), rand(3, 2, 3, 4, seed=5))


def _autoencoder(T: Any) -> Any:
    nn = T.nn

    class AE(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.enc = nn.Conv2d(3, 8, 3, stride=2, padding=1)
            self.dec = nn.ConvTranspose2d(8, 4, 3, stride=2, padding=1, output_padding=1, groups=2)
            self.out = nn.ConvTranspose2d(4, 3, (2, 3), dilation=(2, 1), bias=False)
            self.dec1 = nn.ConvTranspose1d(3, 2, 2, stride=3, padding=1)

        def forward(self, x):
            y = self.out(T.relu(self.dec(T.relu(self.enc(x)))))
            return self.dec1(y.flatten(2))

    return AE()


def test_modules_match_torch_eager_traced_scripted() -> None:
    pt.manual_seed(0)
    t = _autoencoder(pt).eval()
    x = _autoencoder(xjit).eval()
    assert repr(x) == repr(t)
    sd = t.state_dict()
    assert list(x.state_dict()) == list(sd)
    for k, v in x.state_dict().items():
        assert tuple(v.shape) == tuple(sd[k].shape), k
    x.load_state_dict({k: v.numpy() for k, v in sd.items()})
    a = rand(2, 3, 8, 6, seed=6)
    with pt.no_grad():
        want = t(pt.from_numpy(a))
        want_script = pt.jit.script(t)(pt.from_numpy(a))
    assert_same(x(xjit.from_numpy(a)), want, "eager")
    traced = xjit.jit.trace(x, (xjit.from_numpy(a),))
    assert_same(traced(xjit.from_numpy(a)), want, "traced")
    assert_same(xjit.jit.script(x)(xjit.from_numpy(a)), want_script, "scripted")


def test_output_size_picks_output_padding() -> None:
    pt.manual_seed(1)
    t = pt.nn.ConvTranspose2d(3, 2, 3, stride=(2, 3))
    x = xjit.nn.ConvTranspose2d(3, 2, 3, stride=(2, 3))
    x.load_state_dict({k: v.numpy() for k, v in t.state_dict().items()})
    a = rand(1, 3, 4, 4, seed=7)
    for size in ([10, 13], [1, 2, 9, 14]):
        with pt.no_grad():
            want = t(pt.from_numpy(a), output_size=size)
        assert_same(x(xjit.from_numpy(a), output_size=size), want, f"output_size={size}")
    with pytest.raises(ValueError):
        t(pt.from_numpy(a), output_size=[12, 10])
    with pytest.raises(ValueError, match="not reachable"):
        x(xjit.from_numpy(a), output_size=[12, 10])


def test_compiled_transposed_convolution_is_vectorized() -> None:
    """Zero insertion, padding and im2col are whole-array ops: no Python loop over pixels."""
    conv = xjit.nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1)
    a = rand(2, 4, 7, 5, seed=8)
    traced = xjit.jit.trace(conv, (xjit.from_numpy(a),))
    src = traced.forward.source
    assert not re.search(r"^\s*for ", src, re.M), src
    assert_same(traced(xjit.from_numpy(a)), conv(xjit.from_numpy(a)), "traced")


@pytest.mark.parametrize(
    ("fn", "message"),
    [
        (lambda T, x: T.nn.functional.conv_transpose2d(x, T.ones(2, 3, 3, 3)), r"channels"),
        (
            lambda T, x: T.nn.functional.conv_transpose2d(x, T.ones(4, 3, 3, 3), None, 2, 0, 2),
            r"output padding .* smaller than either stride",
        ),
        (
            lambda T, x: T.nn.functional.conv_transpose2d(x, T.ones(4, 3, 1, 1), None, 1, 5),
            r"not positive",
        ),
        (
            lambda T, x: T.nn.functional.conv_transpose2d(x, T.ones(4, 3, 3, 3), groups=3),
            r"divisible by groups",
        ),
    ],
)
def test_errors_are_loud(fn: Any, message: str) -> None:
    a = rand(2, 4, 5, 5, seed=9)
    with pytest.raises(RuntimeError):  # torch refuses too (its own message)
        fn(pt, pt.from_numpy(a.copy()))
    with pytest.raises(ShapeError, match=message):
        fn(xjit, xjit.from_numpy(a.copy()))


def test_float64_keeps_its_dtype() -> None:
    check(
        lambda T, x, w: T.nn.functional.conv_transpose1d(x, w, None, 2),
        rand(2, 3, 5, seed=10).astype(np.float64),
        rand(3, 2, 3, seed=11).astype(np.float64),
    )
