"""Indexing beyond ints and slices, against PyTorch: tensor and list indices (torch's rule for
where the broadcast dims go), boolean masks, `None`/`...` with them, `index_select`, `gather`,
`take_along_dim`; eager, traced and compiled (numpy fancy indexing, not Python loops)."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import xjit

sys.path.insert(0, str(Path(__file__).parent.parent / "conformance"))
from script_oracle import check_function  # noqa: E402

RNG = np.random.default_rng(0)
X = RNG.standard_normal((4, 5, 6)).astype(np.float32)
IDX = np.array([3, 0, -1, 2], np.int64)


def _both(fn: Any, *arrays: np.ndarray) -> tuple[Any, Any]:
    ours = fn(xjit, *(xjit.from_numpy(a.copy()) for a in arrays))
    theirs = fn(torch, *(torch.from_numpy(a.copy()) for a in arrays))
    return ours, theirs


def _same(ours: Any, theirs: Any) -> None:
    if isinstance(theirs, (tuple, list)):
        for o, t in zip(ours, theirs, strict=True):
            _same(o, t)
        return
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert ours.numpy().dtype == theirs.numpy().dtype
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def _indexings(t: Any, x: Any, i: Any) -> tuple[Any, ...]:
    """One of each kind; `i` holds a negative index (torch wraps it in x[i])."""
    c = i.clamp(0, 3)
    return (
        x[i],
        x[:, c],
        x[1, :, i],  # int, slice, tensor: the int goes first, so the tensor dims stay in place
        x[i, :, i],  # not adjacent: the broadcast dim goes in front
        x[:, c, c],
        x[c.reshape(2, 2)],
        x[c[:2].reshape(2, 1), :, c],  # broadcast index shapes
        x[..., c],
        x[None, c],
        x[c, None, 1:],
        x[[0, 2]],
        x[[0, 2]][:, None, [1, 1]],
        x[i[0].reshape(())],  # a 0-d tensor index: like an int
        t.index_select(x, 2, c),
        x.index_select(0, c),
        x.gather(1, c.reshape(4, 1, 1).expand(4, 3, 6)),
        t.gather(x, 2, c.reshape(1, 1, 4).expand(2, 5, 4)),
        t.take_along_dim(x, c.reshape(1, 1, 4), 2),
        x.take_along_dim(c.reshape(4, 1, 1), 1),
        t.take_along_dim(x, c.reshape(2, 2)),
    )


def test_eager_matches_torch() -> None:
    _same(*_both(_indexings, X, IDX))


def test_eager_boolean_masks() -> None:
    def f(t: Any, x: Any) -> Any:
        return (
            x[x > 0.5],
            x[:, x[0, :, 0] > 0],
            x[x[..., 0] > 0],
            x[1:, [True, False, True, False, True]],
        )

    _same(*_both(f, X))


def test_traced_and_compiled_match_torch() -> None:
    traced = xjit.jit.trace(
        lambda x, i: _indexings(xjit, x, i), (xjit.from_numpy(X), xjit.from_numpy(IDX))
    )
    for i in (IDX, np.array([-4, 1, 3, 0], np.int64)):
        want = _indexings(torch, torch.from_numpy(X), torch.from_numpy(i))
        _same(traced(xjit.from_numpy(X), xjit.from_numpy(i)), want)
    src = traced.source
    assert not re.search(r"^\s*for ", src, re.M)  # gathers are fancy indexing, not loops
    assert "[t0" in src or "t0]" in src


def test_compiled_out_of_range_index_raises() -> None:
    traced = xjit.jit.trace(lambda x, i: x[i], (xjit.from_numpy(X), xjit.from_numpy(IDX)))
    with pytest.raises(IndexError):
        traced(xjit.from_numpy(X), xjit.tensor([4, 0, 0, 0]))
    with pytest.raises(IndexError):
        torch.from_numpy(X)[torch.tensor([4, 0, 0, 0])]


@pytest.mark.parametrize(
    ("name", "dim", "index"),
    [
        ("index_select", 0, np.array([0, -1])),  # numpy would wrap the -1 silently
        ("index_select", 1, np.array([5])),
        ("gather", 1, np.array([[0], [-1], [1]])),
        ("gather", 1, np.array([[0], [4], [1]])),
    ],
)
def test_compiled_index_ops_refuse_indices_torch_refuses(
    name: str, dim: int, index: np.ndarray
) -> None:
    x = np.arange(12, dtype=np.float32).reshape(3, 4)
    ok = np.zeros_like(index)
    with pytest.raises((IndexError, RuntimeError), match="out of"):  # torch's oracle first
        getattr(torch, name)(torch.from_numpy(x), dim, torch.from_numpy(index))
    traced = xjit.jit.trace(
        lambda a, i: getattr(xjit, name)(a, dim, i), (xjit.from_numpy(x), xjit.from_numpy(ok))
    )
    np.testing.assert_array_equal(
        traced(xjit.from_numpy(x), xjit.from_numpy(ok)).numpy(),
        getattr(torch, name)(torch.from_numpy(x), dim, torch.from_numpy(ok)).numpy(),
    )
    with pytest.raises(Exception, match=f"run-time check failed at .*test_indexing.py.*{name}"):
        traced(xjit.from_numpy(x), xjit.from_numpy(index))


def test_trace_of_boolean_mask_is_not_frozen() -> None:
    """The trace saw 3 positives; another input's count is its own (the `?` row count)."""
    traced = xjit.jit.trace(lambda x: x[x > 0], (xjit.from_numpy(X),))
    for a in (X, -X, X * 0):
        np.testing.assert_array_equal(
            traced(xjit.from_numpy(a)).numpy(), torch.from_numpy(a)[torch.from_numpy(a) > 0]
        )


SCRIPTED = """
def f(x, i):
    c = i.clamp(0, 3)
    j = i[1]  # a 0-d index: TorchScript places it as numpy does (eager torch: as an int)
    return (x[j], x[j, :, i], x[0, j],
            x[i], x[:, c], x[1, :, i], x[i, :, i], x[c[:2].reshape(2, 1), :, c], x[None, c],
            x[[0, 2]][:, None, [1, 1]], torch.index_select(x, 2, c),
            x.gather(1, c.reshape(4, 1, 1).expand(4, 3, 6)),
            torch.take_along_dim(x, c.reshape(1, 1, 4), 2))

def mask(x):
    return x[x > 0]
"""


def test_scripted_matches_torchscript() -> None:
    check_function(SCRIPTED, "f", (xjit.from_numpy(X), xjit.from_numpy(IDX)))


def test_scripted_boolean_mask_matches_torchscript() -> None:
    check_function(SCRIPTED, "mask", (xjit.from_numpy(X),), (xjit.from_numpy(-X),))


@pytest.mark.parametrize(
    "bad",
    [
        lambda t, x: x[t.tensor([0, 7])],
        lambda t, x: x[t.tensor([0.0])],
        lambda t, x: t.index_select(x, 0, t.tensor([9])),
        lambda t, x: t.gather(x, 0, t.tensor([[[9]]])),
        lambda t, x: x[t.ones(3, dtype=t.bool)],  # mask shape mismatch
    ],
)
def test_eager_errors_match_torch(bad: Any) -> None:
    with pytest.raises((IndexError, RuntimeError)):
        bad(torch, torch.from_numpy(X))
    with pytest.raises((IndexError, RuntimeError, ValueError)):
        bad(xjit, xjit.from_numpy(X))


# -- random index expressions against torch ------------------------------------------------------


@st.composite
def _index_case(draw: Any) -> tuple[tuple[int, ...], list[Any]]:
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=4)))
    parts: list[Any] = []
    dim = 0
    ellipsis = False
    bshape = tuple(draw(st.lists(st.integers(1, 3), min_size=0, max_size=2)))
    while dim < len(shape) and draw(st.booleans()):
        n = shape[dim]
        kind = draw(st.sampled_from(["int", "slice", "none", "tensor", "list", "ellipsis"]))
        if kind == "int":
            parts.append(("int", draw(st.integers(-n, n - 1))))
        elif kind == "slice":
            a, b = draw(st.integers(-n, n)), draw(st.integers(-n, n))
            parts.append(("slice", a, b, draw(st.integers(1, 2))))
        elif kind == "none":
            parts.append(("none",))
            continue
        elif kind == "tensor":
            vals = draw(st.lists(st.integers(-n, n - 1), min_size=1, max_size=1))
            arr = np.resize(np.array(vals * int(np.prod(bshape)) or vals), bshape or ())
            parts.append(("tensor", arr.astype(np.int64)))
        elif kind == "list":
            parts.append(("list", draw(st.lists(st.integers(-n, n - 1), min_size=1, max_size=3))))
        elif not ellipsis:
            ellipsis = True
            parts.append(("ellipsis",))
            dim = len(shape)  # the rest is taken by `...`
            continue
        dim += 1
    return shape, parts


def _build(t: Any, parts: list[Any]) -> tuple[Any, ...]:
    out: list[Any] = []
    for p in parts:
        if p[0] == "int":
            out.append(p[1])
        elif p[0] == "slice":
            out.append(slice(p[1], p[2], p[3]))
        elif p[0] == "none":
            out.append(None)
        elif p[0] == "tensor":
            out.append(t.from_numpy(p[1].copy()))
        elif p[0] == "list":
            out.append(list(p[1]))
        else:
            out.append(Ellipsis)
    return tuple(out)


@settings(max_examples=150, deadline=None)
@given(_index_case())
def test_random_indexing_matches_torch(case: tuple[tuple[int, ...], list[Any]]) -> None:
    shape, parts = case
    a = np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape)
    try:
        want = torch.from_numpy(a)[_build(torch, parts)]
    except (IndexError, RuntimeError):
        with pytest.raises((IndexError, RuntimeError)):
            xjit.from_numpy(a)[_build(xjit, parts)]
        return
    _same(xjit.from_numpy(a)[_build(xjit, parts)], want)


@settings(max_examples=100, deadline=None)
@given(_index_case(), st.booleans())
def test_random_item_assignment_matches_torch(
    case: tuple[tuple[int, ...], list[Any]], scalar: bool
) -> None:
    """x[index] = v eagerly, v a scalar or a tensor of the indexed shape (so a wrong placement
    of the broadcast dims shows up as wrong values, not only a wrong shape)."""
    shape, parts = case
    a = np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape)
    theirs = torch.from_numpy(a.copy())
    try:
        target = theirs[_build(torch, parts)].shape
    except (IndexError, RuntimeError):
        return  # the indexing errors are test_random_indexing_matches_torch's
    v = -1.0 if scalar else np.asarray(-np.arange(1, 1 + int(np.prod(target)), dtype=np.float32))
    v = v if scalar else v.reshape(target)
    theirs[_build(torch, parts)] = v if scalar else torch.from_numpy(v)
    if not scalar and not np.array_equal(theirs[_build(torch, parts)].numpy(), v):
        return  # an index repeats: which write wins is unspecified
    ours = xjit.from_numpy(a.copy())
    ours[_build(xjit, parts)] = v if scalar else xjit.from_numpy(v)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_mask_and_index_tensors_on_a_parameter_as_torch() -> None:
    """`p[p > 0] = 0` on an nn.Parameter: its indices are plain Tensors, not Parameters (they
    were taken for ints: "only one element tensors can be converted")."""
    a = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    results = []
    for mod in (torch, xjit):
        p = mod.nn.Parameter(mod.from_numpy(a.copy()))
        with mod.no_grad():
            read = p[p > 0].detach().numpy().copy()
            p[p > 0] = 0.0
            p[p < -0.5] = mod.tensor(1.0)
            p[:, mod.tensor([0, 2])] = 2.0
        results.append((read, p.detach().numpy().copy()))
    (tr, tp), (xr, xp) = results
    np.testing.assert_array_equal(xr, tr)
    np.testing.assert_array_equal(xp, tp)
