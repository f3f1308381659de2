"""Convolutional-net ops and modules (issue 12 item 8): F.conv1d/conv2d, pooling, batch_norm,
pad, and their nn modules, each against real PyTorch eager and traced; modules also scripted
(with torch's own TorchScript as the reference); the compiled convolution is vectorized."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest
import torch as pt
from torch_oracle import assert_same, check, rand

import xjit
from xjit.ops.types import ShapeError

X4 = rand(2, 4, 9, 10)
X3 = rand(2, 4, 11, seed=1)
W2 = rand(6, 2, 3, 2, seed=2)  # groups=2 over X4's 4 channels
W1 = rand(5, 4, 4, seed=3)
B6, B5 = rand(6, seed=4), rand(5, seed=5)


@pytest.mark.parametrize(
    "fn",
    [
        lambda T, x, w, b: T.nn.functional.conv2d(x, w, b, groups=2),
        lambda T, x, w, b: T.nn.functional.conv2d(x, w, None, 2, 1, (2, 1), 2),
        lambda T, x, w, b: T.nn.functional.conv2d(x, w, b, padding="same", groups=2),
        lambda T, x, w, b: T.nn.functional.conv2d(x, w, b, padding="same", dilation=2, groups=2),
        lambda T, x, w, b: T.nn.functional.conv2d(
            x, w, b, padding="valid", stride=(1, 3), groups=2
        ),
        lambda T, x, w, b: T.nn.functional.conv2d(x[0], w, b, padding=(0, 2), groups=2),
    ],
)
def test_conv2d(fn: Any) -> None:
    check(fn, X4, W2, B6)


@pytest.mark.parametrize(
    "fn",
    [
        lambda T, x, w, b: T.nn.functional.conv1d(x, w, b),
        lambda T, x, w, b: T.nn.functional.conv1d(x, w, b, stride=2, padding=3, dilation=2),
        lambda T, x, w, b: T.nn.functional.conv1d(x, w, b, padding="same"),
        lambda T, x, w, b: T.nn.functional.conv1d(x[1], w, None, padding="same", dilation=3),
    ],
)
def test_conv1d(fn: Any) -> None:
    check(fn, X3, W1, B5)


def test_aten_convolution() -> None:
    """The torch.export core op, called directly."""
    check(
        lambda T, x, w, b: T.convolution(x, w, b, [2, 1], [1, 0], [1, 2], False, [0, 0], 2),
        X4,
        W2,
        B6,
    )


@pytest.mark.parametrize(
    "fn",
    [
        lambda T, x: T.nn.functional.max_pool2d(x, 2),
        lambda T, x: T.nn.functional.max_pool2d(x, 3, 2, 1, ceil_mode=True),
        lambda T, x: T.nn.functional.max_pool2d(x, (2, 3), (1, 2), (1, 0), dilation=(2, 1)),
        lambda T, x: T.nn.functional.max_pool2d(x[0], 3, 3, ceil_mode=True),
        lambda T, x: T.nn.functional.avg_pool2d(x, 2),
        lambda T, x: T.nn.functional.avg_pool2d(x, 3, 2, 1),
        lambda T, x: T.nn.functional.avg_pool2d(x, 3, 2, 1, count_include_pad=False),
        lambda T, x: T.nn.functional.avg_pool2d(x, 2, 2, 0, ceil_mode=True),
        lambda T, x: T.nn.functional.avg_pool2d(x, 3, 2, 1, ceil_mode=True),
        lambda T, x: T.nn.functional.avg_pool2d(x, 2, divisor_override=3),
        lambda T, x: T.nn.functional.adaptive_avg_pool2d(x, 1),
        lambda T, x: T.nn.functional.adaptive_avg_pool2d(x, (3, 5)),
        lambda T, x: T.nn.functional.adaptive_avg_pool2d(x, (None, 2)),
        # windows of unequal sizes, overlapping, or larger outputs than inputs (torch's rule)
        lambda T, x: T.nn.functional.adaptive_avg_pool2d(x, (4, 3)),
        lambda T, x: T.nn.functional.adaptive_avg_pool2d(x, 7),
        lambda T, x: T.nn.functional.adaptive_avg_pool2d(x[0], (2, None)),
        lambda T, x: T.nn.functional.pad(x, (1, 2, 0, 3)),
        lambda T, x: T.nn.functional.pad(x, (-1, 2, 1, -3), value=2.5),
        lambda T, x: T.nn.functional.pad(x, (1, 1)),
    ],
)
def test_pooling_and_pad(fn: Any) -> None:
    check(fn, X4)


def test_max_pool1d() -> None:
    check(lambda T, x: T.nn.functional.max_pool1d(x, 3, 2, 1, ceil_mode=True), X3)
    check(lambda T, x: T.nn.functional.max_pool1d(x, 2), X3)


def test_batch_norm_functional() -> None:
    mean, var = rand(4, seed=6), np.abs(rand(4, seed=7)) + 0.5
    w, b = rand(4, seed=8), rand(4, seed=9)
    check(
        lambda T, x, m, v, w, b: T.nn.functional.batch_norm(x, m, v, w, b, eps=1e-3),
        X4,
        mean,
        var,
        w,
        b,
    )
    check(lambda T, x, m, v: T.nn.functional.batch_norm(x, m, v), X3, mean, var)


def _net(T: Any) -> Any:
    nn = T.nn

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.c1 = nn.Conv2d(3, 6, 4, padding="same", bias=False)  # even kernel: extra pad
            self.bn = nn.BatchNorm2d(6)
            self.c2 = nn.Conv2d(6, 8, (3, 2), stride=2, padding=1, groups=2, dilation=(1, 2))
            self.mp = nn.MaxPool2d(2, ceil_mode=True)
            self.av = nn.AvgPool2d(2, 1, 1)
            self.gap = nn.AdaptiveAvgPool2d(1)
            self.flat = nn.Flatten()
            self.unflat = nn.Unflatten(1, (2, 4))
            self.c3 = nn.Conv1d(2, 3, 2, padding="valid")
            self.bn1 = nn.BatchNorm1d(3)
            self.mp1 = nn.MaxPool1d(2)

        def forward(self, x):
            x = T.relu(self.bn(self.c1(x)))
            x = self.av(self.mp(self.c2(x)))
            y = self.unflat(self.flat(self.gap(x)))
            return self.mp1(self.bn1(self.c3(y)))

    return Net()


def _twins() -> tuple[Any, Any]:
    pt.manual_seed(0)
    t = _net(pt).eval()
    with pt.no_grad():
        for bn in (t.bn, t.bn1):
            bn.running_mean.normal_()
            bn.running_var.uniform_(0.5, 2.0)
            bn.weight.normal_()
            bn.bias.normal_()
    x = _net(xjit).eval()
    sd = t.state_dict()
    assert list(x.state_dict()) == list(sd)
    for k, v in x.state_dict().items():
        assert tuple(v.shape) == tuple(sd[k].shape), k
    x.load_state_dict({k: v.numpy() for k, v in sd.items()})
    return t, x


def test_modules_eager_traced_scripted() -> None:
    t, x = _twins()
    a = rand(2, 3, 10, 9, seed=10)
    with pt.no_grad():
        want = t(pt.from_numpy(a))
        want_script = pt.jit.script(t)(pt.from_numpy(a))
    assert_same(x(xjit.from_numpy(a)), want, "eager")
    traced = xjit.jit.trace(x, (xjit.from_numpy(a),))
    assert_same(traced(xjit.from_numpy(a)), want, "traced")
    scripted = xjit.jit.script(x)
    assert_same(scripted(xjit.from_numpy(a)), want_script, "scripted")


def test_scripted_functional_calls() -> None:
    def build(T: Any) -> Any:
        class F(T.nn.Module):
            def forward(self, x, w):
                y = T.nn.functional.conv2d(x, w, None, 1, 1)
                y = T.nn.functional.max_pool2d(y, 2)
                y = T.nn.functional.avg_pool2d(y, 2, 1)
                return T.nn.functional.pad(y, (1, 0, 2, 1), value=-1.0)

        return F()

    a, w = rand(2, 3, 8, 8, seed=11), rand(4, 3, 3, 3, seed=12)
    want = pt.jit.script(build(pt))(pt.from_numpy(a), pt.from_numpy(w))
    got = xjit.jit.script(build(xjit))(xjit.from_numpy(a), xjit.from_numpy(w))
    assert_same(got, want, "scripted")


def test_compiled_convolution_is_vectorized() -> None:
    """im2col as strided views + one contraction: no Python loop over pixels or channels."""
    conv = xjit.nn.Conv2d(3, 8, 5, padding=2)
    traced = xjit.jit.trace(conv, (xjit.randn(4, 3, 16, 16),))
    src = traced.forward.source
    assert not re.search(r"^\s*for ", src, re.M), src
    assert "np.dot(" in src, src  # groups=1: one 2-D matmul over all windows (BLAS)
    assert_same(traced(xjit.from_numpy(X4[:, :3])), conv(xjit.from_numpy(X4[:, :3])), "traced")


@pytest.mark.parametrize(
    ("fn", "message"),
    [
        (lambda T, x: T.nn.functional.conv2d(x, T.ones(2, 3, 3, 3)), r"4 channels|channels"),
        (lambda T, x: T.nn.functional.conv2d(x, T.ones(2, 4, 30, 3)), r"larger than"),
        (lambda T, x: T.nn.functional.max_pool2d(x, 2, 2, 2), r"at most half"),
    ],
)
def test_errors_are_loud(fn: Any, message: str) -> None:
    with pytest.raises((RuntimeError, ValueError)):  # torch raises too (its own message)
        fn(pt, pt.from_numpy(X4.copy()))
    with pytest.raises(ShapeError, match=message):
        fn(xjit, xjit.from_numpy(X4.copy()))


def test_batch_norm_module_in_training_mode_is_refused() -> None:
    """torch computes batch statistics (and updates the running ones); xjit is inference-only."""
    bn = xjit.nn.BatchNorm2d(4)
    with pytest.raises(ShapeError, match=r"call model.eval\(\)"):
        bn(xjit.from_numpy(X4))
    with pytest.raises(ShapeError, match=r"training mode"):
        xjit.nn.functional.batch_norm(
            xjit.from_numpy(X4), bn.running_mean, bn.running_var, training=True
        )
