"""Op breadth: every op of the eager API, each run three ways and compared.

1. eager (`import xjit as torch`) against a numpy formula written here (the oracle);
2. `xjit.jit.trace` + compile (torch → linalg → loops → generated numpy) against eager;
3. the loops-stage IR of the same trace run by xDSL's interpreter against eager (small shapes).

Shapes cover broadcasting, size-0 and size-1 dims and negative values; dtypes f32/f64/i64/bool.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable

import numpy as np
import pytest

import xjit as torch
import xjit.nn.functional as F
from xjit.backends.interpreter import run_interpreted
from xjit.dialects import make_context
from xjit.ops.elementwise_ops import erf
from xjit.passes.pipelines import TORCH_TO_LOOPS_STAGES, run_passes

RNG = np.random.default_rng(1234)


def randn(*shape: int, dtype: type = np.float32) -> torch.Tensor:
    return torch.from_numpy(RNG.standard_normal(shape).astype(dtype))


def randint(*shape: int, lo: int = -5, hi: int = 6) -> torch.Tensor:
    return torch.from_numpy(RNG.integers(lo, hi, shape).astype(np.int64))


def randbool(*shape: int) -> torch.Tensor:
    return torch.from_numpy(RNG.random(shape) > 0.5)


def _flat(v: object) -> list[torch.Tensor]:
    return list(v) if isinstance(v, (tuple, list)) else [v]  # type: ignore[arg-type]


def _close(got: np.ndarray, want: np.ndarray, tol: float) -> None:
    assert got.shape == want.shape, (got.shape, want.shape)
    if got.dtype.kind == "f":
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol, equal_nan=True)
    else:
        np.testing.assert_array_equal(got, want)


def check(
    fn: Callable, inputs: tuple, oracle: Callable | None, tol: float = 1e-5, interp: bool = True
) -> None:
    """eager vs oracle, compiled vs eager, interpreted loops vs eager."""
    eager = _flat(fn(*inputs))
    if oracle is not None:
        want = _flat(oracle(*[x.numpy() for x in inputs]))
        for e, w in zip(eager, want, strict=True):
            w = np.asarray(w)
            assert e.numpy().dtype == w.dtype, (e.numpy().dtype, w.dtype)
            _close(e.numpy(), w, tol)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scalar-loop fallbacks are reported, not errors
        traced = torch.jit.trace(fn, inputs)
        compiled = _flat(traced(*inputs))
    for c, e in zip(compiled, eager, strict=True):
        assert c.numpy().dtype == e.numpy().dtype
        _close(c.numpy(), e.numpy(), tol)
    if not interp:
        return
    module = traced.torch_ir.clone()
    for _, names in TORCH_TO_LOOPS_STAGES:
        run_passes(make_context(), module, names, after_each=lambda n, m: m.verify())
    got = run_interpreted(module, traced.name, [x.numpy() for x in inputs])
    for g, e in zip(got, eager, strict=True):
        _close(np.asarray(g).astype(e.numpy().dtype), e.numpy(), tol)


# -- the tutorial's ops first: sum, comparisons with scalars, x[i], zeros/ones ---------------------


def sum_all(x):
    return x.sum()


def sum_dim(x):
    return x.sum(1), torch.sum(x, -1, keepdim=True), x.sum(dim=[0, -1])


def gt_lt_scalar(x):
    return x > 0, x < 0.5, x.sum() > 0


def index_int(x):
    return x[1], x[-1], x[0][2]


def zeros_ones(x):
    return torch.zeros(3, 4) + x, torch.ones(3, 4, dtype=torch.int64), torch.zeros((2,))


@pytest.mark.parametrize("shape", [(3, 4), (1, 4), (3, 1), (2, 0)])
def test_sum(shape):
    x = randn(*shape)
    check(sum_all, (x,), lambda a: np.sum(a.astype(np.float64)).astype(np.float32))
    check(sum_dim, (x,), lambda a: (a.sum(1), a.sum(-1, keepdims=True), a.sum((0, 1))))


@pytest.mark.parametrize("make", [lambda: randint(3, 4), lambda: randbool(3, 4)])
def test_sum_of_ints_and_bools_is_int64(make):
    check(sum_all, (make(),), lambda a: np.sum(a, dtype=np.int64))
    check(
        sum_dim,
        (make(),),
        lambda a: (
            a.sum(1, dtype=np.int64),
            a.sum(-1, keepdims=True, dtype=np.int64),
            a.sum((0, 1), dtype=np.int64),
        ),
    )


@pytest.mark.parametrize("make", [lambda: randn(3, 4), lambda: randint(2, 3), lambda: randn(0, 2)])
def test_scalar_comparisons(make):
    check(gt_lt_scalar, (make(),), lambda a: (a > 0, a < 0.5, np.asarray(a.sum() > 0)))


def test_tutorial_gate_condition_is_a_bool_scalar():
    x = torch.tensor([[1.0, -3.0]])
    c = x.sum() > 0
    assert c.dtype == torch.bool and c.shape == () and not bool(c)


def test_index_with_ints():
    check(index_int, (randn(3, 4),), lambda a: (a[1], a[-1], a[0][2]))
    check(index_int, (randint(2, 3),), lambda a: (a[1], a[-1], a[0][2]))


def test_zeros_ones_are_ops_in_traces():
    x = randn(3, 4)
    check(zeros_ones, (x,), lambda a: (a + 0, np.ones((3, 4), np.int64), np.zeros(2, np.float32)))
    g = torch.jit.trace(zeros_ones, (x,)).graph
    assert "torch.aten.zeros" in g and "torch.aten.ones" in g and "vtensor.literal" not in g


def test_select_with_run_time_index_lowers_to_masked_reduction():
    """`xs[i]` with `i` only known at run time (a scripted loop counter): built by hand here."""
    from xdsl.builder import InsertPoint
    from xdsl.dialects import func
    from xdsl.dialects.builtin import ModuleOp
    from xdsl.ir import Block, Region

    from xjit.dialects import torch as td
    from xjit.frontends.builder import TorchBuilder, vtensor_type
    from xjit.ops.registry import lookup
    from xjit.ops.types import TensorMeta, float32

    block = Block(arg_types=[vtensor_type(TensorMeta((4, 3, 2), float32)), td.IntType()])
    b = TorchBuilder(InsertPoint.at_end(block))
    (r,) = b.emit(lookup("aten.select.int"), [block.args[0], 0, block.args[1]])
    block.add_op(func.ReturnOp(r))
    f = func.FuncOp("f", ([a.type for a in block.args], [r.type]), Region(block))
    module = ModuleOp([f])
    module.verify()
    for _, names in TORCH_TO_LOOPS_STAGES:
        run_passes(make_context(), module, names, after_each=lambda n, m: m.verify())
    xs = RNG.standard_normal((4, 3, 2)).astype(np.float32)
    for i in (0, 2, -1):
        (got,) = run_interpreted(module, "f", [xs, i])
        np.testing.assert_array_equal(got, xs[i])


# -- elementwise -------------------------------------------------------------------------------------

UNARY = {
    "neg": (torch.neg, np.negative),
    "abs": (torch.abs, np.abs),
    "exp": (torch.exp, np.exp),
    "log": (torch.log, np.log),
    "sqrt": (torch.sqrt, np.sqrt),
    "rsqrt": (torch.rsqrt, lambda a: 1 / np.sqrt(a)),
    "tanh": (torch.tanh, np.tanh),
    "sigmoid": (torch.sigmoid, lambda a: 1 / (1 + np.exp(-a))),
    "relu": (torch.relu, lambda a: np.maximum(a, 0)),
    "gelu": (
        F.gelu,
        lambda a: (
            0.5
            * a
            * (1 + np.vectorize(math.erf, otypes=[np.float64])(a.astype(np.float64) / math.sqrt(2)))
        ),
    ),
    "sin": (torch.sin, np.sin),
    "cos": (torch.cos, np.cos),
    "reciprocal": (torch.reciprocal, lambda a: 1 / a),
}


@pytest.mark.parametrize("name", sorted(UNARY))
@pytest.mark.parametrize(
    "shape,dtype", [((2, 3), np.float32), ((1, 0), np.float32), ((3,), np.float64)]
)
def test_unary(name, shape, dtype):
    op, ref = UNARY[name]
    x = randn(*shape, dtype=dtype)
    if name in ("log", "sqrt", "rsqrt"):
        x = torch.abs(x) + 0.1

    def f(x):
        return op(x)

    def oracle(a):
        with np.errstate(all="ignore"):
            return np.asarray(ref(a)).astype(dtype)

    check(f, (x,), oracle, tol=1e-5)


def test_erf_is_accurate():
    xs = np.concatenate([np.linspace(-7, 7, 2001), [0.0, -0.0, 1e-300, 3.0, -3.0, np.inf, -np.inf]])
    want = np.array([math.erf(v) for v in xs])
    assert np.max(np.abs(erf(xs) - want)) < 1e-7
    assert np.isnan(erf(np.array([np.nan])))[0]


@pytest.mark.parametrize(
    "sa,sb", [((3, 4), (3, 4)), ((3, 1), (1, 4)), ((4,), (2, 1)), ((0, 2), (1, 2))]
)
def test_binary_broadcasting(sa, sb):
    def f(x, y):
        return (
            x + y,
            x - y,
            x * y,
            x / y,
            torch.maximum(x, y),
            torch.minimum(x, y),
            torch.abs(x) ** y,
        )

    def oracle(a, b):
        with np.errstate(all="ignore"):
            return a + b, a - b, a * b, a / b, np.maximum(a, b), np.minimum(a, b), np.abs(a) ** b

    check(f, (randn(*sa), randn(*sb)), oracle)


def test_binary_with_scalars_and_promotion():
    def f(x, n):
        return x * 2 - 1.5, 2**x, x**2, n + 1, n * 0.5, n / 2, n**2, torch.maximum(n, x)

    def oracle(a, n):
        return (
            a * 2 - np.float32(1.5),
            np.float32(2) ** a,
            a**2,
            n + 1,
            (n * 0.5).astype(np.float32),
            (n / 2).astype(np.float32),
            n**2,
            np.maximum(n, a).astype(np.float32),
        )

    check(f, (randn(3, 4), randint(3, 4)), oracle)


@pytest.mark.parametrize(
    "make",
    [
        lambda: (randn(3, 4), randn(1, 4)),
        lambda: (randint(2, 3), randint(2, 3)),
        lambda: (randint(2, 3), randn(2, 3, dtype=np.float64)),
    ],
)
def test_comparisons_tensor_and_scalar(make):
    def f(x, y):
        return x < y, x <= y, x > y, x >= y, x == y, x != y, x > 1, x <= 0.5, x == 0, x != 2

    def oracle(a, b):
        return a < b, a <= b, a > b, a >= b, a == b, a != b, a > 1, a <= 0.5, a == 0, a != 2

    check(f, make(), oracle)


def test_where_and_logical():
    def f(c, x, y):
        return (
            torch.where(c, x, y),
            torch.where(c, x, 0.0),
            torch.where(x > 0, 1.0, y),
            torch.logical_and(c, x > 0),
            torch.logical_or(c, x),
            torch.logical_not(c),
        )

    def oracle(c, a, b):
        return (
            np.where(c, a, b),
            np.where(c, a, np.float32(0)),
            np.where(a > 0, np.float32(1), b),
            c & (a > 0),
            c | (a != 0),
            ~c,
        )

    check(f, (randbool(3, 4), randn(3, 4), randn(1, 4)), oracle)


def test_bool_maximum_is_or():
    def f(a, b):
        return torch.maximum(a, b), torch.minimum(a, b)

    check(f, (randbool(2, 3), randbool(2, 3)), lambda a, b: (a | b, a & b))


# -- reductions ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(3, 4), (1, 5), (2, 3, 2)])
def test_reductions(shape):
    def f(x):
        return (
            x.mean(),
            x.mean(-1),
            x.mean(0, keepdim=True),
            x.amax(-1),
            x.amax(0, keepdim=True),
            x.max(),
            torch.amin(x, -1),
            x.min(),
        )

    def oracle(a):
        return (
            np.mean(a),
            a.mean(-1),
            a.mean(0, keepdims=True),
            a.max(-1),
            a.max(0, keepdims=True),
            np.max(a),
            a.min(-1),
            np.min(a),
        )

    check(f, (randn(*shape),), oracle)


@pytest.mark.parametrize(
    "make", [lambda: randn(3, 4), lambda: randint(3, 4, lo=-2, hi=2), lambda: randn(1, 1, 3)]
)
def test_argmax_and_max_dim(make):
    def f(x):
        v, i = torch.max(x, 1)
        v2, i2 = x.min(-1, keepdim=True)
        return v, i, v2, i2, x.argmax(), x.argmax(0), x.argmin(-1, keepdim=True)

    def oracle(a):
        return (
            a.max(1),
            np.argmax(a, 1),
            a.min(-1, keepdims=True),
            np.argmin(a, -1, keepdims=True),
            np.asarray(np.argmax(a)),
            np.argmax(a, 0),
            np.argmin(a, -1, keepdims=True),
        )

    check(f, (make(),), oracle)


def test_argmax_ties_and_nan_follow_torch():
    x = torch.tensor([[1.0, 3.0, 3.0], [float("nan"), 2.0, float("nan")]])
    assert x.argmax(1).tolist() == [1, 0]
    traced = torch.jit.trace(lambda x: x.argmax(1), (x,))
    assert traced(x).tolist() == [1, 0]


def test_empty_reductions_follow_torch():
    x = torch.zeros(0, 3)
    assert x.sum(0).tolist() == [0.0, 0.0, 0.0]
    assert np.isnan(x.mean(0).numpy()).all()
    with pytest.raises(ValueError, match="non-zero size"):
        x.amax(0)
    with pytest.raises(ValueError, match="floating point"):
        torch.ones(2, dtype=torch.int64).mean()


@pytest.mark.parametrize("shape,dim", [((3, 4), -1), ((3, 4), 0), ((2, 1, 3), 1), ((2, 0), 1)])
def test_softmax_log_softmax(shape, dim):
    def f(x):
        return torch.softmax(x, dim), F.log_softmax(x, dim), x.softmax(dim)

    def oracle(a):
        a64 = a.astype(np.float64)
        e = np.exp(a64 - a64.max(dim, keepdims=True)) if a.size else a64
        s = e / e.sum(dim, keepdims=True)
        return s.astype(np.float32), np.log(s).astype(np.float32), s.astype(np.float32)

    check(f, (randn(*shape) * 3,), oracle, tol=2e-5)


@pytest.mark.parametrize("shape,ns", [((3, 4), [4]), ((2, 3, 4), [3, 4]), ((2, 1), [1])])
def test_layer_norm(shape, ns):
    w, b = randn(*ns), randn(*ns)

    def f(x):
        return F.layer_norm(x, ns, w, b), F.layer_norm(x, ns, eps=1e-3)

    def oracle(a):
        axes = tuple(range(a.ndim - len(ns), a.ndim))
        a64 = a.astype(np.float64)
        mu, var = a64.mean(axes, keepdims=True), a64.var(axes, keepdims=True)
        return (
            ((a64 - mu) / np.sqrt(var + 1e-5) * w.numpy() + b.numpy()).astype(np.float32),
            ((a64 - mu) / np.sqrt(var + 1e-3)).astype(np.float32),
        )

    check(f, (randn(*shape),), oracle, tol=1e-4)


# -- linear algebra --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sa,sb",
    [
        ((3, 4), (4, 2)),
        ((4,), (4, 2)),
        ((3, 4), (4,)),
        ((4,), (4,)),
        ((2, 3, 4), (4, 5)),
        ((2, 3, 4), (1, 4, 2)),
        ((3, 0), (0, 2)),
    ],
)
def test_matmul(sa, sb):
    check(lambda x, y: torch.matmul(x, y), (randn(*sa), randn(*sb)), np.matmul, tol=1e-5)


def test_mm_bmm_addmm_linear_t():
    def f(x, w, b, xs, ys):
        return (
            torch.mm(x, w.t()),
            torch.bmm(xs, ys),
            torch.addmm(b, x, w.t()),
            F.linear(x, w, b),
            F.linear(xs, w),
            x @ w.t(),
        )

    def oracle(x, w, b, xs, ys):
        return x @ w.T, xs @ ys, b + x @ w.T, x @ w.T + b, xs @ w.T, x @ w.T

    check(f, (randn(3, 4), randn(5, 4), randn(5), randn(2, 3, 4), randn(2, 4, 3)), oracle)


def test_transpose_permute():
    def f(x):
        return (
            x.transpose(0, 2),
            torch.transpose(x, -1, -2),
            x.permute(2, 0, 1),
            torch.permute(x, (1, 0, 2)),
        )

    check(
        f,
        (randn(2, 3, 4),),
        lambda a: (
            a.transpose(2, 1, 0),
            a.transpose(0, 2, 1),
            a.transpose(2, 0, 1),
            a.transpose(1, 0, 2),
        ),
    )


# -- shapes -------------------------------------------------------------------------------------------


def test_slicing_and_indexing():
    def f(x):
        return x[:, 1:3], x[..., 0], x[1:, :-1], x[None, 0], x[:, ::2], x[-2:]

    check(
        f,
        (randn(3, 4),),
        lambda a: (a[:, 1:3], a[..., 0], a[1:, :-1], a[None, 0], a[:, ::2], a[-2:]),
    )
    with pytest.raises(IndexError):
        randn(3, 4)[3]
    x = randn(3, 4)
    np.testing.assert_array_equal(x[torch.tensor([0, 2])].numpy(), x.numpy()[[0, 2]])
    with pytest.raises(IndexError, match="not supported"):  # (tests/api/test_indexing.py)
        x[1.5]


def test_views():
    def f(x):
        return (
            x.view(12),
            x.reshape(2, -1),
            x.view(3, 1, 4),
            x.flatten(),
            torch.flatten(x, 0, 1),
            x.unsqueeze(0),
            x.unsqueeze(-1).squeeze(-1),
            x.view(1, 3, 4).squeeze(),
            x.contiguous(),
        )

    def oracle(a):
        return (
            a.reshape(12),
            a.reshape(2, 6),
            a.reshape(3, 1, 4),
            a.reshape(-1),
            a.reshape(-1),
            a[None],
            a,
            a,
            a,
        )

    check(f, (randn(3, 4),), oracle)


def test_expand():
    def f(b):
        return b.expand(3, 4), b.expand(2, -1, 4)

    check(f, (randn(3, 1),), lambda a: (np.broadcast_to(a, (3, 4)), np.broadcast_to(a, (2, 3, 4))))


def test_cat_stack():
    def f(x, y, n):
        return (
            torch.cat([x, y], 0),
            torch.cat([x, x * 2, y], -1),
            torch.stack([x, y], 1),
            torch.cat([x, n], 0),
        )

    def oracle(a, b, n):
        return (
            np.concatenate([a, b]),
            np.concatenate([a, a * 2, b], -1),
            np.stack([a, b], 1),
            np.concatenate([a, n.astype(np.float32)]),
        )

    check(f, (randn(2, 3), randn(2, 3), randint(1, 3)), oracle)  # int64 joins float32: float32


def test_size_and_dim():
    x = randn(2, 3, 4)
    assert x.size() == (2, 3, 4) and x.size(-1) == 4 and x.dim() == 3


# -- creation -----------------------------------------------------------------------------------------


def test_creation_ops():
    def f(x):
        return (
            torch.full((3, 4), 2.5) * x,
            torch.zeros_like(x),
            torch.ones_like(x, dtype=torch.int64),
            torch.arange(4) + x,
            torch.arange(1.0, 3.0, 0.5),
            torch.arange(2, 9, 3),
        )

    def oracle(a):
        return (
            a * np.float32(2.5),
            np.zeros_like(a),
            np.ones(a.shape, np.int64),
            np.arange(4, dtype=np.float32) + a,
            np.arange(1.0, 3.0, 0.5, dtype=np.float32),
            np.arange(2, 9, 3),
        )

    check(f, (randn(3, 4),), oracle)
    assert torch.full((2,), 3).dtype == torch.int64 and torch.full((2,), True).dtype == torch.bool


def test_rand_in_compiled_code_fails_loudly():
    def f(x):
        return x + torch.rand(3)

    with pytest.raises(Exception, match="random number generator"):
        torch.jit.trace(f, (randn(3),))


# -- decompositions run eagerly against the op's own eager semantics -------------------------------


@pytest.mark.parametrize(
    "name,args",
    [
        ("aten.softmax.int", lambda: (randn(3, 4), 1)),
        ("aten.log_softmax.int", lambda: (randn(3, 4), -1)),
        ("aten.mean.dim", lambda: (randn(3, 4), [0], True)),
        ("aten.layer_norm", lambda: (randn(2, 3), [3], randn(3), randn(3), 1e-5, True)),
        ("aten.argmax", lambda: (randn(3, 4), 1, False)),
        ("aten.argmin", lambda: (randint(3, 4), None, True)),
        ("aten.max.dim", lambda: (randn(3, 4), 0, False)),
        ("aten.stack", lambda: ([randn(2, 3), randn(2, 3)], 1)),
        ("aten.flatten.using_ints", lambda: (randn(2, 3, 4), 1, 2)),
        ("aten.linear", lambda: (randn(2, 3, 4), randn(5, 4), randn(5))),
    ],
)
def test_decomposition_matches_eager(name, args):
    from xjit._dispatch import _unwrap, _wrap
    from xjit.ops.registry import lookup

    op = lookup(name)
    a = args()
    want = _flat(_wrap(op.eager(*[_unwrap(v) for v in a])))
    got = _flat(op.decompose(torch, *a))
    for g, w in zip(got, want, strict=True):
        assert g.numpy().dtype == w.numpy().dtype
        _close(g.numpy(), w.numpy(), 1e-5)
