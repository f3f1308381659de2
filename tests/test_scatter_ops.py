"""index_put (`x[idx] = v`), scatter, scatter_add, index_add/index_copy/index_fill: eager,
traced and scripted against PyTorch; the compiled code is vectorised (`out[idx] = v`,
`np.add.at`), checks indices at run time, and agrees with xDSL's interpreter."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest
import torch
from xdsl.dialects import func

import xjit
from xjit.backends.interpreter import run_interpreted
from xjit.dialects import make_context
from xjit.passes.pipelines import TORCH_TO_LOOPS_STAGES, run_passes

LOOP = re.compile(r"^\s*for ", re.M)  # a Python loop in generated code
RNG = np.random.default_rng(0)
X = RNG.standard_normal((5, 4, 3)).astype(np.float32)


def _put_negative(t: Any, x: Any, i: Any) -> Any:
    y = x.clone()
    y[i] = 7.0  # i holds negative indices: torch wraps them
    return y


def _put_rows(t: Any, x: Any, i: Any) -> Any:
    y = x * 2
    y[i] = x[0] + 1  # values broadcast over the indexed rows
    return y


def _put_two_indices(t: Any, x: Any, i: Any) -> Any:
    y = x.clone()
    j = t.tensor([[0], [3]])  # broadcasts against i
    y[i, j] = -1.0
    return y


def _put_middle_dim(t: Any, x: Any, i: Any) -> Any:
    y = x.clone()
    y[:, i[:2]] = t.ones(5, 2, 3)
    return y


def _put_accumulate(t: Any, x: Any, i: Any) -> Any:
    dup = t.cat([i, i, i[:1]])  # duplicates add up
    v = t.arange(84.0).reshape(7, 4, 3)
    return t.index_put(x, (dup,), v, accumulate=True)


def _put_accumulate_int(t: Any, x: Any, i: Any) -> Any:
    a = t.zeros(6, 2, dtype=t.int64)
    return a.index_put((t.cat([i, i]) % 6,), t.tensor([3, 4]), accumulate=True)


def _scatter_add(t: Any, x: Any, i: Any) -> Any:
    idx = t.tensor([[0, 1, 2], [0, 0, 4], [1, 1, 1]])
    return t.scatter_add(x[:, 0], 0, idx, t.ones(3, 3) * 2)


def _scatter_src_dim1(t: Any, x: Any, i: Any) -> Any:
    idx = t.tensor([[2, 0], [1, 2]])  # unique along dim 1 in each row
    return x[0].scatter(1, idx, x[1])


def _scatter_value_inplace(t: Any, x: Any, i: Any) -> Any:
    y = x[1].clone()
    y.scatter_(0, t.tensor([[3, 2, 1]]), 9.5)
    return y


def _index_add(t: Any, x: Any, i: Any) -> Any:
    return x.index_add(1, t.tensor([3, 0, 3]), t.ones(5, 3, 3), alpha=2.5)


def _index_copy(t: Any, x: Any, i: Any) -> Any:
    return x.index_copy(2, t.tensor([2, 0]), x[:, :, :2] * 10)


def _index_fill(t: Any, x: Any, i: Any) -> Any:
    return x.index_fill(0, t.tensor([-1, 1]), -3.0)


def _masked_scatter(t: Any, x: Any, i: Any) -> Any:
    return x.masked_scatter(x > 0.3, -x * 2)


def _mask_assign_values(t: Any, x: Any, i: Any) -> Any:
    y = x[:, :, 0] * 1
    m = y > 0
    y[m] = t.arange(13.0)[: int(m.sum())]  # as many values as trues
    return y


def _mask_assign_row(t: Any, x: Any, i: Any) -> Any:
    y = x * 1
    y[y[:, 0, 0] > 0] = x[0]  # one row for every true: broadcast
    return y


CASES = [
    _put_negative,
    _put_rows,
    _put_two_indices,
    _put_middle_dim,
    _put_accumulate,
    _put_accumulate_int,
    _scatter_add,
    _scatter_src_dim1,
    _scatter_value_inplace,
    _index_add,
    _index_copy,
    _index_fill,
    _masked_scatter,
    _mask_assign_values,
    _mask_assign_row,
]
IDX = np.array([-1, 2, 0], dtype=np.int64)


def _torch(fn: Any) -> np.ndarray:
    return fn(torch, torch.from_numpy(X.copy()), torch.from_numpy(IDX.copy())).numpy()


@pytest.mark.parametrize("fn", CASES, ids=lambda f: f.__name__)
def test_eager_matches_torch(fn: Any) -> None:
    got = fn(xjit, xjit.from_numpy(X.copy()), xjit.from_numpy(IDX.copy())).numpy()
    np.testing.assert_allclose(got, _torch(fn), rtol=1e-6)


@pytest.mark.parametrize("fn", CASES, ids=lambda f: f.__name__)
def test_traced_matches_torch_and_is_vectorised(fn: Any) -> None:
    traced = xjit.jit.trace(lambda x, i: fn(xjit, x, i), (xjit.from_numpy(X), xjit.from_numpy(IDX)))
    got = traced(xjit.from_numpy(X.copy()), xjit.from_numpy(IDX.copy())).numpy()
    np.testing.assert_allclose(got, _torch(fn), rtol=1e-6)
    src = traced.source
    assert not LOOP.search(src) and "XjitPerformanceWarning" not in src
    assert ("np.add.at(" in src) == ("accumulate" in fn.__name__ or "add" in fn.__name__)


def test_traced_runs_on_new_indices() -> None:
    traced = xjit.jit.trace(
        lambda x, i: _put_accumulate(xjit, x, i), (xjit.from_numpy(X), xjit.from_numpy(IDX))
    )
    for idx in ([4, -5, 1], [0, 0, 0]):
        i = np.array(idx, dtype=np.int64)
        want = _put_accumulate(torch, torch.from_numpy(X), torch.from_numpy(i)).numpy()
        got = traced(xjit.from_numpy(X), xjit.from_numpy(i)).numpy()
        np.testing.assert_allclose(got, want, rtol=1e-6)


def test_index_put_source_is_fancy_indexing() -> None:
    def f(x: Any, i: Any) -> Any:
        y = x.clone()
        y[i] = x[0]
        return y

    src = xjit.jit.trace(f, (xjit.from_numpy(X), xjit.from_numpy(IDX))).source
    assert "] = " in src and "np.add.at" not in src and not LOOP.search(src)


@pytest.mark.parametrize(
    "fn, idx, message",
    [
        (_put_negative, [5, 0, 1], "index out of bounds for dimension 0"),
        (_put_negative, [-6, 0, 1], "index out of bounds for dimension 0"),
        (_put_accumulate, [1, 2, 9], "index out of bounds for dimension 0"),
    ],
)
def test_compiled_index_out_of_range_raises(fn: Any, idx: list[int], message: str) -> None:
    traced = xjit.jit.trace(lambda x, i: fn(xjit, x, i), (xjit.from_numpy(X), xjit.from_numpy(IDX)))
    bad = np.array(idx, dtype=np.int64)
    with pytest.raises(IndexError):
        fn(torch, torch.from_numpy(X), torch.from_numpy(bad))  # torch raises too
    with pytest.raises(Exception, match=message):
        traced(xjit.from_numpy(X), xjit.from_numpy(bad))


def test_scatter_refuses_negative_index_when_compiled() -> None:
    def f(x: Any, i: Any) -> Any:
        return x[:, 0].scatter_add(0, i.reshape(1, 3), x[:1, 0])

    traced = xjit.jit.trace(f, (xjit.from_numpy(X), xjit.from_numpy(np.array([0, 1, 2]))))
    neg = np.array([0, -1, 2], dtype=np.int64)
    with pytest.raises(RuntimeError, match="out of bounds"):
        f(torch.from_numpy(X), torch.from_numpy(neg))
    with pytest.raises(IndexError, match="out of bounds"):
        f(xjit.from_numpy(X), xjit.from_numpy(neg))  # eager
    with pytest.raises(Exception, match="index out of bounds for dimension 0"):
        traced(xjit.from_numpy(X), xjit.from_numpy(neg))


def test_traced_mask_assign_checks_the_count_at_run_time() -> None:
    def f(t: Any, x: Any, v: Any) -> Any:
        y = x * 1
        y[y > 0] = v
        return y

    x = X[:, :, 0]
    v = np.arange(float((x > 0).sum()), dtype=np.float32)
    traced = xjit.jit.trace(lambda a, b: f(xjit, a, b), (xjit.from_numpy(x), xjit.from_numpy(v)))
    for other in (-x, np.abs(x)):  # fewer, then more trues than values
        with pytest.raises(RuntimeError, match="shape mismatch"):
            f(torch, torch.from_numpy(other), torch.from_numpy(v))
        with pytest.raises(
            Exception, match=r"size mismatch at .*test_scatter_ops.py:\d+ \(index_put"
        ):
            traced(xjit.from_numpy(other), xjit.from_numpy(v))
    flipped = np.where(x > 0, x, 0)[::-1].copy()  # the same count elsewhere
    want = f(torch, torch.from_numpy(flipped), torch.from_numpy(v)).numpy()
    got = traced(xjit.from_numpy(flipped), xjit.from_numpy(v)).numpy()
    np.testing.assert_array_equal(got, want)


def test_eager_checks() -> None:
    x = xjit.zeros(3, 4)
    with pytest.raises(Exception, match="dtypes match"):
        x.index_put((xjit.tensor([1]),), xjit.ones(4, dtype=xjit.int64))
    with pytest.raises(Exception, match="out of bounds"):
        x.index_copy(0, xjit.tensor([-1]), xjit.ones(1, 4))
    with pytest.raises(Exception, match="cannot be broadcast"):
        x.index_put((xjit.tensor([1]),), xjit.ones(3))


def test_interpreter_agrees_on_duplicates() -> None:
    traced = xjit.jit.trace(
        lambda x, i: _put_accumulate(xjit, x, i), (xjit.from_numpy(X), xjit.from_numpy(IDX))
    )
    module = traced.torch_ir.clone()
    ctx = make_context()
    for _, names in TORCH_TO_LOOPS_STAGES:
        run_passes(ctx, module, names, after_each=lambda n, m: m.verify())
    text = str(module)
    assert "loop.nest" in text and "scatter." not in text
    (fn,) = [op.sym_name.data for op in module.walk() if isinstance(op, func.FuncOp)]
    (interp,) = run_interpreted(module, fn, [X, IDX])[:1]
    np.testing.assert_allclose(interp, _torch(_put_accumulate), rtol=1e-6)


# -- scripted: x[idx] = v, x[i, j] = v, x[mask] = v on a local tensor ---------------------------


def _script_put(x, i, v):  # noqa: ANN001, ANN202  (unannotated: Tensors in both scripts)
    y = x.clone()
    y[i] = v
    y[i, i] = y[i, i] + 1.0
    m = y > 1.0
    y[m] = 0.5
    return y


def _script_index_add(x, i):  # noqa: ANN001, ANN202
    z = x.index_add(0, i, x[:3] * 2.0)
    return z.scatter_add(1, (i % 4).reshape(3, 1, 1), x[:3, :1, :1])  # (methods: no module)


def test_scripted_matches_torch_script() -> None:
    v = RNG.standard_normal((4, 3)).astype(np.float32)
    want = torch.jit.script(_script_put)(
        torch.from_numpy(X), torch.from_numpy(IDX), torch.from_numpy(v)
    )
    f = xjit.jit.script(_script_put)
    got = f(xjit.from_numpy(X), xjit.from_numpy(IDX), xjit.from_numpy(v))
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)
    i = np.array([1, 0, 4], dtype=np.int64)
    want = torch.jit.script(_script_index_add)(torch.from_numpy(X), torch.from_numpy(i))
    got = xjit.jit.script(_script_index_add)(xjit.from_numpy(X), xjit.from_numpy(i))
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)


def test_script_keeps_alias_rule_for_index_put() -> None:
    def f(x, i):  # noqa: ANN001, ANN202
        x[i] = 1.0  # an argument: a caller's alias would miss the update
        return x

    with pytest.raises(Exception, match="argument"):
        xjit.jit.script(f)(xjit.from_numpy(X.copy()), xjit.from_numpy(IDX))


def _script_nested_subscripts(x, i):  # noqa: ANN001, ANN202
    y = x * 1
    y[i[:2], i[1:3] + 1] += 3.0  # index expressions that subscript themselves
    return y[i[:3], i[3:6] - 1]


def test_scripted_index_expressions_that_subscript() -> None:
    x = X[:, :, 0].copy()
    i = np.array([0, 2, 1, 3, 1, 2], dtype=np.int64)
    want = torch.jit.script(_script_nested_subscripts)(torch.from_numpy(x), torch.from_numpy(i))
    got = xjit.jit.script(_script_nested_subscripts)(xjit.from_numpy(x), xjit.from_numpy(i))
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)


def test_compiled_index_put_leaves_its_input_unchanged() -> None:
    def f(x: Any, i: Any) -> Any:
        return xjit.index_put(x, (i,), x[:3] * 0, accumulate=False)

    x = X.copy()
    traced = xjit.jit.trace(f, (xjit.from_numpy(x), xjit.from_numpy(IDX)))
    out = traced(xjit.from_numpy(x), xjit.from_numpy(IDX)).numpy()
    np.testing.assert_array_equal(x, X)  # written into a copy
    want = torch.index_put(
        torch.from_numpy(X.copy()), (torch.from_numpy(IDX),), torch.zeros(3, 4, 3)
    )
    np.testing.assert_array_equal(out, want.numpy())
