"""The second round of torch API breadth against real PyTorch 2.13: statistics (`std_mean`,
`aminmax`, `nansum`, `cummax`, `kthvalue`, `mode`, `quantile`, ...), products (`mv`, `addr`,
`tensordot`, `kron`, `cdist`), rearrangements (`rot90`, `diff`, `trapezoid`, `block_diag`,
`cartesian_prod`, `combinations`, `Tensor.unfold`), `torch.linalg` (`inv`, `det`, `solve`,
`cholesky`, `qr`, `svd`, `eigh`, `norm`, `matrix_norm`), special functions (`lgamma`,
`digamma`, `polygamma`, `erfinv`), `heaviside`/`copysign`/`ldexp`/`frexp`, counting
(`bincount`, `histc`, `searchsorted`, `bucketize`, `isin`) and random `bernoulli`/
`randint_like`. Each runs with `T = torch` and `T = xjit` on the same inputs -- random ones,
ties, NaN, empty dims, integer and bool dtypes -- eagerly, traced (compiled to loops and run by
the numpy backend) where the op compiles, and scripted against torch's own TorchScript; the
eager-only ones are refused, located, by a trace and by a script."""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch as pt

import xjit
from xjit.errors import FrontendError
from xjit.frontends.trace import TraceError

RTOL, ATOL = 1e-4, 1e-5
RNG = np.random.default_rng(21)
F = RNG.standard_normal((3, 5)).astype(np.float32)
V = RNG.standard_normal((5,)).astype(np.float32)
W = RNG.standard_normal((3,)).astype(np.float32)
I = RNG.integers(-3, 4, (3, 5)).astype(np.int64)  # noqa: E741
IV = RNG.integers(-3, 4, (5,)).astype(np.int64)
B = RNG.random((3, 5)) > 0.5
TIES = RNG.integers(0, 3, (4, 7)).astype(np.float32)  # many equal values per row
NANS = TIES.copy()
NANS[1, 2] = NANS[2, 0] = NANS[2, 5] = np.nan
EMPTY = np.zeros((0, 4), np.float32)
X30 = RNG.standard_normal((30, 5)).astype(np.float32)  # cdist: torch's matrix-product path
SPD = (F.T @ F + 3 * np.eye(5)).astype(np.float32)
SQ = RNG.standard_normal((2, 4, 4)).astype(np.float32)
_G = RNG.standard_normal((5, 5))
SYM = (_G @ _G.T + np.diag(np.arange(1.0, 6.0))).astype(np.float32)  # distinct eigenvalues


def _np(v: Any) -> Any:
    if isinstance(v, (tuple, list)):
        return [_np(x) for x in v]
    if isinstance(v, pt.Tensor):
        return v.detach().numpy()
    if isinstance(v, xjit.Tensor):
        return v.numpy()
    return v


def same(got: Any, want: Any, what: str = "", rtol: float = RTOL) -> None:
    g, w = _np(got), _np(want)
    if isinstance(w, list):
        assert isinstance(g, list) and len(g) == len(w), f"{what}: {len(g)} vs {len(w)} results"
        for k, (a, b) in enumerate(zip(g, w, strict=True)):
            same(a, b, f"{what}[{k}]", rtol)
        return
    assert g.shape == w.shape, f"{what}: shape {g.shape} vs torch's {w.shape}"
    assert g.dtype == w.dtype, f"{what}: dtype {g.dtype} vs torch's {w.dtype}"
    np.testing.assert_allclose(g, w, rtol=rtol, atol=ATOL, err_msg=what)


def run(fn: Callable[..., Any], *arrays: np.ndarray, trace: bool = True) -> None:
    """`fn(T, *inputs)`: xjit eagerly (and traced: compiled) matches torch."""
    want = fn(pt, *[pt.from_numpy(a.copy()) for a in arrays])
    same(fn(xjit, *[xjit.from_numpy(a.copy()) for a in arrays]), want, "eager")
    if trace:
        xs = tuple(xjit.from_numpy(a.copy()) for a in arrays)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            traced = xjit.jit.trace(lambda *a: fn(xjit, *a), xs)
        same(traced(*[xjit.from_numpy(a.copy()) for a in arrays]), want, "traced")


def _case(name: str, fn: Callable[..., Any], *args: np.ndarray) -> Any:
    return pytest.param(fn, args, id=name)


# -- ops that compile: eager and traced ---------------------------------------------------------

COMPILED = [
    _case("std_mean", lambda T, x: (T.std_mean(x), T.std_mean(x, 1, keepdim=True)), F),
    _case("var_mean", lambda T, x: (T.var_mean(x, [0, 1], correction=0), T.var_mean(x, 0)), F),
    _case("aminmax", lambda T, x: (T.aminmax(x), x.aminmax(dim=-1, keepdim=True)), NANS),
    _case("aminmax_int", lambda T, x: (T.aminmax(x, dim=0), T.aminmax(x, keepdim=True)), I),
    _case("aminmax_bool", lambda T, x: T.aminmax(x, dim=1), B),
    _case("aminmax_empty_rows", lambda T, x: T.aminmax(x, dim=1), EMPTY),
    _case("nansum", lambda T, x: (T.nansum(x), T.nansum(x, 1, keepdim=True)), NANS),
    _case("nansum_int", lambda T, x: (T.nansum(x, 0), x.nansum()), I),
    _case("nansum_empty", lambda T, x: T.nansum(x, 0), EMPTY),
    _case("nanmean", lambda T, x: (T.nanmean(x), T.nanmean(x, [0], True)), NANS),
    _case("cummax_cummin_ties_nan", lambda T, x: (T.cummax(x, 1), T.cummin(x, 0)), NANS),
    _case("cummax_cummin_int", lambda T, x: (T.cummax(x, 0), x.cummin(-1)), I),
    _case("cummax_bool", lambda T, x: T.cummax(x, 1), B),
    _case("logcumsumexp", lambda T, x: (T.logcumsumexp(x, 1), T.logcumsumexp(x * 50, 0)), F),
    _case("round_decimals", lambda T, x: (T.round(x * 100, decimals=1), (x * 1e3).round(decimals=-2)), F),
    _case("mv_addmv", lambda T, a, v, w: (T.mv(a, v), T.addmv(w, a, v, beta=0.5, alpha=2)), F, V, W),
    _case("mv_int", lambda T, a, v: (a.mv(v), T.addmv(a[:, 0], a, v)), I, IV),
    _case("addr", lambda T, s, a, b: (T.addr(s, a, b, alpha=2), s.addr(a, b, beta=0)), F, W, V),
    _case("addr_promotes", lambda T, s, a, b: T.addr(s, a, b), F, W.astype(np.float64), IV),
    _case("tensordot", lambda T, a, b: (T.tensordot(a, b, 1), T.tensordot(a, b.t(), ([0, 1], [0, 1]))), F, F.T.copy()),
    _case("tensordot_outer", lambda T, a, b: T.tensordot(a, b, dims=0), W, V),
    _case("kron", lambda T, a, b: (T.kron(a, b), T.kron(b, a[0])), F[:2, :3].copy(), I[:2, :2].copy()),
    _case("kron_bool", lambda T, a: T.kron(a, a[:2]), B),
    _case("cdist", lambda T, a, b: (T.cdist(a, b), T.cdist(a, b, 1.0), T.cdist(a, b, 0.0)), F, F[:2].copy()),
    _case("cdist_p", lambda T, a, b: (T.cdist(a, b, float("inf")), T.cdist(a, b, 3.5)), F, X30),
    _case("rot90", lambda T, x: (T.rot90(x), T.rot90(x, 2, [1, 0]), x.rot90(-1), T.rot90(x, 4)), F),
    _case("rot90_bool", lambda T, x: T.rot90(x, 3, [0, 1]), B),
    _case("diff", lambda T, x: (T.diff(x), T.diff(x, 2, 0), T.diff(x, 0), T.diff(x, 9)), F),
    _case("diff_int_bool", lambda T, a, b: (T.diff(a, dim=0), T.diff(b, 1, 1)), I, B),
    _case("diff_prepend", lambda T, x, p: T.diff(x, 1, 1, prepend=p, append=p), F, I[:, :2].copy()),
    _case("trapezoid", lambda T, y, x: (T.trapezoid(y), T.trapezoid(y, x), T.trapezoid(y, dx=0.5, dim=0)), F, V),
    _case("trapezoid_int", lambda T, y, x: (T.trapezoid(y), T.trapezoid(y, x, dim=1)), I, IV),
    _case("block_diag", lambda T, a, b, c: T.block_diag(a, b, c), F, I[:2, :2].copy(), V),
    _case("block_diag_bool", lambda T, a: T.block_diag(a, a[:1]), B),
    _case("cartesian_prod", lambda T, a, b: (T.cartesian_prod(a, b), T.cartesian_prod(a)), V, W),
    _case("combinations", lambda T, a: (T.combinations(a), T.combinations(a, 3, True), T.combinations(a, 0), T.combinations(a[:2], 3)), W),
    _case("unfold", lambda T, x: (x.unfold(1, 2, 1), x.unfold(0, 3, 2), x.unfold(-1, 5, 3)), F),
    _case("isin", lambda T, e, t: (T.isin(e, t), T.isin(e, t, invert=True), T.isin(e, 2), T.isin(2, t)), I, IV),
    _case("isin_nan", lambda T, e: T.isin(e, e[1]), NANS),
    _case("heaviside", lambda T, x, v: (T.heaviside(x, v), x.heaviside(x)), np.where(B, 0, F), V),
    _case("heaviside_int", lambda T, x: T.heaviside(x, x[0]), I),
    _case("copysign", lambda T, x, y, i: (T.copysign(x, y), T.copysign(i, -1), T.copysign(x, -0.0), T.copysign(i, y)), F, -F, I),
    _case("ldexp", lambda T, x, e: (T.ldexp(x, e), T.ldexp(e, e), x.ldexp(x)), F, I),
    _case("matrix_norm", lambda T, x: tuple(T.linalg.matrix_norm(x, o) for o in ("fro", 1, -1, math.inf, -math.inf)), F),
    _case("matrix_norm_dims", lambda T, x: (T.linalg.matrix_norm(x, 1, dim=(2, 0), keepdim=True), T.linalg.matrix_norm(x, dim=(0, 2))), SQ),
    _case("linalg_norm", lambda T, x, v: (T.linalg.norm(x), T.linalg.norm(x, 1), T.linalg.norm(x, 3, dim=1), T.linalg.norm(v, math.inf), T.linalg.norm(x, dim=(0, 1))), F, V),
]  # fmt: skip


@pytest.mark.parametrize(("fn", "args"), COMPILED)
def test_compiled_ops_against_torch(fn: Any, args: Any) -> None:
    run(fn, *args)


def test_cdist_matrix_product_path() -> None:
    # more than 25 rows: |x|^2 - 2 x.y + |y|^2 as torch, whose rounding near a zero distance is
    # the BLAS's (sqrt of a cancellation): equal to torch within that formula's error
    def fn(T: Any, a: Any, b: Any) -> Any:
        return T.cdist(a, b), T.cdist(b, b, compute_mode="use_mm_for_euclid_dist")

    want = _np(fn(pt, pt.from_numpy(F), pt.from_numpy(X30)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the trace's own check sees that noise too
        traced = xjit.jit.trace(lambda a, b: fn(xjit, a, b), _xs(F, X30))
    for got in (_np(fn(xjit, *_xs(F, X30))), _np(traced(*_xs(F, X30)))):
        for g, w in zip(got, want, strict=True):
            assert g.shape == w.shape and g.dtype == w.dtype
            np.testing.assert_allclose(g, w, rtol=1e-4, atol=2e-3)


# -- eager only: against torch eagerly, refused by a trace ---------------------------------------

EAGER_ONLY = [
    _case("kthvalue", lambda T, x: (T.kthvalue(x, 2, 1), T.kthvalue(x, 3, 0, True), x.kthvalue(7)), TIES),
    _case("kthvalue_nan", lambda T, x: (T.kthvalue(x, 1), T.kthvalue(x, 7), T.kthvalue(x, 3, 0)), NANS),
    _case("kthvalue_int", lambda T, x: T.kthvalue(x, 4, 1), I),
    _case("mode", lambda T, x: (T.mode(x), T.mode(x, 0, True)), TIES),
    _case("mode_nan", lambda T, x: (T.mode(x), x.mode(0)), NANS),
    _case("mode_int_bool", lambda T, x, b: (T.mode(x, 1), T.mode(b, 0)), I, B),
    _case("quantile", lambda T, x: (T.quantile(x, 0.3), T.quantile(x, 0.7, 1, True), T.quantile(x, T.tensor([0.1, 0.5, 1.0]), 0)), F),
    _case("quantile_modes", lambda T, x: tuple(T.quantile(x, 0.4, 1, interpolation=m) for m in ("linear", "lower", "higher", "midpoint", "nearest")), TIES),
    _case("nanquantile", lambda T, x: (T.nanquantile(x, 0.5), T.nanquantile(x, T.tensor([0.25, 0.75]), 1, True), T.quantile(x, 0.5, 1)), NANS),
    _case("lgamma_digamma", lambda T, x: (T.lgamma(x), T.digamma(x), x.lgamma(), x.digamma()), F * 4),
    _case("polygamma", lambda T, x: tuple(T.polygamma(n, x) for n in range(5)), np.abs(F) * 3 + 0.1),
    _case("special_int", lambda T, x: (T.lgamma(x), T.digamma(x), T.polygamma(1, x), T.polygamma(2, x)), I),
    _case("erfinv", lambda T, x: (T.erfinv(x), x.double().erfinv()), np.clip(F / 2.5, -0.999, 0.999)),
    _case("frexp", lambda T, x: (T.frexp(x), x.double().frexp()), F * 100),
    _case("bincount", lambda T, c, w: (T.bincount(c), T.bincount(c, w, 10), c.bincount(c)), np.abs(IV), V),
    _case("histc", lambda T, x: (T.histc(x), T.histc(x, 7, -1, 1), x.histc(4)), X30),
    _case("histc_ties", lambda T, x: (T.histc(x, 5), T.histc(x, 4, 0, 3)), TIES),
    _case("searchsorted", lambda T, s, v: (T.searchsorted(s, v), T.searchsorted(s, v, right=True), T.searchsorted(s, v, side="right", out_int32=True), T.searchsorted(s, 2)), np.sort(IV), I),
    _case("searchsorted_rows", lambda T, s, v: T.searchsorted(s, v), np.sort(F, 1), F[:, :2].copy()),
    _case("bucketize", lambda T, x, b: (T.bucketize(x, b), T.bucketize(x, b, right=True), T.bucketize(2, b)), I, np.sort(IV)),
    _case("linalg_inv_det", lambda T, a: (T.linalg.inv(a), T.inverse(a), T.linalg.det(a), a.det()), SQ),
    _case("linalg_solve", lambda T, a, b: (T.linalg.solve(a, b), T.linalg.solve(a[0], b[0, :, 0]), T.linalg.solve(a, b, left=False)), SQ, SQ[::-1].copy()),
    _case("linalg_cholesky", lambda T, a: (T.linalg.cholesky(a), T.linalg.cholesky(a, upper=True)), SPD),
    _case("linalg_qr", lambda T, a: (T.linalg.qr(a), T.linalg.qr(a, "complete"), T.linalg.qr(a.t(), mode="r")), F),
    _case("linalg_matrix_norm_svd", lambda T, a: (T.linalg.matrix_norm(a, 2), T.linalg.matrix_norm(a, -2), T.linalg.matrix_norm(a, "nuc")), SQ),
]  # fmt: skip


@pytest.mark.parametrize(("fn", "args"), EAGER_ONLY)
def test_eager_only_ops_against_torch(fn: Any, args: Any) -> None:
    run(fn, *args, trace=False)


def _tie_rows(n: int, k: int) -> np.ndarray:
    rows = RNG.integers(0, k, (40, n)).astype(np.float32)
    rows[RNG.random(rows.shape) < 0.1] = np.nan
    return rows


@pytest.mark.parametrize("n", [2, 5, 15, 16, 17, 40, 120])
def test_kthvalue_and_mode_indices_on_ties_are_torchs(n: int) -> None:
    # ported quickselect / std::sort: the same element of a tie, NaN included, as torch's
    rows = _tie_rows(n, 4)
    for k in sorted({1, (n + 1) // 2, n}):
        run(lambda T, x, k=k: T.kthvalue(x, k, 1), rows, trace=False)
    run(lambda T, x: T.mode(x, 1), rows, trace=False)


@pytest.mark.parametrize("bins", [1, 3, 7, 30])
def test_histc_on_edges_is_torchs(bins: int) -> None:
    # values on and near the bin edges: torch's interpolated bin, not a search of the edges
    for div in (3, 7, 10):
        x = (RNG.integers(-20, 21, 60) / div).astype(np.float32)
        run(lambda T, x: (T.histc(x, bins), T.histc(x, bins, -1.3, 0.8)), x, trace=False)


def test_special_functions_special_values() -> None:
    x = np.array(
        [0.0, -0.0, -1, -2.5, 1e-8, -1e-8, np.inf, -np.inf, np.nan, 30, -30.5, 1.4616321, 1e5],
        np.float32,
    )
    run(lambda T, x: (T.lgamma(x), T.digamma(x)), x, trace=False)
    # trigamma at its poles: torch's rounding of sin(pi x) (a huge finite value), as torch
    run(lambda T, x: tuple(T.polygamma(n, x) for n in range(1, 5)), x, trace=False)
    u = np.array([1, -1, 0, -0.0, 1.5, -2, np.nan, 0.999999, -0.9999999, 1e-30], np.float32)
    run(lambda T, u: (T.erfinv(u), T.erfinv(u.double())), u, trace=False)
    run(lambda T, x: T.frexp(x), x, trace=False)


def test_singular_value_decompositions_up_to_sign() -> None:
    # singular vectors and eigenvectors are unique up to sign, and the LAPACK builds (numpy's,
    # torch's) pick different ones: values exactly, vectors up to a sign per vector
    for a in (F, F.T.copy(), SQ):
        for full in (True, False):
            got = xjit.linalg.svd(xjit.from_numpy(a.copy()), full_matrices=full)
            want = pt.linalg.svd(pt.from_numpy(a.copy()), full_matrices=full)
            same(got.S, want.S, "S")
            k = min(a.shape[-2:])
            u, vh = got.U.numpy()[..., :k], got.Vh.numpy()[..., :k, :]
            sign = np.sign(np.sum(u * want.U.numpy()[..., :k], axis=-2, keepdims=True))
            np.testing.assert_allclose(u * sign, want.U.numpy()[..., :k], rtol=RTOL, atol=1e-4)
            np.testing.assert_allclose(
                vh * np.swapaxes(sign, -1, -2), want.Vh.numpy()[..., :k, :], rtol=RTOL, atol=1e-4
            )
            assert got.U.shape == tuple(want.U.shape) and got.Vh.shape == tuple(want.Vh.shape)
    for uplo in ("L", "U"):
        got = xjit.linalg.eigh(xjit.from_numpy(SYM.copy()), uplo)
        want = pt.linalg.eigh(pt.from_numpy(SYM.copy()), uplo)
        same(got.eigenvalues, want.eigenvalues, "eigenvalues")
        g, w = got.eigenvectors.numpy(), want.eigenvectors.numpy()
        np.testing.assert_allclose(np.abs(np.sum(g * w, 0)), 1, rtol=1e-4)


def test_random_like_ops() -> None:
    xjit.manual_seed(0)
    p = xjit.full((4000,), 0.3)
    draws = xjit.bernoulli(p)
    assert draws.dtype == xjit.float32 and set(np.unique(draws.numpy())) <= {0.0, 1.0}
    assert abs(draws.numpy().mean() - 0.3) < 0.04
    assert abs(xjit.zeros(4000).bernoulli(0.8).numpy().mean() - 0.8) < 0.04
    r = xjit.randint_like(xjit.zeros(3, 400, dtype=xjit.int32), 2, 5)
    assert r.dtype == xjit.int32 and r.shape == (3, 400)
    assert set(np.unique(r.numpy())) == {2, 3, 4}
    assert xjit.randint_like(xjit.zeros(2, 2), 7).dtype == xjit.float32
    with pytest.raises(RuntimeError, match="in \\[0, 1\\]"):
        xjit.bernoulli(xjit.tensor([0.5, 1.5]))
    for T in (pt, xjit):
        with pytest.raises(NotImplementedError, match="bernoulli_tensor_cpu_p_"):
            T.bernoulli(T.tensor([0, 1]))


def test_unfold_is_a_view_as_torchs() -> None:
    x = xjit.from_numpy(F.copy())
    w = pt.from_numpy(F.copy())
    for t in (x, w):
        t.unfold(1, 2, 2)[0, 1, 0] = 100.0
    same(x, w, "written through the view")


# -- refusals: eager-only ops in a trace and a script, located ----------------------------------


def _xs(*arrays: np.ndarray) -> tuple[Any, ...]:
    return tuple(xjit.from_numpy(a.copy()) for a in arrays)


@pytest.mark.parametrize(
    ("fn", "what"),
    [
        (lambda x: x.kthvalue(2)[0], "aten::kthvalue is not supported by the compiler"),
        (lambda x: xjit.linalg.inv(x), "aten::linalg_inv is not supported by the compiler"),
        (lambda x: xjit.lgamma(x), "aten::lgamma is not supported by the compiler"),
        (lambda x: xjit.histc(x), "aten::histc is not supported by the compiler"),
        (lambda x: xjit.bincount(x.reshape(-1).long().abs()), "bincount has a result size"),
    ],
)
def test_eager_only_refused_in_trace(fn: Any, what: str) -> None:
    with pytest.raises(TraceError, match=rf"test_ops_breadth2\.py:\d+: {what}"):
        xjit.jit.trace(fn, _xs(SQ[0]))


class _ScriptedSvd(xjit.nn.Module):
    def forward(self, x):
        return xjit.linalg.svd(x)[1]


class _ScriptedMode(xjit.nn.Module):
    def forward(self, x):
        return x.mode(0)[0]


@pytest.mark.parametrize(("cls", "what"), [(_ScriptedSvd, "linalg_svd"), (_ScriptedMode, "mode")])
def test_eager_only_refused_in_script(cls: type, what: str) -> None:
    with pytest.raises(
        FrontendError,
        match=rf"test_ops_breadth2\.py:\d+:\d+: error: aten::{what} is not supported by the compiler",
    ):
        xjit.jit.script(cls())(*_xs(F))


def test_matrix_norm_of_singular_values_refused_when_compiled() -> None:
    with pytest.raises(NotImplementedError, match="ord 2, -2 or 'nuc' is not supported"):
        xjit.jit.trace(lambda x: xjit.linalg.matrix_norm(x, 2), _xs(F))(*_xs(F))


# -- errors, as torch's -------------------------------------------------------------------------

ERRORS = [
    ("T.std_mean(i)", "only support floating point"),
    ("T.nanmean(i)", "expected input to have floating point"),
    ("T.logcumsumexp(i, 0)", "not implemented for 'Long'"),
    ("T.round(i, decimals=1)", "not implemented for 'Long'"),
    ("T.kthvalue(x, 6)", "out of range"),
    ("T.mv(x, x)", "vector \\+ matrix @ vector expected"),
    ("T.mv(x, v.double())", "must have the same dtype"),
    ("T.tensordot(x, i, 1)", "both inputs should have same dtype"),
    ("T.cdist(i, i)", "only supports floating-point dtypes, X1 got: Long"),
    ("T.cdist(x, x.t())", "must have the same number of columns"),
    ("T.rot90(x, 1, [0])", "expected total rotation dims == 2"),
    ("T.rot90(x, 1, [1, 1])", "expected rotation dims to be different"),
    ("T.diff(x[0, 0])", "at least one-dimensional"),
    ("T.trapezoid(b)", "bool is not supported"),
    ("T.block_diag(x[None])", "must have 2 or fewer dimensions"),
    ("T.combinations(x)", "Expect a 1D vector"),
    ("x.unfold(1, 9, 1)", "maximum size for tensor at dimension 1 is 5 but size is 9"),
    ("x.unfold(1, 2, 0)", "step is 0 but must be > 0"),
    ("T.heaviside(x, i)", "different dtypes"),
    ("T.frexp(i)", "only supports floating-point dtypes"),
    ("T.bincount(x)", "not implemented for 'Float'"),
    ("T.bincount(-i[0])", "non-negative integral"),
    ("T.histc(i)", "not implemented for 'Long'"),
    ("T.linalg.inv(i.double())", "square matrices"),
    ("T.linalg.inv(i[:3, :3])", "Expected a floating point"),
    ("T.linalg.inv(T.zeros(3, 3))", "singular"),
    ("T.linalg.det(v)", "at least 2 dimensions"),
    ("T.linalg.solve(x[:, :3], v)", "Incompatible shapes"),
    ("T.linalg.cholesky(-T.eye(3))", "not positive-definite \\(the leading minor of order 1"),
    ("T.linalg.qr(x, 'x')", "unrecognized mode"),
    ("T.linalg.matrix_norm(x, 3)", "Order 3 not supported"),
    ("T.linalg.norm(x[None], 2)", "must be 1D or 2D"),
    ("T.polygamma(-1, x)", "does not support negative n"),
    ("T.quantile(i.float(), 0.5, interpolation='x')", "interpolation must be one of"),
    ("T.quantile(i, 0.5)", "must be either float or double dtype"),
]


@pytest.mark.parametrize(("expr", "match"), ERRORS, ids=[e for e, _ in ERRORS])
def test_errors_as_torch(expr: str, match: str) -> None:
    def raised(T: Any) -> BaseException:
        env = {
            "T": T,
            "x": T.from_numpy(F.copy()),
            "v": T.from_numpy(V.copy()),
            "i": T.from_numpy(I.copy()),
            "b": T.from_numpy(B.copy()),
        }
        with pytest.raises((RuntimeError, NotImplementedError, ValueError)) as info:
            eval(expr, {}, env)  # noqa: S307 - the test's own expressions
        return info.value

    want, got = raised(pt), raised(xjit)
    assert isinstance(got, RuntimeError) == isinstance(want, RuntimeError), (got, want)
    assert isinstance(got, NotImplementedError) == isinstance(want, NotImplementedError)
    for e in (want, got):
        assert re.search(match, str(e)), (str(e), match)


# -- scripted: torch's own TorchScript as the reference -----------------------------------------


def _scripted_ops(T: Any) -> Any:
    class M(T.nn.Module):
        def forward(self, x, i, v):
            s, m = T.std_mean(x, [1], correction=0)
            a = T.var_mean(x)[0] + x.aminmax(dim=0)[1].sum() + T.nansum(x) + T.nanmean(x, 1).sum()
            c = (
                T.cummax(x, 1)[0]
                + T.cummin(x, 0)[1].float()
                + T.logcumsumexp(x, 1)
                + T.round(x, decimals=2)
            )
            d = T.mv(x, v) + T.addmv(x[:, 0], x, v, beta=0.5) + T.addr(x, x[:, 0], v).sum(1)
            e = (
                T.tensordot(x, x.t(), [[1], [0]])
                + T.kron(x[:2, :2], x[:2, :2]).sum()
                + T.cdist(x, x)
            )
            f = (
                T.rot90(x, 1, [0, 1]).sum()
                + T.diff(x).sum()
                + T.trapezoid(x).sum()
                + T.block_diag(x, x).sum()
            )
            g = T.cartesian_prod(v, v).sum() + T.combinations(v).sum() + x.unfold(1, 2, 1).sum()
            h = T.isin(i, i[0]).float() + T.heaviside(x, x) + T.copysign(x, -1.0) + T.ldexp(x, i)
            k = T.linalg.matrix_norm(x, 1) + T.linalg.norm(x) + T.linalg.matrix_norm(x)
            return s, m, a, c, d, e, f, g, h, k

    return M()  # fmt: skip


def test_scripted_against_torchscript() -> None:
    args = (F[:, :4].copy(), I[:, :4].copy(), V[:4].copy())
    want = pt.jit.script(_scripted_ops(pt))(*[pt.from_numpy(a.copy()) for a in args])
    got = xjit.jit.script(_scripted_ops(xjit))(*_xs(*args))
    same(list(got), list(want), "scripted")


# -- torch.special names, 16-bit float names -----------------------------------------------------


def test_special_namespace_against_torch() -> None:
    def fn(T: Any, x: Any) -> Any:
        s = T.special
        return (
            s.gammaln(x),
            s.digamma(x),
            s.psi(x),
            s.polygamma(2, x),
            s.erfinv(x / 3),
            s.erf(x),
            s.expit(x),
            s.logit(x / 3, 0.1),
            s.xlogy(x, x),
            s.log1p(x),
            s.expm1(x),
            s.exp2(x),
            s.logsumexp(x, 1),
        )

    run(fn, np.abs(F) + 0.1, trace=False)

    def compiled(T: Any, x: Any) -> Any:
        s = T.special
        return s.expit(x) + s.logsumexp(x, 0) + s.xlogy(x, x) + s.logit(x, 0.1) + s.log1p(x)

    run(compiled, np.abs(F) + 0.1)


class _ScriptedSpecial(xjit.nn.Module):
    def forward(self, x):
        return xjit.special.expit(x) + xjit.special.logsumexp(x, 0) + xjit.special.log1p(x)


def test_special_namespace_scripted() -> None:
    x = np.abs(F) + 0.1
    got = xjit.jit.script(_ScriptedSpecial())(*_xs(x))
    t = pt.from_numpy(x)
    want = pt.special.expit(t) + pt.special.logsumexp(t, 0) + pt.special.log1p(t)
    same(got, want, "scripted")


class _ScriptedHalf(xjit.nn.Module):
    def forward(self, x):
        return x.to(xjit.float16)


def test_16_bit_float_names_compare_and_refuse() -> None:
    x = xjit.ones(2)
    assert x.dtype != xjit.float16 and xjit.half == xjit.float16 != xjit.bfloat16
    assert xjit.float16.is_floating_point and repr(xjit.bfloat16) == "xjit.bfloat16"
    for make in (
        lambda: xjit.zeros(2, dtype=xjit.float16),
        lambda: x.to(xjit.bfloat16),
        lambda: xjit.tensor([1.0], dtype=xjit.half),
        lambda: xjit.finfo(xjit.float16),
        lambda: x.sum(dtype=xjit.float16),
    ):
        with pytest.raises(TypeError, match="16 is not supported by xjit"):
            make()
    with pytest.raises(TypeError, match="half\\(\\): float16 is not supported"):
        x.half()
    with pytest.raises(FrontendError, match=r"test_ops_breadth2\.py:\d+:\d+: error: no overload"):
        xjit.jit.script(_ScriptedHalf())(x)


@pytest.mark.parametrize(
    "a, b",
    [
        ([True], [True]),  # bool on both sides
        ([1.5], True),  # a Python bool test element
        ([1], [True]),  # a bool tensor of test elements
    ],
)
def test_isin_refuses_bools_as_torch(a: Any, b: Any) -> None:
    """torch's isin has no bool kernel; xjit returned a value where torch raises (op fuzzer)."""

    def make(mod: Any, v: Any) -> Any:
        return mod.tensor(v) if isinstance(v, list) else v

    with pytest.raises(RuntimeError, match="Unsupported input type encountered for isin"):
        pt.isin(make(pt, a), make(pt, b))
    with pytest.raises(RuntimeError, match="Unsupported input type encountered for isin"):
        xjit.isin(make(xjit, a), make(xjit, b))
