"""Round two of tracing conformance (issue 10), in the style of PyTorch's test/jit/
test_tracer.py and test_save_load.py: `jit.trace` of functions and modules with tuple, list and
dict inputs and outputs, called again on other shapes; `trace_module`; `check_inputs`;
TracerWarning sites; traced modules' `.graph`/`.code`, parameters and submodules; save/load and
freeze of traced modules. xjit against torch.jit.trace of the same code (and eager torch)."""

from __future__ import annotations

import io
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch as real_torch
from script_oracle import assert_same, to_torch

import xjit

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

RNG = np.random.default_rng(12)


def a(*shape: int) -> np.ndarray:
    """Deterministic float32 values in quarters (comparisons are exact)."""
    return (np.round(RNG.uniform(-2, 2, shape) * 4) / 4).astype(np.float32)


def conv(lib: Any, v: Any) -> Any:
    """numpy arrays in a nested structure as tensors of `lib`."""
    if isinstance(v, (tuple, list)):
        return type(v)(conv(lib, x) for x in v)
    if isinstance(v, dict):
        return {k: conv(lib, x) for k, x in v.items()}
    return lib.from_numpy(v.copy()) if isinstance(v, np.ndarray) else v


def same(got: Any, want: Any, where: str = "result") -> None:
    if isinstance(want, dict):
        assert isinstance(got, dict) and list(got) == list(want), where
        for k in want:
            same(got[k], want[k], f"{where}[{k!r}]")
    elif isinstance(want, (tuple, list)):
        assert type(got) is type(want) and len(got) == len(want), where
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            same(g, w, f"{where}[{i}]")
    else:
        assert_same(got, want.detach() if isinstance(want, real_torch.Tensor) else want, where)


def quiet(lib: Any, fn: Any, example: Any, **kw: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return lib.jit.trace(fn, example, **kw)


Make = Callable[[Any], Any]
CASES: list[tuple[str, Make, tuple[Any, ...], list[tuple[Any, ...]], bool]] = [
    ("tuple_in", lambda T: lambda p: p[0] * p[1] + 1, ((a(3), a(3)),), [((a(3), a(3)),)], True),
    (
        "list_in",
        lambda T: lambda xs: xs[0] + xs[1] * 2,
        ([a(2, 3), a(2, 3)],),
        [([a(4, 3), a(4, 3)],)],
        True,
    ),
    (
        "dict_in",
        lambda T: lambda d: d["x"] - d["y"],
        ({"x": a(3), "y": a(3)},),
        [({"x": a(5), "y": a(5)},)],
        True,
    ),
    ("tuple_out", lambda T: lambda x: (x * 2, x.sum()), (a(3),), [(a(5),)], True),
    ("list_out", lambda T: lambda x: [x, x + 1], (a(3),), [(a(3),)], False),
    ("dict_out", lambda T: lambda x: {"a": x * 2, "b": x - 1}, (a(3),), [(a(4),)], False),
    (
        "nested_out",
        lambda T: lambda x, y: ((x + y, x - y), y * 2),
        (a(2), a(2)),
        [(a(4), a(4))],
        True,
    ),
    (
        "other_shapes",
        lambda T: lambda x: T.relu(x).sum(0) * x.size(1),
        (a(3, 4),),
        [(a(5, 4),), (a(2, 7),)],
        True,
    ),
    ("view_infer", lambda T: lambda x: x.view(-1, 2).mean(1), (a(4, 2),), [(a(6, 2),)], True),
    (
        "transpose_matmul",
        lambda T: lambda x, y: x.t() @ y,
        (a(3, 2), a(3, 4)),
        [(a(5, 2), a(5, 4))],
        True,
    ),
    (
        "keyword_ops",
        lambda T: lambda x: T.softmax(x, dim=-1) + T.cumsum(x, dim=0),
        (a(3, 4),),
        [(a(2, 4),)],
        True,
    ),
    (
        "int_tensor",
        lambda T: lambda x: (x * 2) // 3,
        (np.arange(6, dtype=np.int64),),
        [(np.arange(9, dtype=np.int64) - 4,)],
        True,
    ),
    (
        "cat_stack",
        lambda T: lambda x, y: T.stack([T.cat([x, y]), T.cat([y, x])]),
        (a(2), a(2)),
        [(a(3), a(3))],
        True,
    ),
    ("slices", lambda T: lambda x: x[1:, 0] * x[:, -1].sum(), (a(3, 3),), [(a(5, 4),)], True),
    ("where", lambda T: lambda x: T.where(x > 0, x, T.zeros_like(x)), (a(4),), [(a(6),)], True),
    ("inplace_on_clone", lambda T: lambda x: x.clone().add_(1).mul_(2), (a(3),), [(a(3),)], True),
    (
        "size_arith",
        lambda T: lambda x: x.reshape(x.size(0) * x.size(1)) + x.numel(),
        (a(2, 3),),
        [(a(4, 5),)],
        True,
    ),
    (
        "expand_as",
        lambda T: lambda x, y: x.expand_as(y) * y,
        (a(1, 3), a(4, 3)),
        [(a(1, 2), a(5, 2))],
        True,
    ),
    ("unbind_out", lambda T: lambda x: T.unbind(x * 2), (a(3, 2),), [(a(3, 5),)], True),
    ("chunk_sum", lambda T: lambda x: sum(c.sum() for c in x.chunk(2)), (a(4),), [(a(4),)], True),
]


@pytest.mark.parametrize(
    ("name", "make", "example", "others", "strict"), CASES, ids=[c[0] for c in CASES]
)
def test_trace_round2(
    name: str, make: Make, example: tuple[Any, ...], others: list[tuple[Any, ...]], strict: bool
) -> None:
    ours = quiet(xjit, make(xjit), conv(xjit, example), strict=strict)
    theirs = quiet(real_torch, make(real_torch), conv(real_torch, example), strict=strict)
    for args in [example, *others]:
        want = theirs(*conv(real_torch, args))
        same(ours(*conv(xjit, args)), want, name)
        same(make(xjit)(*conv(xjit, args)), want, f"eager {name}")
    assert "func.func @" in ours.graph and "def " in ours.code


def _mlp(lib: Any) -> Any:
    class MLP(lib.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.l1 = lib.nn.Linear(3, 4)
            self.l2 = lib.nn.Linear(4, 2)
            self.register_buffer("shift", lib.ones(2))

        def forward(self, x):
            return self.l2(lib.relu(self.l1(x))) + self.shift

    return MLP()


def _mlps() -> tuple[Any, Any]:
    ours, theirs = _mlp(xjit), _mlp(real_torch)
    theirs.load_state_dict({k: to_torch(v) for k, v in ours.state_dict().items()})
    return ours, theirs


X = a(2, 3)


def test_traced_module_parameters_submodules_and_other_batch() -> None:
    ours, theirs = _mlps()
    to = xjit.jit.trace(ours, conv(xjit, X))
    tt = real_torch.jit.trace(theirs, conv(real_torch, X))
    for y in (X, a(5, 3)):
        same(to(conv(xjit, y)), tt(conv(real_torch, y)))
    assert [n for n, _ in to.named_parameters()] == [n for n, _ in tt.named_parameters()]
    assert list(to.state_dict()) == list(tt.state_dict())
    same(to.l1.weight, tt.l1.weight)
    assert "def forward" in to.code and "func.func @forward" in to.graph


def test_traced_module_save_load_and_freeze() -> None:
    ours, theirs = _mlps()
    to = xjit.jit.trace(ours, conv(xjit, X))
    tt = real_torch.jit.trace(theirs, conv(real_torch, X))
    bo, bt = io.BytesIO(), io.BytesIO()
    xjit.jit.save(to, bo, _extra_files={"cfg": "v1"})
    real_torch.jit.save(tt, bt, _extra_files={"cfg": "v1"})
    bo.seek(0)
    bt.seek(0)
    fo, ft = {"cfg": ""}, {"cfg": ""}
    lo, lt = xjit.jit.load(bo, _extra_files=fo), real_torch.jit.load(bt, _extra_files=ft)
    assert fo["cfg"] in ("v1", b"v1") and ft["cfg"] in ("v1", b"v1")
    same(lo(conv(xjit, X)), lt(conv(real_torch, X)))
    same(lo.l2.bias, lt.l2.bias)
    assert list(lo.state_dict()) == list(lt.state_dict())
    assert "def forward" in lo.code
    fz = xjit.jit.freeze(xjit.jit.script(ours).eval())
    same(
        fz(conv(xjit, X)),
        real_torch.jit.freeze(real_torch.jit.script(theirs).eval())(conv(real_torch, X)),
    )


def _two_methods(lib: Any) -> Any:
    class M(lib.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.w = lib.nn.Parameter(lib.ones(3) * 2)

        def forward(self, x):
            return x * self.w

        def other(self, x):
            return x - self.w

        def double(self, x):  # named like nn.Module.double
            return x * 2 + self.w

    return M()


def test_trace_module_methods_and_a_saved_method_named_like_a_module_method() -> None:
    x = a(3)
    ours = xjit.jit.trace_module(
        _two_methods(xjit), {"forward": conv(xjit, x), "other": conv(xjit, x)}
    )
    theirs = real_torch.jit.trace_module(
        _two_methods(real_torch), {"forward": conv(real_torch, x), "other": conv(real_torch, x)}
    )
    same(ours(conv(xjit, x)), theirs(conv(real_torch, x)))
    same(ours.other(conv(xjit, x)), theirs.other(conv(real_torch, x)))
    # (torch's own loaded module answers `double` with nn.Module.double: eager is the oracle)
    m = _two_methods(xjit)
    traced = xjit.jit.trace_module(m, {"forward": conv(xjit, x), "double": conv(xjit, x)})
    buf = io.BytesIO()
    xjit.jit.save(traced, buf)
    buf.seek(0)
    loaded = xjit.jit.load(buf)
    want = _two_methods(real_torch).double(conv(real_torch, x))
    same(loaded.double(conv(xjit, x)), want)


def test_check_inputs_that_agree_pass_silently() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", real_torch.jit.TracerWarning)
        warnings.simplefilter("error", xjit.jit.TracerWarning)
        xjit.jit.trace(
            lambda x: x * 2 + 1, xjit.ones(3), check_inputs=[(xjit.ones(5),), (xjit.zeros(2),)]
        )
        real_torch.jit.trace(
            lambda x: x * 2 + 1,
            real_torch.ones(3),
            check_inputs=[(real_torch.ones(5),), (real_torch.zeros(2),)],
        )


@pytest.mark.parametrize(
    "make",
    [
        lambda T: lambda x: x * len(x.tolist()),
        lambda T: lambda x: x + float(x.sum()),
        lambda T: lambda x: x * 2 if bool(x.sum() > 0) else x - 1,
        lambda T: lambda x: T.stack([r * 2 for r in x]),
    ],
    ids=["tolist", "float_of_tensor", "data_branch", "iterate_rows"],
)
def test_tracer_warning_sites_round2(make: Make) -> None:
    """Where torch.jit.trace warns, xjit warns too; the traced result agrees on the example."""
    x = a(3, 2) + 3
    with pytest.warns(real_torch.jit.TracerWarning):
        theirs = real_torch.jit.trace(make(real_torch), conv(real_torch, x), check_trace=False)
    with pytest.warns(xjit.jit.TracerWarning):
        ours = xjit.jit.trace(make(xjit), conv(xjit, x), check_trace=False)
    same(ours(conv(xjit, x)), theirs(conv(real_torch, x)))


def test_traced_function_inside_scripted_function() -> None:
    def make(lib: Any) -> Any:
        traced = quiet(lib, lambda x: x * 3, lib.ones(3))

        def caller(x):
            return traced(x) + 1

        return traced, caller

    x = a(3)
    t_ours, _ = make(xjit)
    t_theirs, _ = make(real_torch)
    same(t_ours(conv(xjit, x)), t_theirs(conv(real_torch, x)))
