"""In-place updates (`x += y`, `x.add_(y)`, `x[i] = v`) against PyTorch: every alias sees them
in eager mode; a trace records them only where no alias could miss the update."""

from __future__ import annotations

import math
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


def _item_updates(t: Any, x: Any) -> Any:
    y = x * 1
    y[0] = 5
    y[:, 0] = x[:, 1]
    y[1:, 2] += 1
    y[y > 3] = 0
    y[1, 1:3] = t.tensor([7.0, 8.0])
    y[None, 0, -1] = -1
    y[..., 1] *= 2
    y[2, ::3] = x[3, 0]  # a 0-d value, broadcast
    return y


def test_eager_item_assignment_places_dims_as_torch() -> None:
    """x[0, :, idx] = v: torch applies the int first, so v is laid out (3, 2), not numpy's
    (2, 3); with a square slice numpy's order would silently transpose the values."""

    def f(t: Any) -> Any:
        x = t.zeros(2, 3, 3)
        x[0, :, t.tensor([0, 2, 1])] = t.arange(9.0).reshape(3, 3)
        x[1, [0, 1]] = t.ones(3) * 4
        x[:, t.tensor([[1], [2]]), t.tensor([0, 2])] = -t.arange(4.0).reshape(2, 2)
        return x

    np.testing.assert_array_equal(f(xjit).numpy(), f(torch).numpy())


def test_traced_item_assignment_matches_torch() -> None:
    rng = np.random.default_rng(1)
    x = rng.standard_normal((6, 8)).astype(np.float32)
    traced = xjit.jit.trace(lambda a: _item_updates(xjit, a), (xjit.from_numpy(x),))
    for a in (x, x * 3 - 1):
        want = _item_updates(torch, torch.from_numpy(a)).numpy()
        np.testing.assert_allclose(traced(xjit.from_numpy(a)).numpy(), want, rtol=1e-6)
        np.testing.assert_allclose(_item_updates(xjit, xjit.from_numpy(a)).numpy(), want)
    assert "slice_scatter" in traced.code or "select_scatter" in traced.code


class _PositionalEncoding:
    """The model pattern: a buffer filled by strided slice assignment."""

    def __init__(self, t: Any, length: int, d: int) -> None:
        pe = t.zeros(length, d)
        pos = t.arange(0, length, dtype=t.float).unsqueeze(1)
        div = t.exp(t.arange(0, d, 2).float() * (-math.log(10000.0) / d))
        pe[:, 0::2] = t.sin(pos * div)
        pe[:, 1::2] = t.cos(pos * div)
        self.pe = pe


def _pe_in_forward(t: Any, x: Any) -> Any:
    return x + _PositionalEncoding(t, 5, 8).pe


def test_positional_encoding_eager_and_traced() -> None:
    want = _PositionalEncoding(torch, 5, 8).pe.numpy()
    np.testing.assert_allclose(_PositionalEncoding(xjit, 5, 8).pe.numpy(), want, rtol=1e-6)
    x = np.ones((5, 8), np.float32)
    traced = xjit.jit.trace(lambda a: _pe_in_forward(xjit, a), (xjit.from_numpy(x),))
    np.testing.assert_allclose(traced(xjit.from_numpy(x)).numpy(), want + 1, rtol=1e-5)
    # built from constants only: computed once at compile time (torch-fold-constants), one
    # literal added per call (slice_scatter's lowering: test_traced_item_assignment_matches_torch)
    assert "g___constant_" in traced.source and "np.sin" not in traced.source


def _into_input(x: Any) -> Any:
    x[0] = 1
    return x


def _view_not_assigned_back(x: Any) -> Any:
    y = x * 1
    r = y[0]
    r += 1
    return y


def _view_alive(x: Any) -> Any:
    y = x * 1
    r = y[0]
    y[1] = 3
    return r


def _mask_values(x: Any) -> Any:
    y = x * 1
    y[y > 0] = x[y > 0]
    return y


@pytest.mark.parametrize(
    ("fn", "why"),
    [
        (_into_input, "in-place `x\\[...\\] =` on an input of the trace"),
        (_view_not_assigned_back, "in-place `\\+=` on a view"),
        (_view_alive, "on a view, or a tensor with views"),
    ],
)
def test_trace_refuses_item_assignments_an_alias_could_miss(fn: Any, why: str) -> None:
    with pytest.raises(TraceError, match=f"test_inplace.py:[0-9]+: .*{why}"):
        xjit.jit.trace(fn, (xjit.ones(3, 2),))


def test_trace_of_mask_values_counts_per_input() -> None:
    """`y[y > 0] = x[y > 0]`: the trace saw 6 trues; each input's count is its own."""
    traced = xjit.jit.trace(_mask_values, (xjit.ones(3, 2),))
    for a in (np.ones((3, 2), np.float32), np.array([[1, -1], [-2, 3], [0, 5]], np.float32)):
        np.testing.assert_array_equal(
            traced(xjit.from_numpy(a)).numpy(), _mask_values(torch.from_numpy(a)).numpy()
        )


def test_index_put_compiles() -> None:
    def f(x: Any) -> Any:
        y = x * 1
        y[xjit.tensor([0, 2])] = 5.0
        return y

    a = xjit.ones(3, 2)
    want = torch.ones(3, 2)
    want[torch.tensor([0, 2])] = 5.0
    np.testing.assert_array_equal(f(a).numpy(), want.numpy())  # eager
    traced = xjit.jit.trace(f, (a,))  # lowered to `out[idx] = v` (tests/test_scatter_ops.py)
    np.testing.assert_array_equal(traced(a).numpy(), want.numpy())


def _returns_param(t: Any, literal: bool) -> Any:
    """forward returns its parameter (with a computed output: torch's tracer asserts on a module
    whose only output is a parameter) and, traced, a literal tensor."""

    class M(t.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.w = t.nn.Parameter(t.ones(2, 3))

        def forward(self, x):  # unannotated: a Tensor for torch.jit.script
            return self.w, x + 1

    class WithLiteral(M):
        def forward(self, x):
            return self.w, x + 1, t.tensor([1.0, 2.0])

    return WithLiteral() if literal else M()


@pytest.mark.parametrize("how", ["trace", "script"])
def test_returned_parameter_and_literal_alias_as_torch(how: str) -> None:
    """torch returns the parameter itself (an in-place op on the result updates it), and a traced
    literal tensor aliases the graph's constant (the next call sees the update)."""

    def run(t: Any) -> list[np.ndarray]:
        m = _returns_param(t, literal=how == "trace")
        x = t.zeros(3)
        f = t.jit.trace(m, x) if how == "trace" else t.jit.script(m)
        with t.no_grad():
            outs = f(x)
            for k, o in enumerate(outs):
                o.add_(k + 1)
        again = f(x)
        return [m.w.detach().numpy().copy()] + [o.detach().numpy() for o in again]

    for got, want in zip(run(xjit), run(torch), strict=True):
        np.testing.assert_array_equal(got, want)
