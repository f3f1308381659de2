"""Boolean masks and data-sized results in scripted code, against torch.jit.script: `x[mask]`,
`masked_select`, `nonzero` (a `?` row count each input decides), the writes `x[mask] = v`,
`x[0, idx] = v` and friends, and integer floor division on tensors."""

from __future__ import annotations

import numpy as np
import pytest
import torch as real_torch
from script_oracle import check_function, load

import xjit
from xjit.errors import FrontendError

RNG = np.random.default_rng(11)
X = RNG.standard_normal((4, 5)).astype(np.float32)
ARGS = [(xjit.from_numpy(a),) for a in (X, -X, np.abs(X) + 1, -np.abs(X) - 1, X[::-1].copy())]

READS = """
def mask_index(x):
    return x[x > 0]

def row_mask(x):
    return x[x[:, 0] > 0]

def column_mask(x):
    return x[:, x[0] > 0]

def masked_selects(x):
    return torch.masked_select(x, x > 0), x.masked_select(x[0] > 0)

def nonzeros(x):
    return torch.nonzero(x > 0), (x < 0).nonzero()

def downstream(x):
    y = x[x > 0]
    z = torch.cat([y, y * 2])
    return y.sum(), y.mean(), z + 1, y.numel(), y.size(0)

def mask_then_int(x):
    return x[x[:, 0] > 0, 1]

def mask_in_loop(x):
    t = torch.zeros(1)
    for i in range(3):
        t = t + x[x > i - 1].sum()
    return t
"""


@pytest.mark.parametrize(
    "name",
    [
        "mask_index",
        "row_mask",
        "column_mask",
        "masked_selects",
        "nonzeros",
        "downstream",
        "mask_then_int",
        "mask_in_loop",
    ],
)
def test_reads_match_torchscript(name: str) -> None:
    check_function(READS, name, *ARGS)


REFUSED = """
def mismatch(x, m):
    return x[m]
"""


def test_mask_shape_mismatch_is_refused_at_compile_time() -> None:
    """TorchScript raises when called; xjit knows the sizes when it compiles: it raises then."""
    m = xjit.ones(3, dtype=xjit.bool)
    with pytest.raises(RuntimeError, match="The shape of the mask"):
        real_torch.jit.script(load(REFUSED, real_torch)["mismatch"])(
            real_torch.from_numpy(X), real_torch.ones(3, dtype=real_torch.bool)
        )
    with pytest.raises(FrontendError, match=r"\.py:3:\d+: error: The shape of the mask \[3\]"):
        xjit.jit.script(load(REFUSED, xjit)["mismatch"])(xjit.from_numpy(X), m)


def test_mask_after_ellipsis_matches_eager_torch() -> None:
    """TorchScript refuses a tensor index after `...`; xjit scripts it as eager torch reads it."""
    src = "def f(x):\n    return x[..., x[1] < 0]\n"
    scripted = xjit.jit.script(load(src, xjit)["f"])
    for (a,) in ARGS:
        t = real_torch.from_numpy(a.numpy().copy())
        np.testing.assert_array_equal(scripted(a).numpy(), t[..., t[1] < 0].numpy())


# -- integer floor division on tensors ------------------------------------------------------------

DIVS = """
def tensor_floordiv(t, u):
    return t // u, t // 2, t // -3, t % u, torch.div(t, u, rounding_mode="floor")

def scalar_floordiv_tensor(t):
    return 7 // t, -7 // t, 7.5 // t

def int_floordiv(a: int, b: int):
    return a // b, a % b
"""

A = xjit.tensor([-7, 7, -7, 7, 0, 5])
B = xjit.tensor([2, -2, -2, 2, 3, -5])


def test_int_tensor_floordiv_matches_torchscript() -> None:
    check_function(DIVS, "tensor_floordiv", (A, B), (B, A.abs() + 1))
    check_function(DIVS, "scalar_floordiv_tensor", (xjit.tensor(-3),), (xjit.tensor(2),))
    check_function(DIVS, "int_floordiv", (7, -2), (-7, 3))


def _raises_both(name: str, *args: object) -> None:
    ours = xjit.jit.script(load(DIVS, xjit)[name])
    theirs = real_torch.jit.script(load(DIVS, real_torch)[name])
    from script_oracle import to_torch

    with pytest.raises(RuntimeError, match="ZeroDivisionError|division by 0"):
        theirs(*to_torch(args))
    with pytest.raises(ValueError, match="ZeroDivisionError"):  # the compiled run-time check
        ours(*args)


def test_zero_divisors_raise_like_torchscript() -> None:
    """A zero among the divisors raises (numpy would give 0 and a warning: a wrong number)."""
    _raises_both("tensor_floordiv", A, xjit.tensor([2, -2, 0, 2, 3, -5]))
    _raises_both("scalar_floordiv_tensor", xjit.tensor(0))
    _raises_both("int_floordiv", 7, 0)


def test_scalar_floordiv_of_a_vector_is_refused_as_torchscript_raises() -> None:
    theirs = real_torch.jit.script(load(DIVS, real_torch)["scalar_floordiv_tensor"])
    with pytest.raises(RuntimeError, match="dimension other than 0"):
        theirs(real_torch.tensor([1, 2]))
    with pytest.raises(FrontendError, match="dimension other than 0 as a scalar argument"):
        xjit.jit.script(load(DIVS, xjit)["scalar_floordiv_tensor"])(xjit.tensor([1, 2]))


def test_traced_int_floordiv_matches_eager_torch() -> None:
    """`2 // t` and `t // u` traced: the divisor is data, checked for zeros at run time."""

    def f(T: object, t: object, u: object) -> object:
        return 2 // t, t // u, t // 2

    traced = xjit.jit.trace(lambda t, u: f(xjit, t, u), (B, A.abs() + 1))
    for t, u in ((B, A.abs() + 1), (-B, B)):
        got = traced(t, u)
        want = f(real_torch, *to_torch_pair(t, u))
        for g, w in zip(got, want, strict=True):
            np.testing.assert_array_equal(g.numpy(), w.numpy())
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        f(real_torch, *to_torch_pair(B, A))  # A holds a 0
    with pytest.raises(ValueError, match="ZeroDivisionError"):
        traced(B, A)
    with pytest.raises(ValueError, match="ZeroDivisionError"):
        traced(A, B)  # 2 // A


def to_torch_pair(t: xjit.Tensor, u: xjit.Tensor) -> tuple[real_torch.Tensor, real_torch.Tensor]:
    return real_torch.from_numpy(t.numpy().copy()), real_torch.from_numpy(u.numpy().copy())


# -- writes through a mask ----------------------------------------------------------------------

WRITES = """
def mask_values(x):
    y = x * 1
    y[y > 0] = x[x > 0] * 2
    return y

def mask_rows(x):
    y = x * 1
    y[x[:, 0] > 0] = torch.zeros(5) + 3
    return y

def mask_scalar(x):
    y = x * 1
    y[y < 0] = 0.5
    return y

def mask_fixed_count(x, v):
    y = x * 1
    y[y > 0] = v
    return y

def mask_alias(x):
    y = x * 1
    z = y
    y[y > 0] = x[x > 0] * 2
    return z
"""


@pytest.mark.parametrize("name", ["mask_values", "mask_rows", "mask_scalar"])
def test_mask_writes_match_torchscript(name: str) -> None:
    check_function(WRITES, name, *ARGS)


def test_mask_write_count_is_checked_at_run_time() -> None:
    v = xjit.ones(int((X > 0).sum()))
    check_function(WRITES, "mask_fixed_count", (xjit.from_numpy(X), v))
    ours = xjit.jit.script(load(WRITES, xjit)["mask_fixed_count"])
    theirs = real_torch.jit.script(load(WRITES, real_torch)["mask_fixed_count"])
    other = np.abs(X)  # more trues than values
    with pytest.raises(RuntimeError, match="shape mismatch"):
        theirs(real_torch.from_numpy(other), real_torch.ones(len(v)))
    with pytest.raises(ValueError, match="size mismatch at .*index_put"):
        ours(xjit.from_numpy(other), v)


def test_mask_write_through_an_alias_matches_torchscript() -> None:
    """TorchScript writes in place, so `z` sees it; xjit writes the update back and recomputes
    every alias of it (frontends/script/alias_updates.py)."""
    check_function(WRITES, "mask_alias", *ARGS)


WHERES = """
def where_one_arg(x):
    idx = torch.where(x > 0)
    return idx[0], idx[1], x[idx[0], idx[1]].sum(), len(idx)

def where_three_args(x):
    return torch.where(x > 0, x, x * 2)
"""


def test_where_one_arg_matches_torchscript() -> None:
    """TorchScript's `torch.where(cond)` is a List[Tensor], one index tensor per dim."""
    check_function(WHERES, "where_one_arg", *ARGS)
    check_function(WHERES, "where_three_args", *ARGS)


# -- writes through integer tensor indices mixed with ints and slices ---------------------------

MIXED = """
def row0(x, idx):
    y = x * 1
    y[0, idx] = 7.0
    return y

def cols(x, idx):
    y = x * 1
    y[:, idx] = torch.zeros(4, 2) - 1
    return y

def rows_tail(x, idx):
    y = x * 1
    y[idx, 1:] = x[0, 1:] * 3
    return y

def middle(x, idx):
    y = x.reshape(2, 2, 5) * 1
    y[:, 1, idx] = y[:, 0, idx] + 10
    return y

def augmented(x, idx):
    y = x * 1
    y[1, idx] += 5.0
    return y

def through_alias(x, idx):
    y = x * 1
    z = y
    y[0, idx] = 7.0
    return z
"""

IDX_ARGS = [(xjit.from_numpy(X), xjit.tensor([3, 1])), (xjit.from_numpy(-X), xjit.tensor([0, -1]))]


@pytest.mark.parametrize("name", ["row0", "cols", "rows_tail", "middle", "augmented"])
def test_mixed_index_writes_match_torchscript(name: str) -> None:
    check_function(MIXED, name, *IDX_ARGS)


def test_mixed_index_write_out_of_range_raises() -> None:
    bad = (xjit.from_numpy(X), xjit.tensor([0, 5]))
    theirs = real_torch.jit.script(load(MIXED, real_torch)["row0"])
    with pytest.raises(RuntimeError, match="out of bounds"):
        theirs(real_torch.from_numpy(X), real_torch.tensor([0, 5]))
    with pytest.raises(ValueError, match="index out of bounds"):
        xjit.jit.script(load(MIXED, xjit)["row0"])(*bad)


def test_mixed_index_write_through_an_alias_matches_torchscript() -> None:
    check_function(MIXED, "through_alias", *IDX_ARGS)
