"""Results whose size only the data decides, compiled: `nonzero`, `masked_select` and `x[mask]`
(a `?` row count: `scatter.nonzero` fills a buffer sized by a run-time count), in traces and
scripts (tests/conformance/test_script_masks.py: against torch.jit.script), with ops
downstream of the `?` size; real PyTorch is the oracle. The compiled code
must follow each input's count, never the one the trace or the compile saw."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

import xjit
from xjit.dialects import make_context
from xjit.passes.pipelines import TORCH_TO_LOOPS_STAGES, run_passes

RNG = np.random.default_rng(3)
X = RNG.standard_normal((4, 5)).astype(np.float32)
# inputs with a different number of positives each, one with none and one all positive
INPUTS = [X, -X, np.abs(X) + 1, -np.abs(X) - 1, X[::-1].copy()]


def _nonzero(T: Any, x: Any) -> Any:
    return T.nonzero(x > 0)


def _nonzero_method(T: Any, x: Any) -> Any:
    return (x > 0.5).nonzero() + 1


def _masked_select(T: Any, x: Any) -> Any:
    return T.masked_select(x, x > 0)


def _masked_select_broadcast(T: Any, x: Any) -> Any:
    return T.masked_select(x, x[0] > 0)  # a row mask broadcast over x


def _mask_index(T: Any, x: Any) -> Any:
    return x[x > 0]


def _row_mask(T: Any, x: Any) -> Any:
    return x[x[:, 0] > 0]  # the mask covers dim 0: whole rows


def _downstream(T: Any, x: Any) -> Any:
    y = x[x > 0]
    return y.sum(), y.mean(), y * 2 + 1, T.cat([y, y + 1]), T.cat([x.reshape(-1), y])


def _nonzero_of_float(T: Any, x: Any) -> Any:
    return T.nonzero(T.relu(x))  # nonzero of a float tensor: its nonzero elements


def _rows_then_reduce(T: Any, x: Any) -> Any:
    return x[x.sum(1) > 0].sum(0), x[:, x[0] > 0].sum(1)


FNS = [
    _nonzero,
    _nonzero_method,
    _masked_select,
    _masked_select_broadcast,
    _mask_index,
    _row_mask,
    _downstream,
    _nonzero_of_float,
    _rows_then_reduce,
]


def _same(got: Any, want: Any) -> None:
    if isinstance(want, tuple):
        assert isinstance(got, tuple) and len(got) == len(want)
        for g, w in zip(got, want, strict=True):
            _same(g, w)
        return
    assert isinstance(got, xjit.Tensor)
    assert got.dtype.name == str(want.dtype).removeprefix("torch."), (got.dtype, want.dtype)
    assert tuple(got.shape) == tuple(want.shape)
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("fn", FNS, ids=[f.__name__ for f in FNS])
def test_traced_follows_each_inputs_count(fn: Any) -> None:
    traced = xjit.jit.trace(lambda x: fn(xjit, x), (xjit.from_numpy(X),))
    for a in INPUTS:
        _same(traced(xjit.from_numpy(a)), fn(torch, torch.from_numpy(a)))


def test_trace_graph_has_a_run_time_row_count() -> None:
    """The trace saw 3 positives: the graph must not say 3 (a frozen size is a wrong answer
    for the next input)."""
    a = np.array([[1, -2, 3], [-4, 5, -6]], np.float32)
    traced = xjit.jit.trace(lambda x: xjit.nonzero(x > 0), (xjit.from_numpy(a),))
    assert "!torch.vtensor<[?,2],si64>" in traced.graph
    assert "[3,2]" not in traced.graph


def _compiled(traced: Any) -> Any:
    return traced._compiled[0][1] if hasattr(traced, "_compiled") else traced


def test_every_stage_verifies_and_code_is_python() -> None:
    traced = xjit.jit.trace(lambda x: _downstream(xjit, x), (xjit.from_numpy(X),))
    m = traced.torch_ir.clone()
    ctx = make_context()
    for _, names in TORCH_TO_LOOPS_STAGES:
        run_passes(ctx, m, names)
        m.verify()
    text = str(m)
    assert "scatter.nonzero" in text  # kept whole to the loops stage (the backend emits it)
    compile(traced.code, "<code>", "exec")
    assert "np.argwhere" in traced.source


def test_archive_round_trip(tmp_path: Any) -> None:
    traced = xjit.jit.trace(lambda x: _downstream(xjit, x), (xjit.from_numpy(X),))
    path = tmp_path / "m.pt"
    xjit.jit.save(traced, str(path))
    loaded = xjit.jit.load(str(path))
    for a in INPUTS[:3]:
        _same(loaded(xjit.from_numpy(a)), _downstream(torch, torch.from_numpy(a)))


def test_zero_and_one_dim_sources() -> None:
    for a in (np.array([0, 3, 0, 1], np.int64), np.zeros(4, np.int64), np.ones((2, 1, 3), bool)):
        traced = xjit.jit.trace(lambda x: xjit.nonzero(x), (xjit.from_numpy(a),))
        _same(traced(xjit.from_numpy(a)), torch.nonzero(torch.from_numpy(a)))


def test_max_over_an_empty_run_time_dim_raises() -> None:
    """torch raises on a max over nothing; the compiled `?` dim must not give its -inf fill."""
    a = np.array([[1, -2], [3, 4]], np.float32)
    for fn in (lambda T, x: x[:, x[0] > 0].amax(1), lambda T, x: x[x > 0].max()):
        traced = xjit.jit.trace(lambda x, fn=fn: fn(xjit, x), (xjit.from_numpy(a),))
        _same(traced(xjit.from_numpy(a)), fn(torch, torch.from_numpy(a)))
        with pytest.raises((RuntimeError, IndexError), match="non-zero size|numel"):
            fn(torch, torch.from_numpy(-np.abs(a)))
        with pytest.raises(Exception, match="Expected reduction dim .* to have non-zero size"):
            traced(xjit.from_numpy(-np.abs(a)))


def test_traced_where_and_nonzero_as_tuple() -> None:
    """`torch.where(cond)` and `nonzero(as_tuple=True)`: one `?`-long index tensor per dim."""
    for fn in (
        lambda T, x: T.where(x > 0),
        lambda T, x: (x > 0).nonzero(as_tuple=True),
        lambda T, x: T.nonzero(x[0], as_tuple=True),
    ):
        traced = xjit.jit.trace(lambda x, fn=fn: fn(xjit, x), (xjit.from_numpy(X),))
        for a in INPUTS:
            _same(traced(xjit.from_numpy(a)), fn(torch, torch.from_numpy(a)))


def test_eager_where_and_nonzero_of_a_0d_tensor() -> None:
    for v in (3, 0):
        _same(xjit.where(xjit.tensor(v)), torch.where(torch.tensor(v)))
        _same(
            xjit.nonzero(xjit.tensor(v), as_tuple=True),
            torch.nonzero(torch.tensor(v), as_tuple=True),
        )
