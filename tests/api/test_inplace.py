"""In-place updates (`x += y`, `x.add_(y)`, `x[i] = v`) against PyTorch: every alias sees them
in eager mode; a trace records them only where no alias could miss the update."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

import xjit
from xjit.frontends.trace import TraceError


def _updates(t: Any) -> Any:
    x = t.arange(12.0).reshape(3, 4)
    y = x  # an alias: sees every update below
    y += 1
    row = x[0]  # a view
    row *= 2
    x[1:, 2] += 1
    x[x > 10] = 0
    x[:, 0] = t.tensor([7.0, 8.0, 9.0])
    x[[0, 2], 1] = -1
    x[t.tensor([1]), 3] = 5
    x.clamp_(0, 8)
    x.mul_(2).add_(1)
    x -= 0.5
    x /= 2
    return x


def test_eager_updates_reach_every_alias() -> None:
    np.testing.assert_array_equal(_updates(xjit).numpy(), _updates(torch).numpy())


@pytest.mark.parametrize(
    "bad",
    [
        lambda t: t.zeros(3, dtype=t.long).__iadd__(1.5),  # float result into a long tensor
        lambda t: t.zeros(3).__iadd__(t.zeros(2, 3)),  # result larger than the tensor
        lambda t: t.zeros(3).add_(t.zeros(2, 3)),
        lambda t: t.zeros(3, dtype=t.bool).__iadd__(t.ones(3)),
    ],
)
def test_eager_update_refusals_match_torch(bad: Any) -> None:
    with pytest.raises(RuntimeError) as theirs:
        bad(torch)
    with pytest.raises(RuntimeError) as ours:
        bad(xjit)
    assert str(ours.value).split(" type ")[0] == str(theirs.value).split(" type ")[0]


def test_trace_records_an_update_of_a_fresh_tensor() -> None:
    def f(t: Any, x: Any, w: Any) -> Any:
        h = x * 2
        h += w
        h.mul_(3).clamp_(max=5.0)
        return h

    traced = xjit.jit.trace(lambda x, w: f(xjit, x, w), (xjit.ones(3), xjit.ones(3)))
    x, w = np.array([0.0, 1.0, -4.0], np.float32), np.array([1.0, 0.5, 2.0], np.float32)
    want = f(torch, torch.from_numpy(x), torch.from_numpy(w)).numpy()
    np.testing.assert_allclose(traced(xjit.from_numpy(x), xjit.from_numpy(w)).numpy(), want)


def _view_then_update(x: Any) -> Any:
    y = x * 1
    v = y[0:2]
    y += 1
    return v


@pytest.mark.parametrize(
    ("fn", "why"),
    [
        (lambda x: x.add_(1), "an input of the trace"),
        (lambda x: (x * 1).view(3).add_(1), "a view"),
        (_view_then_update, "a view, or a tensor with views"),
    ],
)
def test_trace_refuses_updates_an_alias_could_miss(fn: Any, why: str) -> None:
    with pytest.raises(TraceError, match=f"test_inplace.py:[0-9]+: in-place .* on {why}"):
        xjit.jit.trace(fn, (xjit.ones(3),))


def test_trace_refuses_updating_a_parameter() -> None:
    class M(xjit.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.p = xjit.nn.Parameter(xjit.ones(3))

        def forward(self, x: Any) -> Any:
            self.p.add_(x)
            return self.p

    with pytest.raises(TraceError, match="a parameter or buffer"):
        xjit.jit.trace(M(), (xjit.ones(3),))


def test_item_assignment_while_tracing_is_refused() -> None:
    def f(x: Any) -> Any:
        y = x * 1
        y[0] = 5
        return y

    with pytest.raises(NotImplementedError, match="x\\[...\\] ="):
        xjit.jit.trace(f, (xjit.ones(3),))
